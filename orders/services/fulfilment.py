"""Cancelling and the household's answer: buyers cancel until a household accepts, households
accept or reject their part. `farm_orders_move` settles parts that leave (stock back once,
amounts owed shrink, a paid share refunded once: `orders.services.settle`), and everyone
concerned is told by a task enqueued after commit.
"""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace.errors import Conflict
from marketplace.outbox.services import enqueue

from ..models import FarmOrder, FarmOrderStatus, Order, OrderLine, OrderNotice, OrderStatus
from ..selectors import line_total
from .cod import cod_cash_rebalance
from .orders import farm_order_transition, farm_orders_move

#: A buyer may cancel a household's part until the household accepts it.
BUYER_CANCELLABLE = frozenset({FarmOrderStatus.AWAITING_PAYMENT, FarmOrderStatus.NEW})
REASON_MAX = 500


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": [_("Tell the buyer why, in a few words.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("Use at most %(max)s characters.") % {"max": REASON_MAX}]})
    return reason


@transaction.atomic
def order_cancel(*, order: Order, by, reason: str = "", farm_order_ids: list[int] | None = None) -> Order:
    """Cancel an order for its buyer: every part still cancellable, or the parts named.

    A household that has accepted keeps its part (409 `not_cancellable` when nothing is left
    to cancel, or a named part is past `new`).
    """
    reason = _reason(reason, required=False)
    order = Order.objects.select_for_update().get(pk=order.pk)
    parts = list(order.farm_orders.values_list("pk", "status"))
    if farm_order_ids is None:
        chosen = [pk for pk, status in parts if status in BUYER_CANCELLABLE]
    else:
        known = dict(parts)
        unknown = [pk for pk in farm_order_ids if pk not in known]
        if unknown:
            raise ValidationError({"farm_orders": [_("Choose only parts of this order.")]})
        chosen = [pk for pk in dict.fromkeys(farm_order_ids) if known[pk] in BUYER_CANCELLABLE]
        if len(chosen) != len(set(farm_order_ids)):
            chosen = []
    if not chosen:
        if order.status == OrderStatus.CANCELLED:
            message = _("This order is already cancelled.")
        elif farm_order_ids is not None:
            message = _("Only parts no household has accepted yet can be cancelled.")
        else:
            message = _("A household has already accepted this order, so it can no longer be cancelled here.")
        raise Conflict(
            message,
            code="not_cancellable",
            status=order.status,
        )
    informed = [pk for pk, status in parts if pk in chosen and status != FarmOrderStatus.AWAITING_PAYMENT]
    farm_orders_move(order=order, farm_order_ids=chosen, to=FarmOrderStatus.CANCELLED, by=by, note=reason)
    from ..tasks import notify_after_commit

    notify_after_commit(order.pk, "cancelled", chosen, informed)
    order.refresh_from_db()
    return order


@transaction.atomic
def farm_order_reject(*, farm_order: FarmOrder, by, reason: str) -> FarmOrder:
    """The household refuses its part (with a reason for the buyer); stock comes back."""
    reason = _reason(reason, required=True)
    order = Order.objects.select_for_update().get(pk=farm_order.order_id)
    moved = farm_orders_move(
        order=order, farm_order_ids=[farm_order.pk], to=FarmOrderStatus.REJECTED, by=by, note=reason
    )
    from ..tasks import notify_after_commit

    notify_after_commit(order.pk, "rejected", [farm_order.pk], [])
    return moved[0]


@transaction.atomic
def farm_order_accept(*, farm_order: FarmOrder, by) -> FarmOrder:
    """The household takes its part on: from now on the buyer can no longer cancel it."""
    order = Order.objects.select_for_update().get(pk=farm_order.order_id)
    moved = farm_orders_move(order=order, farm_order_ids=[farm_order.pk], to=FarmOrderStatus.ACCEPTED, by=by)
    from ..tasks import notify_after_commit

    notify_after_commit(order.pk, "accepted", [farm_order.pk], [])
    return moved[0]


def orders_anonymise_for_user(*, user, **_signal_kwargs) -> int:
    """Tell the carrier to forget a deleted account's delivery contacts; return how many bookings.

    The orders' own copies (and the built-in carrier's shipments) are wiped by the personal
    data registry (`orders/personal_data.py`) before this runs; a carrier of another company
    keeps its copies on its side, which only its `forget_recipients` can reach.
    """
    from logistics.carriers import carrier

    parts = FarmOrder.objects.filter(order__buyer=user, shipment__isnull=False).values_list("pk", flat=True)
    references = [shipment_reference(pk) for pk in parts]
    if references:
        carrier().forget_recipients(references)
    return len(references)


# --- Deadlines (issue #7): a household answers a new part within FARM_ORDER_ANSWER_HOURS ---------

NO_ANSWER_NOTE = gettext_noop("The household did not answer in time.")


def farm_order_deadline(farm_order: FarmOrder):
    """Return when a household must have answered its part, or None before it was shown one."""
    if farm_order.released_at is None:
        return None
    return farm_order.released_at + timedelta(hours=settings.FARM_ORDER_ANSWER_HOURS)


def farm_orders_sweep_deadlines(*, now=None) -> tuple[int, int]:
    """Remind households of parts close to their deadline, cancel those past it; return (reminded, cancelled).

    A periodic sweep, not a countdown per part: a worker restart loses nothing, and each step
    happens once (the reminder is an `OrderNotice` key, the cancel a state-machine move that a
    second sweep finds already made). A cancelled part's stock comes back and a paid share is
    refunded, as on every path that stops a part.
    """
    from ..tasks import notify_after_commit

    now = now or timezone.now()
    answer = timedelta(hours=settings.FARM_ORDER_ANSWER_HOURS)
    remind = answer - timedelta(hours=settings.FARM_ORDER_REMINDER_HOURS)
    new = FarmOrder.objects.filter(status=FarmOrderStatus.NEW, released_at__isnull=False)
    reminded = 0
    for pk, order_id in new.filter(released_at__lte=now - remind, released_at__gt=now - answer).values_list(
        "pk", "order_id"
    ):
        if not OrderNotice.objects.filter(order_id=order_id, key=f"reminder:{pk}").exists():
            with transaction.atomic():
                notify_after_commit(order_id, "reminder", [pk])
            reminded += 1
    cancelled = 0
    for pk, order_id in list(new.filter(released_at__lte=now - answer).values_list("pk", "order_id")):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if not FarmOrder.objects.filter(pk=pk, status=FarmOrderStatus.NEW).exists():
                continue  # answered (or cancelled) while the sweep ran
            farm_orders_move(
                order=order, farm_order_ids=[pk], to=FarmOrderStatus.CANCELLED, note=NO_ANSWER_NOTE
            )
            notify_after_commit(order_id, "unanswered", [pk], [pk])
        cancelled += 1
    return reminded, cancelled


# --- Packed: ready for pickup, with the weights the household found (issue #7) -------------------

WEIGHT_TOLERANCE = Decimal("0.10")


def _weighed(lines: dict[int, OrderLine], actual_quantities) -> dict[int, Decimal]:
    """Check the weights given per line id: lines of this part, sold by weight, within ±10%."""
    from farms.units import is_fractional, parse_quantity

    errors, weighed = {}, {}
    for key, value in (actual_quantities or {}).items():
        line = lines.get(int(key)) if str(key).isascii() and str(key).isdigit() else None
        if line is None:
            errors[str(key)] = [_("Not a line of this order.")]
            continue
        if not is_fractional(line.unit):
            errors[str(key)] = [_("Only produce sold by weight is weighed.")]
            continue
        try:
            actual = parse_quantity(value)
        except ValidationError as exc:
            errors[str(key)] = exc.messages
            continue
        low, high = line.quantity * (1 - WEIGHT_TOLERANCE), line.quantity * (1 + WEIGHT_TOLERANCE)
        if not low <= actual <= high:
            errors[str(key)] = [
                _("Weigh between %(low)s and %(high)s (10%% either way of what was ordered).")
                % {"low": f"{low.normalize():f}", "high": f"{high.normalize():f}"}
            ]
            continue
        weighed[line.pk] = actual
    if errors:
        raise ValidationError({"actual_quantities": [errors]})
    return weighed


@transaction.atomic
def farm_order_ready(*, farm_order: FarmOrder, by, actual_quantities=None) -> FarmOrder:
    """The household packed its part: ready for pickup, with the weights it found, if any.

    A line sold by weight follows the weighed quantity within ±10%, never above what the buyer
    authorised at checkout: lighter, its total (and the order's) goes down, the difference in
    stock goes back to the listing, and a paid share of the difference is refunded; heavier,
    the buyer pays no more and the extra comes out of the stock.
    """
    from ..models import Payment, PaymentRecordStatus
    from ..payments import provider_for
    from .payments import payment_refund
    from .stock import stock_adjust

    order = Order.objects.select_for_update().get(pk=farm_order.order_id)
    lines = {
        line.pk: line for line in OrderLine.objects.select_for_update().filter(farm_order_id=farm_order.pk)
    }
    weighed = _weighed(lines, actual_quantities)
    lighter = 0
    deltas: dict[int, Decimal] = {}
    for pk, actual in weighed.items():
        line = lines[pk]
        authorised = line_total(line.unit_price, line.quantity)
        new_total = min(line_total(line.unit_price, actual), authorised)
        lighter += line.line_total - new_total
        deltas[line.product_id] = deltas.get(line.product_id, Decimal(0)) + (
            (line.actual_quantity if line.actual_quantity is not None else line.quantity) - actual
        )
        line.actual_quantity, line.line_total = actual, new_total
        line.save(update_fields=["actual_quantity", "line_total"])
    stock_adjust(deltas=deltas)
    moved = farm_orders_move(order=order, farm_order_ids=[farm_order.pk], to=FarmOrderStatus.READY, by=by)[0]
    if lighter:
        moved.subtotal -= lighter
        moved.save(update_fields=["subtotal", "updated_at"])
        order.subtotal -= lighter
        order.total -= lighter
        order.save(update_fields=["subtotal", "total", "updated_at"])
        for waiting in Payment.objects.filter(order=order, status=PaymentRecordStatus.PENDING):
            if not provider_for(waiting.method).online:
                waiting.amount = order.total
                waiting.save(update_fields=["amount", "updated_at"])
        payment_refund(order=order, amount=lighter, key=f"weight-{farm_order.pk}", reason=LIGHTER_NOTE)
    moved.refresh_from_db()
    return farm_order_ship(farm_order=moved)


LIGHTER_NOTE = gettext_noop("Weighed lighter when packed: the difference is refunded.")


# --- Shipments (issue #7): orders books them, logistics carries them and says what happened ---


def _weight_kg(lines) -> Decimal:
    """The weight of order lines as packed (weighed, else as ordered)."""
    from farms.units import weight_kg

    return sum(
        (
            weight_kg(
                line.quantity if line.actual_quantity is None else line.actual_quantity,
                line.unit,
                line.product.unit_weight_kg,
            )
            for line in lines
        ),
        Decimal(0),
    )


def shipment_reference(farm_order_id: int) -> str:
    """The booking's reference for a household's part: booking it twice books once."""
    return f"farm-order-{farm_order_id}"


def farm_order_ship(*, farm_order: FarmOrder) -> "FarmOrder":
    """Book the carrier for a ready part (once: the part's id is the booking's reference).

    Cash on delivery: the courier collects the part's amount, and the order's delivery fee on
    the first of its shipments still on the way (`cod_cash_rebalance`). Call in the transaction
    that marks the part ready.
    """
    from logistics.carriers import ShipmentRequest, Stop, carrier

    if farm_order.shipment_id:
        return farm_order
    order, farm = farm_order.order, farm_order.farm
    lines = list(farm_order.lines.select_related("product"))
    # Cash on delivery: the part's amount; `cod_cash_rebalance` below adds the delivery fee to
    # the first shipment still on its way.
    cash = farm_order.subtotal if order.payment_method == "cod" and order.payment_status == "unpaid" else 0
    shipment = carrier().book(
        ShipmentRequest(
            reference=shipment_reference(farm_order.pk),
            label=order.number,  # what the courier reads, with the household's name (pickup)
            pickup=Stop(ward_code=farm.ward_id, address=farm.address, name=farm.name, phone=farm.phone),
            dropoff=Stop(
                ward_code=order.delivery_ward_id,
                address=order.delivery_address,
                name=order.delivery_name,
                phone=order.delivery_phone,
            ),
            weight_kg=_weight_kg(lines),
            cash_to_collect=cash,
            deliver_on=order.delivery_date,
        )
    )
    FarmOrder.objects.filter(pk=farm_order.pk).update(shipment=shipment)
    farm_order.shipment = shipment
    cod_cash_rebalance(order=order)
    return farm_order


#: What a shipment's step means for the household's part it carries.
SHIPMENT_STEPS = {
    "picked_up": FarmOrderStatus.PICKED_UP,
    "delivered": FarmOrderStatus.DELIVERED,
    "failed_attempt": FarmOrderStatus.FAILED_DELIVERY,
    "returned": FarmOrderStatus.RETURNED,
}


def on_shipment_step_starting(sender, *, shipment, **kwargs) -> None:
    """Lock the order a shipment carries a part of, before logistics locks the shipment.

    Every path that touches an order's shipments (ready, cancel, the cash rebalance) holds the
    order's row first; a courier's step must take the same order or the two can deadlock.
    """
    list(Order.objects.select_for_update(of=("self",)).filter(farm_orders__shipment=shipment).values_list("pk"))


def on_shipment_changed(sender, *, shipment, event, **kwargs) -> None:
    """Move the part a shipment carries by #5's state machine, and tell the buyer of the step.

    Receiver of `logistics.hooks.shipment_changed`, inside the step's transaction. A retry after
    a failed attempt (`in_transit`) puts the part back on its way. Delivered: the cash collected
    is booked and the part's settlement enqueued. Returned: perishables are a loss for the
    household; processed goods (which keep) go back to its stock.
    """
    from logistics.services import MAX_FAILED_ATTEMPTS

    from ..tasks import notify_shipment_step, settle_after_commit

    farm_order = FarmOrder.objects.filter(shipment=shipment).select_related("order").first()
    if farm_order is None or event.type == "cancelled":
        return
    to = SHIPMENT_STEPS.get(event.type)
    if event.type == "in_transit" and farm_order.status == FarmOrderStatus.FAILED_DELIVERY:
        to = FarmOrderStatus.PICKED_UP
    if to is not None and to != farm_order.status:
        farm_order_transition(farm_order=farm_order, to=to, by=event.by, note=event.note)
    if event.type == "delivered":
        if event.cash_collected:
            _cash_collected(farm_order.order)
        # Collected less than asked: the rest is asked on the order's next shipment.
        cod_cash_rebalance(order=Order.objects.get(pk=farm_order.order_id))
        settle_after_commit(farm_order.pk)
    elif event.type == "returned":
        _returned_goods(farm_order)
        # The order now owes less: the cash already collected for its other parts may cover it.
        _cash_collected(farm_order.order)
    attempts_left = max(MAX_FAILED_ATTEMPTS - shipment.failed_attempts, 0)
    enqueue(notify_shipment_step, farm_order.pk, event.type, f"shipment:{event.pk}", attempts_left)


def _returned_goods(farm_order: FarmOrder) -> None:
    """Record a returned part's perishable lines as lost; put processed goods back in stock."""
    from ..models import ProduceLoss
    from .stock import stock_return

    lines = list(farm_order.lines.select_related("product__category"))
    kept = [line.pk for line in lines if line.product.category.processed]
    for line in lines:
        if line.pk in kept:
            continue
        ProduceLoss.objects.get_or_create(
            line=line,
            defaults={
                "farm_id": farm_order.farm_id,
                "product_id": line.product_id,
                "quantity": line.quantity if line.actual_quantity is None else line.actual_quantity,
                "value": line.line_total,
            },
        )
    if kept:
        stock_return(line_ids=kept)


def _cash_collected(order: Order) -> None:
    """Once the couriers have collected the whole order in cash, its cash-on-delivery payment is paid."""
    import json

    from django.db.models import Sum

    from ..models import Payment, PaymentRecordStatus
    from .payments import payment_callback_apply

    collected = (
        FarmOrder.objects.filter(order=order, shipment__isnull=False).aggregate(
            total=Sum("shipment__cash_collected")
        )["total"]
        or 0
    )
    payment = Payment.objects.filter(order=order, method="cod", status=PaymentRecordStatus.PENDING).first()
    if payment is None or collected < payment.amount:
        return
    body = json.dumps({"payment": payment.pk, "event": "collected", "amount": payment.amount}).encode()
    payment_callback_apply(method="cod", body=body, headers={})
