"""Orders app data. Issue #4: the cart (an account's, or an anonymous session's).

Issue #5: orders, one farm order (sub-order) per household, lines with a snapshot, and the
record of every status change. Statuses change only through `orders.services` transitions,
which check the tables in `orders.states`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.storage import private_storage


class Cart(models.Model):
    """A buyer's cart: an account's (one each), or an anonymous visitor's, keyed by session."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="cart",
        verbose_name=_("account"),
    )
    # The key the cart was created under. Login cycles the key, so the session also holds
    # the cart's id (orders.sessions.CART_SESSION_KEY) to find it again for the merge.
    session_key = models.CharField(max_length=40, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cart")
        verbose_name_plural = _("carts")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, session_key__isnull=True)
                | Q(user__isnull=True, session_key__isnull=False),
                name="orders_cart_account_xor_session",
            ),
        ]

    def __str__(self):
        return f"cart {self.pk}"

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None


class CartLine(models.Model):
    """One listing in a cart. Prices are never stored for paying: only the last one shown."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("listing")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    # The unit price the buyer last saw: the cart says when the current price differs.
    seen_price = models.PositiveBigIntegerField(_("price last shown (đồng)"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("cart line")
        verbose_name_plural = _("cart lines")
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="orders_cartline_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_cartline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.product_id} × {self.quantity}"


# --- Orders (issue #5) ------------------------------------------------------------------


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
    CONFIRMED = "confirmed", _("Confirmed")
    PROCESSING = "processing", _("Being prepared")
    SHIPPED = "shipped", _("On the way")
    DELIVERED = "delivered", _("Delivered")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")


class PaymentMethod(models.TextChoices):
    COD = "cod", _("Cash on delivery")
    STRIPE = "stripe", _("Card (Stripe)")
    VIETQR = "vietqr", _("Bank transfer (VietQR)")


class FarmOrderStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    NEW = "new", _("New")
    ACCEPTED = "accepted", _("Accepted")
    READY = "ready", _("Ready for pickup")
    PICKED_UP = "picked_up", _("Picked up")
    DELIVERED = "delivered", _("Delivered")
    REJECTED = "rejected", _("Rejected by the household")
    CANCELLED = "cancelled", _("Cancelled")
    FAILED_DELIVERY = "failed_delivery", _("Delivery failed")
    RETURNED = "returned", _("Returned to the household")


class Order(models.Model):
    """One checkout: what the buyer pays and where it goes. Households fulfil its farm orders."""

    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders", verbose_name=_("buyer")
    )
    # `CN-DDMM-NNNN`, read over the phone; see `orders.services.order_number_new`.
    number = models.CharField(_("order number"), max_length=16, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT
    )
    payment_status = models.CharField(
        _("payment status"), max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    payment_method = models.CharField(
        _("payment method"), max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.COD
    )
    subtotal = models.PositiveBigIntegerField(_("subtotal (đồng)"))
    delivery_fee = models.PositiveBigIntegerField(_("delivery fee (đồng)"))
    total = models.PositiveBigIntegerField(_("total (đồng)"))
    # Where it goes, copied at checkout: a later change to the buyer's profile changes nothing here.
    delivery_name = models.CharField(_("recipient"), max_length=120)
    delivery_phone = models.CharField(_("recipient's phone"), max_length=32)
    delivery_address = models.CharField(_("delivery address"), max_length=200)
    delivery_ward = models.ForeignKey(
        "geo.Ward", on_delete=models.PROTECT, related_name="+", verbose_name=_("delivery ward")
    )
    note = models.TextField(_("note"), blank=True)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    # Weight of the goods when ordered (kg), which the delivery fee was quoted on.
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=12, decimal_places=3, default=0)
    # Set once when the buyer refused the goods at the door (counts against cash on delivery).
    delivery_refused_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["buyer", "-created_at"], name="orders_order_buyer_newest")]
        constraints = [
            models.CheckConstraint(
                condition=Q(total=models.F("subtotal") + models.F("delivery_fee")),
                name="orders_order_total_adds_up",
            ),
        ]

    def __str__(self):
        return self.number


class FarmOrder(models.Model):
    """One household's part of an order: it accepts, prepares and hands over its own lines."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="farm_orders")
    farm = models.ForeignKey(
        "farms.Farm", on_delete=models.PROTECT, related_name="farm_orders", verbose_name=_("household")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=FarmOrderStatus.choices, default=FarmOrderStatus.AWAITING_PAYMENT
    )
    subtotal = models.PositiveBigIntegerField(_("subtotal (đồng)"))
    # When the household was first shown this part (it became `new`); empty: never shown.
    released_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The carrier's shipment, booked when the part is ready (issue #7).
    shipment = models.OneToOneField(
        "logistics.Shipment", on_delete=models.PROTECT, null=True, blank=True, related_name="farm_order"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("household order")
        verbose_name_plural = _("household orders")
        indexes = [models.Index(fields=["farm", "status"], name="orders_farmorder_farm_status")]
        constraints = [
            models.UniqueConstraint(fields=["order", "farm"], name="orders_farmorder_one_per_farm"),
        ]

    def __str__(self):
        return f"{self.order_id}/{self.farm_id}"


class OrderLine(models.Model):
    """One listing bought, with a snapshot of what was sold: later edits to the listing change nothing."""

    farm_order = models.ForeignKey(FarmOrder, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey(
        "farms.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("listing")
    )
    product_name = models.CharField(_("product name"), max_length=120)
    unit = models.CharField(_("unit"), max_length=8)
    unit_price = models.PositiveBigIntegerField(_("unit price (đồng)"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    line_total = models.PositiveBigIntegerField(_("line total (đồng)"))
    # What the household weighed when it packed a line sold by weight (within ±10% of `quantity`);
    # `line_total` then follows it, never above what the buyer authorised at checkout.
    actual_quantity = models.DecimalField(
        _("weighed quantity"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    # Set when the line's stock goes back to the listing: it goes back once, whatever path cancels.
    stock_returned_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["farm_order", "id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_orderline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.product_name} × {self.quantity}"


class StatusChange(models.Model):
    """One status change of an order (`farm_order` empty) or of one of its farm orders.

    One table for both levels, so an order's timeline is one indexed query in time order.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    farm_order = models.ForeignKey(
        FarmOrder, on_delete=models.CASCADE, null=True, blank=True, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        indexes = [models.Index(fields=["order", "at"], name="orders_statuschange_timeline")]

    def __str__(self):
        level = f"farm order {self.farm_order_id}" if self.farm_order_id else f"order {self.order_id}"
        return f"{level}: {self.from_status} → {self.to_status}"


# --- Payments (issue #5: the interface and cash on delivery) ---------------------------


class PaymentRecordStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    # Money that came for an order no longer waiting for it (cancelled, expired, or paid by
    # another attempt), given back in full: it does not count in the order's payment status.
    RETURNED = "returned", _("Not needed: given back")


class Payment(models.Model):
    """One payment of an order through one provider (`orders.payments`).

    Cash on delivery is `pending` until the courier collects the cash, then `paid`.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(_("method"), max_length=16, choices=PaymentMethod.choices)
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    status = models.CharField(
        _("status"), max_length=12, choices=PaymentRecordStatus.choices, default=PaymentRecordStatus.PENDING
    )
    # Attempts of one order count from 1: a buyer who pays again opens attempt 2, and a
    # provider's idempotency key is derived from the payment (order and attempt).
    attempt = models.PositiveSmallIntegerField(default=1)
    # The provider's own id for it (a Stripe Checkout Session, a transfer reference).
    reference = models.CharField(_("provider reference"), max_length=120, blank=True)
    # Where the buyer pays (a hosted payment page), and until when it is open.
    pay_url = models.URLField(_("payment page"), max_length=500, blank=True)
    expires_at = models.DateTimeField(_("open until"), null=True, blank=True)
    # The provider's id of the money itself (a Stripe PaymentIntent), needed to refund it.
    intent = models.CharField(max_length=120, blank=True, db_index=True)
    paid_amount = models.PositiveBigIntegerField(_("amount received (đồng)"), default=0)
    refunded_amount = models.PositiveBigIntegerField(_("amount refunded (đồng)"), default=0)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=models.F("paid_amount")),
                name="orders_payment_refund_not_over_paid",
            ),
            models.UniqueConstraint(fields=["order", "attempt"], name="orders_payment_one_per_attempt"),
        ]
        indexes = [models.Index(fields=["method", "reference"], name="orders_payment_reference")]

    def __str__(self):
        return f"{self.method} {self.amount} ({self.status})"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Being sent")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed: staff will look")


class Refund(models.Model):
    """Money given back on a payment. `key` makes each refund happen once, whatever retries it.

    The books change when the refund is decided (in the transaction that cancels); the money
    moves after commit, in the `orders.send_refund` task, with `key` as the provider's
    idempotency key, so a retried task never refunds twice.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    key = models.CharField(max_length=80, unique=True)
    amount = models.PositiveBigIntegerField(_("amount (đồng)"))
    reason = models.TextField(_("reason"), blank=True)
    reference = models.CharField(_("provider reference"), max_length=120, blank=True)
    status = models.CharField(max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    # Where the refund came from: decided here, or made in the provider's dashboard (charge.refunded).
    external = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    # When a sender last took it: one sender at a time (a lease), whatever retries or sweeps run.
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="orders_refund_amount_positive")
        ]

    def __str__(self):
        return f"{self.key}: {self.amount}"


class CodStanding(models.Model):
    """A buyer's record with cash on delivery: refused deliveries since staff last restored it."""

    buyer = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cod_standing",
        verbose_name=_("buyer"),
    )
    refusals = models.PositiveSmallIntegerField(_("refused deliveries"), default=0)
    suspended_at = models.DateTimeField(_("cash on delivery suspended at"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("cash-on-delivery standing")
        verbose_name_plural = _("cash-on-delivery standings")

    def __str__(self):
        return f"{self.buyer_id}: {self.refusals}"

    @property
    def suspended(self) -> bool:
        return self.suspended_at is not None


class OrderNotice(models.Model):
    """A notice sent about an order, once: a task that runs twice finds its key and sends nothing."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notices")
    key = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "key"], name="orders_ordernotice_once")]

    def __str__(self):
        return f"{self.order_id}: {self.key}"


class WebhookEvent(models.Model):
    """A provider's event, stored once by its id before anything acts on it (DESIGN.md house rule 8)."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=120)
    type = models.CharField(max_length=80)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="orders_webhookevent_once"),
        ]

    def __str__(self):
        return f"{self.provider} {self.type} {self.event_id}"


# --- Problems after delivery, produce lost on the way, the settlement ledger (issue #7) ----------


class ProblemKind(models.TextChoices):
    MISSING = "missing", _("Less than ordered")
    DAMAGED = "damaged", _("Damaged or crushed")
    NOT_FRESH = "not_fresh", _("Not fresh")
    WRONG_ITEM = "wrong_item", _("Not what was ordered")
    OTHER = "other", _("Something else")


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("Waiting for an answer")
    RESOLVED = "resolved", _("Refunded")
    DECLINED = "declined", _("Declined")


class Problem(models.Model):
    """A buyer's report about a delivered line, within PROBLEM_REPORT_HOURS of delivery.

    The household or staff resolve it with a refund (of at most what the line cost) that
    reverses the household's ledger entry for that part, or decline it with a reason.
    """

    farm_order = models.ForeignKey(FarmOrder, on_delete=models.PROTECT, related_name="problems")
    line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="problems")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(_("what is wrong"), max_length=16, choices=ProblemKind.choices)
    quantity = models.DecimalField(_("quantity affected"), max_digits=12, decimal_places=3)
    description = models.TextField(_("description"), blank=True)
    # Private: only the buyer, the household and staff may see it (`GET problems/{id}/photo/`).
    photo = models.ImageField(_("photo"), upload_to="problems/%Y/%m/", blank=True, storage=private_storage)
    status = models.CharField(max_length=16, choices=ProblemStatus.choices, default=ProblemStatus.OPEN)
    refund_amount = models.PositiveBigIntegerField(_("refund (đồng)"), default=0)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("problem report")
        verbose_name_plural = _("problem reports")
        indexes = [models.Index(fields=["farm_order", "status"], name="orders_problem_open")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_problem_quantity_positive"),
            # One report waiting at a time per line: a second is an update of the first.
            models.UniqueConstraint(
                fields=["line"], condition=Q(status="open"), name="orders_problem_one_open_per_line"
            ),
        ]

    def __str__(self):
        return f"problem {self.pk} on line {self.line_id} ({self.status})"


class ProduceLoss(models.Model):
    """Perishables that came back undelivered: a loss for the household, not stock to sell again."""

    line = models.OneToOneField(OrderLine, on_delete=models.PROTECT, related_name="loss")
    farm = models.ForeignKey("farms.Farm", on_delete=models.PROTECT, related_name="losses")
    product = models.ForeignKey("farms.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    value = models.PositiveBigIntegerField(_("value (đồng)"))
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("produce lost")
        verbose_name_plural = _("produce lost")

    def __str__(self):
        return f"loss of line {self.line_id}"


class LedgerKind(models.TextChoices):
    SALE = "sale", _("Delivered")
    REFUND = "refund", _("Refund")
    PAYOUT = "payout", _("Payout")


class LedgerEntry(models.Model):
    """One movement of a household's money with the marketplace, in whole đồng.

    A sale (a delivered part) and a refund (its reversal, negative amounts) carry gross,
    commission, tax and net = gross − commission − tax; a payout carries only net = −amount
    with the bank transfer's reference. The household's balance is the sum of `net`. `key`
    makes each entry happen once ("sale:<farm order>", "refund:<problem>", "payout:<uuid>").
    """

    farm = models.ForeignKey("farms.Farm", on_delete=models.PROTECT, related_name="ledger")
    farm_order = models.ForeignKey(
        FarmOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    kind = models.CharField(max_length=8, choices=LedgerKind.choices)
    key = models.CharField(max_length=80, unique=True)
    gross = models.BigIntegerField(_("gross (đồng)"), default=0)
    commission = models.BigIntegerField(_("commission (đồng)"), default=0)
    tax = models.BigIntegerField(_("tax withheld (đồng)"), default=0)
    net = models.BigIntegerField(_("net (đồng)"))
    reference = models.CharField(_("bank transfer reference"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [models.Index(fields=["farm", "at"], name="orders_ledger_statement")]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="payout", gross=0, commission=0, tax=0, net__lt=0)
                | (~Q(kind="payout") & Q(net=models.F("gross") - models.F("commission") - models.F("tax"))),
                name="orders_ledger_net_adds_up",
            ),
            models.CheckConstraint(
                condition=~Q(kind="payout") | ~Q(reference=""), name="orders_ledger_payout_has_reference"
            ),
        ]

    def __str__(self):
        return f"{self.key}: {self.net}"
