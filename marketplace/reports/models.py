"""Rollups of sales for officials (issue #8), by the Cần Thơ day an order was placed.

Officials' pages and the stats API read only these tables, never orders. Two facts of sales:
- `SalesFact`: sums per (day, household, its ward, category, product, payment method,
  certified), small enough to sum over any range at once;
- `OrderLineFact`: one narrow row per order line (ids and flags only), so distinct orders,
  buyers and households can be counted exactly over any range and any filter.
Both are rebuilt per day (`marketplace.reports.rollups.rollups_rebuild`): a day's rows are
replaced as a whole, so a rebuild run twice gives the same rows. `SalesCube` is made from them
(`marketplace.reports.cube`) for reads of long ranges.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from marketplace.storage import private_storage


class SalesFact(models.Model):
    day = models.DateField(_("day"))
    farm = models.ForeignKey("farms.Farm", on_delete=models.CASCADE, related_name="+")
    # The household's ward (officials are scoped by the wards of the households they look after).
    ward = models.ForeignKey("geo.Ward", on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey("farms.Category", on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("farms.Product", on_delete=models.CASCADE, related_name="+")
    payment_method = models.CharField(max_length=16)
    # The household had a verified certificate (VietGAP, OCOP, …) valid that day.
    certified = models.BooleanField()
    unit = models.CharField(max_length=8)
    # Lines not cancelled (cancelled, rejected or returned parts count only in `cancelled`).
    orders = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    quantity = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    quantity_kg = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    # Money in whole đồng. `gross` is the lines' value without delivery fees; `gross_kg` the part
    # of it whose weight is known (price per kg = gross_kg / quantity_kg).
    gross = models.BigIntegerField(default=0)
    gross_kg = models.BigIntegerField(default=0)
    cancelled = models.BigIntegerField(default=0)
    refunded = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)
    # Lowest and highest price per kg a line was sold at (null: no weight known).
    price_min_kg = models.DecimalField(max_digits=18, decimal_places=3, null=True)
    price_max_kg = models.DecimalField(max_digits=18, decimal_places=3, null=True)

    class Meta:
        verbose_name = _("sales fact")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "farm", "ward", "category", "product", "payment_method", "certified"],
                name="reports_salesfact_one_cell",
            )
        ]
        indexes = [
            models.Index(fields=["day", "ward"], name="reports_sales_day_ward"),
            models.Index(fields=["product", "day"], name="reports_sales_product_day"),
        ]

    def __str__(self):
        return f"{self.day} farm {self.farm_id} product {self.product_id}: {self.gross}"


class OrderLineFact(models.Model):
    """One order line, as ids: exact distinct counts of orders, buyers and households."""

    day = models.DateField()
    order_id = models.BigIntegerField()
    buyer_id = models.BigIntegerField(null=True)
    farm_id = models.BigIntegerField()
    ward_id = models.CharField(max_length=5)
    category_id = models.BigIntegerField()
    product_id = models.BigIntegerField()
    payment_method = models.CharField(max_length=16)
    certified = models.BooleanField()
    # False for a line of a cancelled, rejected or returned part.
    live = models.BooleanField()

    class Meta:
        indexes = [
            models.Index(fields=["day", "ward_id"], name="reports_linefact_day_ward"),
            # The distinct counts of the dashboard's top products and households, for those only.
            models.Index(fields=["product_id", "day"], name="reports_linefact_product_day"),
            models.Index(fields=["farm_id", "day"], name="reports_linefact_farm_day"),
        ]

    def __str__(self):
        return f"{self.day} order {self.order_id} product {self.product_id}"


class SalesCube(models.Model):
    """A cell of the sales cube (`marketplace.reports.cube`): sums and sets for one period and key.

    `cuboid` names the dimensions the cell has (`cube.CUBOIDS`); the others hold their absent
    value ('' or 0, `certified` null). `orders`, `buyers` and `farms` are the live lines' ids as
    serialized Roaring bitmaps, so cells of any periods and keys union to exact distinct counts;
    `orders_n`, `buyers_n` and `farms_n` are their sizes, read where no union is needed.
    """

    cuboid = models.PositiveSmallIntegerField()
    period = models.CharField(max_length=1)  # d day, w ISO week (Monday), m month
    start = models.DateField()
    ward_id = models.CharField(max_length=5, default="")
    category_id = models.BigIntegerField(default=0)
    payment_method = models.CharField(max_length=16, default="")
    certified = models.BooleanField(null=True)
    farm_id = models.BigIntegerField(default=0)
    product_id = models.BigIntegerField(default=0)
    quantity_kg = models.DecimalField(max_digits=18, decimal_places=3, default=0)
    gross = models.BigIntegerField(default=0)
    cancelled = models.BigIntegerField(default=0)
    refunded = models.BigIntegerField(default=0)
    delivered = models.BigIntegerField(default=0)
    orders_n = models.PositiveIntegerField(default=0)
    buyers_n = models.PositiveIntegerField(default=0)
    farms_n = models.PositiveIntegerField(default=0)
    orders = models.BinaryField()
    buyers = models.BinaryField()
    farms = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["cuboid", "period", "start"], name="reports_cube_cell")]

    def __str__(self):
        return f"cuboid {self.cuboid} {self.period} {self.start}"


class FulfilmentFact(models.Model):
    """How households' parts of the orders placed on a day went, per household ward.

    Counts are of farm orders (parts) that reached a household (`released_at` set). `lead_seconds`
    sums, over the delivered parts, the whole seconds from the order being placed to the part's
    `delivered` status change (integer seconds: exact sums over any range, hours computed when read);
    `lead_count` is how many parts that sum covers. Built by `marketplace.reports.operations`.
    """

    day = models.DateField(_("day"))
    ward = models.ForeignKey("geo.Ward", on_delete=models.PROTECT, related_name="+")
    parts = models.PositiveIntegerField(default=0)
    delivered = models.PositiveIntegerField(default=0)
    lead_seconds = models.BigIntegerField(default=0)
    lead_count = models.PositiveIntegerField(default=0)
    # Delivered after the buyer's delivery date, or DELIVERY_LATE_HOURS after release without one.
    late = models.PositiveIntegerField(default=0)
    # Parts with at least one failed delivery attempt (delivered or returned in the end).
    failed = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    # Cancelled or rejected after release; `unanswered` is the part of them the deadline sweep cancelled.
    cancelled = models.PositiveIntegerField(default=0)
    unanswered = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("fulfilment fact")
        constraints = [
            models.UniqueConstraint(fields=["day", "ward"], name="reports_fulfilmentfact_one_cell")
        ]

    def __str__(self):
        return f"{self.day} {self.ward_id}: {self.delivered}/{self.parts}"


class RegistrationFact(models.Model):
    """Households' registrations and verification decisions of a day, per household ward.

    `backlog` is the number of households waiting for verification at the end of that day
    (computed from registrations and decisions, so a rebuild of a past day gives that day's
    backlog). A row exists for every (day, ward) with an event or a backlog.
    """

    day = models.DateField(_("day"))
    ward = models.ForeignKey("geo.Ward", on_delete=models.PROTECT, related_name="+")
    new = models.PositiveIntegerField(default=0)
    verified = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    backlog = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("registration fact")
        constraints = [
            models.UniqueConstraint(fields=["day", "ward"], name="reports_registrationfact_one_cell")
        ]

    def __str__(self):
        return f"{self.day} {self.ward_id}: +{self.new}, backlog {self.backlog}"


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Being prepared")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(models.Model):
    """An export of a long range, prepared by a task; its file is private to the official who asked."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    file_format = models.CharField(max_length=4)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True, storage=private_storage)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("statistics export")
        verbose_name_plural = _("statistics exports")

    def __str__(self):
        return f"{self.kind}.{self.file_format} for {self.user_id} ({self.status})"


class ReportSubscription(models.Model):
    """An official who receives the monthly XLSX report by email (their wards, the month before)."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="report_subscription")
    # The first day of the last month sent: sending a month twice sends nothing.
    last_sent_month = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("monthly report subscription")
        verbose_name_plural = _("monthly report subscriptions")

    def __str__(self):
        return f"{self.user_id}: {self.last_sent_month}"
