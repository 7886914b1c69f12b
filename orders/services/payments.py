"""The books of payments: start one, apply a provider's callback, refund (once per key).

Providers (`orders.payments`) talk to the outside world; these services keep `Payment`,
`Refund` and the order's `payment_status` right, and are safe to run twice.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.errors import Conflict

from ..models import Order, OrderStatus, Payment, PaymentRecordStatus, PaymentStatus, Refund
from ..payments import CallbackOutcome, PaymentError, PaymentStart, provider_for
from .orders import farm_orders_move, order_transition


def order_confirm(*, order: Order, by=None, note: str = "") -> Order:
    """Confirm an order and put its farm orders before their households (`new`).

    Call in a transaction. An order already confirmed (a repeated callback) is left alone.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != OrderStatus.PENDING_PAYMENT:
        return order
    order = order_transition(order=order, to=OrderStatus.CONFIRMED, by=by, note=note)
    waiting = list(order.farm_orders.filter(status="awaiting_payment").values_list("pk", flat=True))
    if waiting:
        farm_orders_move(order=order, farm_order_ids=waiting, to="new", by=by, note=note)
    from ..tasks import notify_after_commit

    notify_after_commit(order.pk, "confirmed")
    return order


def payment_start(*, order: Order) -> tuple[Payment, PaymentStart]:
    """Open a payment of the order's total with its method's provider; confirm it if the provider says so."""
    provider = provider_for(order.payment_method)
    payment = Payment.objects.create(order=order, method=order.payment_method, amount=order.total)
    start = provider.start(payment=payment)
    if start.reference:
        payment.reference = start.reference
        payment.save(update_fields=["reference", "updated_at"])
    if start.confirms_order:
        order_confirm(order=order)
    return payment, start


@transaction.atomic
def payment_callback_apply(*, method: str, body: bytes, headers: dict) -> Payment:
    """Apply a provider's callback; a repeat or a stale event changes nothing it should not."""
    provider = provider_for(method)
    outcome: CallbackOutcome = provider.parse_callback(body=body, headers=headers)
    payments = Payment.objects.select_for_update().filter(method=method)
    payment = (
        payments.filter(pk=outcome.payment_id).first()
        if outcome.payment_id is not None
        else payments.filter(reference=outcome.reference).exclude(reference="").first()
    )
    if payment is None:
        raise PaymentError("no such payment", code="unknown_payment")
    if outcome.event == "paid" and payment.status in (
        PaymentRecordStatus.CANCELLED,
        PaymentRecordStatus.FAILED,
    ):
        # Money for an order nobody expects to pay: staff must look (and give it back), not the books.
        raise PaymentError(f"payment {payment.pk} is {payment.status}", code="payment_not_pending")
    if outcome.event == "paid" and outcome.amount and outcome.amount != payment.amount:
        raise PaymentError(
            f"payment {payment.pk} is for {payment.amount}, not {outcome.amount}", code="amount_mismatch"
        )
    if outcome.event == "paid" and payment.status != PaymentRecordStatus.PAID:
        payment.status = PaymentRecordStatus.PAID
        payment.paid_amount = outcome.amount or payment.amount
        payment.paid_at = timezone.now()
        payment.save(update_fields=["status", "paid_amount", "paid_at", "updated_at"])
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        if order.payment_status == PaymentStatus.UNPAID:
            order.payment_status = PaymentStatus.PAID
            order.save(update_fields=["payment_status", "updated_at"])
        order_confirm(order=order)
    elif outcome.event in ("failed", "cancelled") and payment.status == PaymentRecordStatus.PENDING:
        payment.status = outcome.event
        payment.save(update_fields=["status", "updated_at"])
    return payment


def payment_refund(*, order: Order, amount: int, key: str, reason: str = "") -> Refund | None:
    """Give back `amount` of what the order's buyer paid, once per `key`. Call in a transaction.

    Nothing is refunded for an order not paid yet (cash on delivery before collection): what
    is owed simply shrinks. The amount is cut to what is left to refund.
    """
    existing = Refund.objects.filter(key=key).first()
    if existing is not None:
        return existing
    payment = (
        Payment.objects.select_for_update()
        .filter(order=order, status=PaymentRecordStatus.PAID)
        .order_by("-paid_at")
        .first()
    )
    if payment is None:
        return None
    amount = min(amount, payment.paid_amount - payment.refunded_amount)
    if amount <= 0:
        return None
    try:
        outcome = provider_for(payment.method).refund(payment=payment, amount=amount, key=key, reason=reason)
    except PaymentError as exc:
        raise Conflict(exc.message, code=exc.code) from None
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                payment=payment, key=key, amount=amount, reason=reason, reference=outcome.reference
            )
    except IntegrityError:
        return Refund.objects.get(key=key)
    payment.refunded_amount += amount
    payment.save(update_fields=["refunded_amount", "updated_at"])
    Order.objects.filter(pk=order.pk).update(
        payment_status=PaymentStatus.REFUNDED
        if payment.refunded_amount >= payment.paid_amount
        else PaymentStatus.PARTIALLY_REFUNDED,
        updated_at=timezone.now(),
    )
    return refund
