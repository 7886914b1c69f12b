"""Logistics data: delivery zones of wards, their fees and their routes (issues #5, #7).

`logistics` knows nothing of orders: it quotes fees for a ward and a weight, and (from #7 on)
carries shipments. Every ward is in exactly one zone (`ZoneWard.ward` is one-to-one, and the
seed puts all 103 in one); a zone's wards, in `position` order, are its route.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Zone(models.Model):
    """A delivery zone: a base fee covering some kilograms, a surcharge per extra kg, free over a value."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    name_en = models.CharField(_("name in English"), max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    base_fee = models.PositiveBigIntegerField(_("base fee (đồng)"))
    included_kg = models.PositiveIntegerField(_("kilograms the base fee covers"), default=5)
    per_kg_fee = models.PositiveBigIntegerField(_("fee per extra kilogram (đồng)"), default=0)
    # An order whose goods are worth at least this much travels free; empty: never free.
    free_over = models.PositiveBigIntegerField(_("free delivery from (đồng)"), null=True, blank=True)
    # Couriers who work this zone: its runs are assigned to one of them, or claimed by one.
    couriers = models.ManyToManyField(
        "accounts.User",
        blank=True,
        related_name="courier_zones",
        limit_choices_to={"role": "courier"},
        verbose_name=_("couriers"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("delivery zone")
        verbose_name_plural = _("delivery zones")
        constraints = [
            models.CheckConstraint(
                condition=Q(free_over__isnull=True) | Q(free_over__gt=0),
                name="logistics_zone_free_over_positive",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return self.name_en if (get_language() or "vi").startswith("en") else self.name


class ZoneWard(models.Model):
    """A ward's place in its zone's route: each ward in exactly one zone."""

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="route", verbose_name=_("zone"))
    ward = models.OneToOneField(
        "geo.Ward", on_delete=models.CASCADE, related_name="zone_place", verbose_name=_("ward")
    )
    position = models.PositiveSmallIntegerField(_("order on the route"), default=0)

    class Meta:
        ordering = ["zone", "position", "ward"]
        verbose_name = _("ward of a zone")
        verbose_name_plural = _("wards of a zone")

    def __str__(self):
        return f"{self.zone_id}/{self.position}: {self.ward_id}"


class Run(models.Model):
    """A collection run: one courier's pickups in a zone on a day, then the drop-offs.

    Built by `build_collection_runs` from the booked shipments picked up in the zone; the stops'
    order is not stored but read from the zone routes (`logistics.selectors.run_stops`).
    """

    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="runs", verbose_name=_("zone"))
    date = models.DateField(_("date"))
    # Runs built later the same day for the same zone (after a second cut-off) count on.
    number = models.PositiveSmallIntegerField(default=1)
    courier = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
        limit_choices_to={"role": "courier"},
        verbose_name=_("courier"),
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "zone__position", "number"]
        verbose_name = _("collection run")
        verbose_name_plural = _("collection runs")
        constraints = [
            models.UniqueConstraint(fields=["zone", "date", "number"], name="logistics_run_one_number"),
        ]
        indexes = [models.Index(fields=["courier", "date"], name="logistics_run_courier_day")]

    def __str__(self):
        return f"{self.date} {self.zone} #{self.number}"


class CashHandover(models.Model):
    """Cash a courier handed in to staff: what couriers collected is owed until handed in."""

    courier = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="cash_handovers", verbose_name=_("courier")
    )
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    received_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("received by")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("cash handed in")
        verbose_name_plural = _("cash handed in")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="logistics_cash_positive")]

    def __str__(self):
        return f"{self.courier_id}: {self.amount}"


class ShipmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    PICKED_UP = "picked_up", _("Picked up")
    IN_TRANSIT = "in_transit", _("On the way")
    DELIVERED = "delivered", _("Delivered")
    FAILED_ATTEMPT = "failed_attempt", _("Delivery attempt failed")
    RETURNED = "returned", _("Returned to the sender")
    CANCELLED = "cancelled", _("Cancelled")


class Shipment(models.Model):
    """Goods to carry from a pickup to a drop-off, for whoever booked them (`reference`).

    `logistics` knows nothing of orders: the reference is the booker's, and state changes are
    announced through `logistics.hooks.shipment_changed`.
    """

    carrier = models.CharField(_("carrier"), max_length=32)
    # The booker's key: booking the same reference twice gives the same shipment.
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    # What the booker writes on the parcel for people to read (orders: the order number); the
    # courier's pages show it with the household (`pickup_name`), never the `reference` key.
    label = models.CharField(_("label on the parcel"), max_length=64, blank=True, default="")
    pickup_ward = models.ForeignKey("geo.Ward", on_delete=models.PROTECT, related_name="+")
    pickup_address = models.CharField(max_length=200)
    pickup_name = models.CharField(max_length=120)
    pickup_phone = models.CharField(max_length=32)
    dropoff_ward = models.ForeignKey("geo.Ward", on_delete=models.PROTECT, related_name="+")
    dropoff_address = models.CharField(max_length=200)
    dropoff_name = models.CharField(max_length=120)
    dropoff_phone = models.CharField(max_length=32)
    weight_kg = models.DecimalField(max_digits=12, decimal_places=3)
    cash_to_collect = models.PositiveBigIntegerField(default=0)
    # The buyer's day: a shipment joins no run before it (empty: as soon as possible).
    deliver_on = models.DateField(_("deliver on"), null=True, blank=True)
    cash_collected = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.BOOKED)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    run = models.ForeignKey(
        Run, on_delete=models.PROTECT, null=True, blank=True, related_name="shipments", verbose_name=_("run")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        indexes = [models.Index(fields=["status", "dropoff_ward"], name="logistics_shipment_open")]

    def __str__(self):
        return f"{self.reference} ({self.status})"


class ShipmentEvent(models.Model):
    """One step of a shipment, as the courier recorded it."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(max_length=16, choices=ShipmentStatus.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cash_collected = models.PositiveBigIntegerField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.shipment_id}: {self.type}"
