"""Orders' entries in the personal data registry (`marketplace.accounts.personal_data`).

Orders also registers the carrier's copies of its contacts (`logistics.Shipment`,
`ShipmentEvent`): logistics knows nothing of orders, so only orders can tell whose they are.
"""

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.urls import reverse

from logistics.models import Shipment, ShipmentEvent
from marketplace.accounts.personal_data import (
    Kind,
    blank,
    keep,
    personal_data_exempt,
    personal_data_register,
    replace,
)
from marketplace.accounts.personal_data_own import ACTOR

from .models import (
    Cart,
    CodStanding,
    LedgerEntry,
    Order,
    OrderLine,
    Payment,
    Problem,
    Refund,
    StatusChange,
    WebhookEvent,
)

ACCOUNTING = (
    "an accounting record the household's books and taxes rest on (the Law on Accounting keeps "
    "vouchers for 10 years)"
)
# Keys of a provider's event that describe the payer (Stripe's customer_details,
# billing_details, shipping; a bank's counterAccountName): dropped, the rest is kept.
PAYER_KEY_PARTS = ("name", "email", "phone", "address", "account", "shipping", "billing", "customer")


def _without_payer(value):
    if isinstance(value, dict):
        return {
            key: _without_payer(item)
            for key, item in value.items()
            if not any(part in key.lower() for part in PAYER_KEY_PARTS)
        }
    if isinstance(value, list):
        return [_without_payer(item) for item in value]
    return value


def _webhook_rows(user, **_kwargs):
    """A provider's events about the person's payments: they name the order, session or intent."""
    payments = Payment.objects.filter(order__buyer=user)
    needles = {value for pair in payments.values_list("reference", "intent") for value in pair if value}
    for number in Order.objects.filter(buyer=user).values_list("number", flat=True):
        needles |= {number, number.replace("-", "")}  # banks may drop the dashes
    if not needles:
        return WebhookEvent.objects.none()
    found = Q()
    for needle in needles:
        found |= Q(payload_text__contains=needle)
    return WebhookEvent.objects.annotate(payload_text=Cast("payload", TextField())).filter(found)


def register() -> None:
    personal_data_register(Cart, owner="user", fields=[], context=("created_at",), delete_rows=True)
    personal_data_exempt(
        Cart, {"session_key": "an anonymous visitor's session key; the cart of an account has none"}
    )
    personal_data_register(
        Order,
        owner="buyer",
        fields=[
            blank("delivery_name", Kind.NAME),
            blank("delivery_phone", Kind.PHONE),
            blank("delivery_address", Kind.ADDRESS),
            blank("note", Kind.TEXT),
        ],
        context=("number", "created_at", "delivery_ward", "total"),
    )
    personal_data_exempt(OrderLine, {"product_name": "the listing's name when it was sold"})
    # An order's timeline: notes the person wrote (a cancel reason, a courier's or a household's
    # note) and every note on the person's own orders (they may quote the buyer).
    personal_data_register(
        StatusChange,
        label="orders.statuschange (written)",
        owner="by",
        fields=[blank("note", Kind.TEXT)],
        context=("order", "from_status", "to_status", "at"),
    )
    personal_data_register(
        StatusChange,
        label="orders.statuschange (on own orders)",
        owner="order__buyer",
        fields=[blank("note", Kind.TEXT)],
        context=("order", "from_status", "to_status", "at"),
    )
    # A refund's reason may be the buyer's own cancel reason, copied.
    personal_data_register(
        Refund,
        owner="payment__order__buyer",
        fields=[blank("reason", Kind.TEXT)],
        context=("key", "amount", "status", "created_at"),
    )
    personal_data_exempt(
        Refund, {"error": "the provider's technical answer to a refund, for staff (no payer data)"}
    )
    personal_data_register(
        CodStanding,
        owner="buyer",
        fields=[blank("refusals", Kind.RECORD), blank("suspended_at", Kind.RECORD)],
        delete_rows=True,
    )
    personal_data_exempt(CodStanding, {"restored_by": ACTOR})
    personal_data_register(
        WebhookEvent,
        rows=_webhook_rows,
        fields=[replace("payload", Kind.RECORD, lambda event: _without_payer(event.payload))],
        context=("provider", "type", "received_at"),
    )
    personal_data_exempt(
        WebhookEvent, {"error": "why processing the event failed, for staff (no payer data)"}
    )
    # The buyer's report after delivery: what they wrote and the photo they took.
    personal_data_register(
        Problem,
        owner="farm_order__order__buyer",
        fields=[
            blank("description", Kind.TEXT),
            blank("photo", Kind.FILE),
            blank("answer", Kind.TEXT),  # the reply to the person, which may quote them
        ],
        context=("kind", "quantity", "status", "refund_amount", "created_at"),
        file_url=lambda problem, _name: reverse("problem-photo", args=[problem.pk]),
    )
    personal_data_exempt(Problem, {"reported_by": ACTOR, "answered_by": ACTOR})
    personal_data_register(
        LedgerEntry,
        owner="farm__owner",
        fields=[keep("note", Kind.TEXT, ACCOUNTING), keep("reference", Kind.BANK, ACCOUNTING)],
        context=("kind", "key", "gross", "commission", "tax", "net", "at"),
    )
    personal_data_exempt(LedgerEntry, {"by": ACTOR})
    # The carrier's copies: the buyer's drop-off contact and the household's pickup contact.
    personal_data_register(
        Shipment,
        label="logistics.shipment (drop-off)",
        owner="farm_order__order__buyer",
        fields=[
            blank("dropoff_name", Kind.NAME),
            blank("dropoff_phone", Kind.PHONE),
            blank("dropoff_address", Kind.ADDRESS),
        ],
        context=("reference", "status", "created_at"),
    )
    personal_data_register(
        Shipment,
        label="logistics.shipment (pickup)",
        owner="farm_order__farm__owner",
        fields=[
            blank("pickup_name", Kind.NAME),
            blank("pickup_phone", Kind.PHONE),
            blank("pickup_address", Kind.ADDRESS),
        ],
        context=("reference", "status", "created_at"),
    )
    # A courier's note on a delivery is about the buyer at the door.
    personal_data_register(
        ShipmentEvent,
        owner="shipment__farm_order__order__buyer",
        fields=[blank("note", Kind.TEXT)],
        context=("type", "at", "cash_collected"),
    )
