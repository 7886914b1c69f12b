"""The books of payments: open one, apply what a provider says, refund (once per key), expire, reconcile.

Providers (`orders.payments`) talk to the outside world; these services keep `Payment`,
`Refund`, `WebhookEvent` and the order's `payment_status` right, and are safe to run twice:
- an online provider (Stripe) is called after the order's transaction commits, never while
  listings are locked; if it cannot be reached the order waits, unpaid, with no payment page,
  and the buyer (or reconciliation) opens one later;
- every outcome is applied by `payment_outcome_apply`, which looks at the current state first,
  so events that come twice, late or out of order end in the same state;
- money received for an order nobody expects to pay any more (cancelled, expired, or paid by
  another attempt) is refunded automatically, once;
- refunds change the books in the transaction that decides them and move the money after
  commit (`orders.send_refund`), with the refund's key as the provider's idempotency key.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from marketplace.errors import Conflict

from ..models import (
    Order,
    OrderStatus,
    Payment,
    PaymentRecordStatus,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from ..payments import CallbackOutcome, PaymentError, PaymentStart, ProviderUnreachable, provider_for
from .orders import farm_orders_move, order_note_record, order_transition

logger = logging.getLogger(__name__)

EXPIRED_NOTE = gettext_noop("Not paid in time: the stock went back on sale.")
PAID_NOTE = gettext_noop("Payment received.")
TRANSFER_NOTE = gettext_noop("Bank transfer received (checked by staff).")
RECONCILE_AFTER = timedelta(minutes=5)


def _tell(order_id: int, event: str) -> None:
    from ..tasks import notify_after_commit

    notify_after_commit(order_id, event)


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
    _tell(order.pk, "confirmed")
    return order


# --- Opening a payment ------------------------------------------------------------------


def payment_start(*, order: Order) -> tuple[Payment, PaymentStart | None]:
    """Record the order's first payment; start it now if its provider needs no network.

    Call inside the checkout's transaction. An online provider's start is `payment_open`'s,
    after commit: the second item is then None.
    """
    provider = provider_for(order.payment_method)
    payment = Payment.objects.create(order=order, method=order.payment_method, amount=order.total)
    if provider.online:
        return payment, None
    start = provider.start(payment=payment)
    _record_start(payment, start)
    if start.confirms_order:
        order_confirm(order=order)
    return payment, start


def _record_start(payment: Payment, start: PaymentStart) -> None:
    payment.reference = start.reference or payment.reference
    payment.pay_url = start.redirect_url or ""
    payment.expires_at = start.expires_at
    payment.save(update_fields=["reference", "pay_url", "expires_at", "updated_at"])


def payment_open(*, payment: Payment) -> PaymentStart | None:
    """Open the provider's payment page for a payment (outside any transaction that locks stock).

    Return None when the provider cannot be reached: the order stays unpaid with no page, and
    `order_pay_again` or reconciliation opens one later. A refusal raises Conflict.
    """
    provider = provider_for(payment.method)
    try:
        start = provider.start(payment=payment)
    except ProviderUnreachable as exc:
        logger.warning("payment %s: %s unreachable, no payment page yet: %s", payment.pk, payment.method, exc)
        return None
    except PaymentError as exc:
        raise Conflict(exc.message, code=exc.code) from None
    with transaction.atomic():
        locked = _lock(payment.pk)
        if locked.status == PaymentRecordStatus.PENDING:
            _record_start(locked, start)
        payment.refresh_from_db()
    return start


def payment_check_amount(*, method: str, amount: int) -> None:
    """Refuse, before anything is made, an amount the method cannot take (Stripe's VND maximum)."""
    from django.utils.translation import gettext as _

    from marketplace.money import format_vnd

    if method == "stripe" and amount > settings.STRIPE_MAX_AMOUNT:
        raise Conflict(
            _("Card payments are limited to %(max)s an order. Choose cash on delivery or bank transfer.")
            % {"max": format_vnd(settings.STRIPE_MAX_AMOUNT)},
            code="amount_too_large",
        )


def order_pay_again(*, order: Order, by=None) -> Payment:
    """Give an unpaid order a payment page again: the open one, or a new attempt.

    Refuse (409 `not_payable`) an order that is not waiting for payment.
    """
    from django.utils.translation import gettext as _

    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise Conflict(_("This order is not waiting for a payment."), code="not_payable")
        current = order.payments.filter(status=PaymentRecordStatus.PENDING).order_by("-attempt").first()
        if current is not None and not provider_for(current.method).online:
            return current  # a bank transfer's code does not expire before the order does
        still_open = (
            current is not None
            and current.pay_url
            and (current.expires_at is None or current.expires_at > timezone.now() + timedelta(minutes=2))
        )
        if still_open:
            return current
        if current is not None and not current.reference:
            payment = current  # never opened (the provider was unreachable): open the same attempt
        else:
            if current is not None:
                current.status = PaymentRecordStatus.CANCELLED
                current.save(update_fields=["status", "updated_at"])
                transaction.on_commit(lambda: _cancel_quietly(current), robust=True)
            last = order.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
            payment = Payment.objects.create(
                order=order, method=order.payment_method, amount=order.total, attempt=last + 1
            )
    payment_open(payment=payment)
    payment.refresh_from_db()
    return payment


def _cancel_quietly(payment: Payment) -> None:
    try:
        provider_for(payment.method).cancel(payment=payment)
    except PaymentError as exc:
        logger.warning("payment %s: could not close its page: %s", payment.pk, exc)


# --- Applying what a provider says ------------------------------------------------------


def _lock(payment_id: int) -> Payment:
    """Lock a payment's order, then the payment: every path takes them in this order.

    The buyer's cancel and a household's reject lock the order first (then refund its payment);
    a webhook locking the payment first would wait on them while they wait on it.
    """
    order_id = Payment.objects.filter(pk=payment_id).values_list("order_id", flat=True).get()
    Order.objects.select_for_update().filter(pk=order_id).first()
    return Payment.objects.select_for_update().get(pk=payment_id)


def _find(method: str, outcome: CallbackOutcome) -> Payment | None:
    """Find (and lock, order first) the payment an outcome is about."""
    payments = Payment.objects.filter(method=method)
    found = payments.filter(pk=outcome.payment_id).first() if outcome.payment_id is not None else None
    if found is None:
        lookups = Q()
        if outcome.reference:
            lookups |= Q(reference=outcome.reference)
        if outcome.intent:
            lookups |= Q(intent=outcome.intent)
        found = payments.filter(lookups).first() if lookups else None
    return _lock(found.pk) if found is not None else None


@transaction.atomic
def payment_outcome_apply(*, method: str, outcome: CallbackOutcome) -> Payment | None:
    """Apply an outcome to its payment, looking at the current state first. Return the payment.

    A payment not found is None (an event about something else, e.g. another shop on the
    same Stripe account): nothing changes.
    """
    if outcome.event == "ignored":
        return None
    payment = _find(method, outcome)
    if payment is None:
        return None
    if outcome.intent and not payment.intent:
        payment.intent = outcome.intent
        payment.save(update_fields=["intent", "updated_at"])
    if outcome.event == "paid":
        _paid(payment, outcome)
    elif outcome.event == "refunded":
        _paid(payment, outcome)  # a refund proves the payment: it may come before "completed"
        _refunded_outside(payment, outcome)
    elif outcome.event == "expired":
        _expired(payment)
    elif outcome.event == "cancelled" and payment.status == PaymentRecordStatus.PENDING:
        payment.status = PaymentRecordStatus.CANCELLED
        payment.save(update_fields=["status", "updated_at"])
    # "failed": a declined card inside a payment page; the buyer may try another card there.
    return payment


def _paid(payment: Payment, outcome: CallbackOutcome) -> None:
    if payment.status == PaymentRecordStatus.PAID:
        return
    amount = outcome.amount or payment.amount
    if outcome.currency and outcome.currency != "vnd":
        raise PaymentError(f"payment {payment.pk}: currency {outcome.currency}", code="currency_mismatch")
    if payment.status == PaymentRecordStatus.PENDING and amount != payment.amount:
        raise PaymentError(
            f"payment {payment.pk} is for {payment.amount}, not {amount}", code="amount_mismatch"
        )
    expected = payment.status == PaymentRecordStatus.PENDING
    payment.status = PaymentRecordStatus.PAID
    payment.paid_amount = amount
    payment.paid_at = timezone.now()
    payment.save(update_fields=["status", "paid_amount", "paid_at", "updated_at"])
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    if expected and order.status == OrderStatus.PENDING_PAYMENT:
        order.payment_status = PaymentStatus.PAID
        order.save(update_fields=["payment_status", "updated_at"])
        order_confirm(order=order, note=PAID_NOTE)
        _tell(order.pk, "paid")
        return
    if expected and order.payment_method == "cod" and order.payment_status == PaymentStatus.UNPAID:
        order.payment_status = PaymentStatus.PAID  # cash collected at the door
        order.save(update_fields=["payment_status", "updated_at"])
        return
    # Money nobody expects: the order was cancelled or expired, or another attempt paid it.
    logger.warning("payment %s of order %s paid while not expected: refunding", payment.pk, order.number)
    _refund(payment, amount=amount, key=f"payment-{payment.pk}-unexpected", reason=EXPIRED_NOTE)
    _tell(order.pk, "refunded")


def _refunded_outside(payment: Payment, outcome: CallbackOutcome) -> None:
    """Reflect refunds made on the provider's side (its dashboard): what it refunded beyond ours."""
    known = payment.refunded_amount
    extra = outcome.refunded_total - known
    if extra <= 0:
        return
    try:
        with transaction.atomic():
            Refund.objects.create(
                payment=payment,
                key=f"{payment.method}-{outcome.charge or payment.pk}-{outcome.refunded_total}",
                amount=extra,
                reason="refunded on the provider's side",
                status=RefundStatus.SUCCEEDED,
                external=True,
                sent_at=timezone.now(),
            )
    except IntegrityError:
        return
    payment.refunded_amount = outcome.refunded_total
    payment.save(update_fields=["refunded_amount", "updated_at"])
    _set_payment_status(payment)
    _tell(payment.order_id, "refunded")


def _expired(payment: Payment) -> None:
    if payment.status != PaymentRecordStatus.PENDING:
        return  # paid already (an "expired" after "completed" changes nothing), or closed
    payment.status = PaymentRecordStatus.CANCELLED
    payment.save(update_fields=["status", "updated_at"])
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    others = order.payments.filter(status=PaymentRecordStatus.PENDING).exclude(pk=payment.pk).exists()
    if order.status == OrderStatus.PENDING_PAYMENT and not others:
        order_transition(order=order, to=OrderStatus.CANCELLED, note=EXPIRED_NOTE)
        _tell(order.pk, "expired")


def payment_transfer_received(*, payment: Payment, by) -> Payment:
    """Staff saw the transfer arrive in full on the bank account: the order is paid (once)."""
    provider = provider_for(payment.method)
    if not hasattr(provider, "received"):
        raise PaymentError(f"{payment.method} payments are not confirmed by staff", code="not_a_transfer")
    with transaction.atomic():
        locked = _lock(payment.pk)
        if locked.status in (PaymentRecordStatus.CANCELLED, PaymentRecordStatus.FAILED):
            raise PaymentError(f"payment {payment.pk} is {locked.status}", code="payment_not_pending")
        applied = payment_outcome_apply(method=payment.method, outcome=provider.received(payment=locked))
        order = Order.objects.get(pk=payment.order_id)
        order_note_record(order=order, by=by, note=TRANSFER_NOTE)
    return applied


@transaction.atomic
def payment_callback_apply(*, method: str, body: bytes, headers: dict) -> Payment:
    """Check a provider's callback and apply it at once (cash collected: our own couriers' app)."""
    outcome = provider_for(method).parse_callback(body=body, headers=headers)
    payment = _find(method, outcome)
    if payment is None:
        raise PaymentError("no such payment", code="unknown_payment")
    if outcome.event == "paid" and payment.status in (
        PaymentRecordStatus.CANCELLED,
        PaymentRecordStatus.FAILED,
    ):
        # Cash for an order nobody expects to pay: staff must look (and give it back).
        raise PaymentError(f"payment {payment.pk} is {payment.status}", code="payment_not_pending")
    return payment_outcome_apply(method=method, outcome=outcome)


# --- Webhooks -----------------------------------------------------------------------------


def webhook_receive(*, method: str, body: bytes, headers: dict) -> tuple[WebhookEvent, bool]:
    """Verify a webhook, store its event once, and queue it. Return (event, created).

    Raises PaymentError for a request that is not genuine: nothing is written.
    """
    outcome = provider_for(method).parse_callback(body=body, headers=headers)
    import json

    payload = json.loads(body)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=method, event_id=outcome.event_id, type=outcome.type, payload=payload
            )
            from ..tasks import process_webhook_event

            transaction.on_commit(lambda: _enqueue_event(process_webhook_event, event.pk), robust=True)
    except IntegrityError:
        return WebhookEvent.objects.get(provider=method, event_id=outcome.event_id), False
    return event, True


def _enqueue_event(task, event_id: int) -> None:
    task.delay(event_id)


def webhook_process(*, event: WebhookEvent) -> Payment | None:
    """Apply a stored event (a task; safe to run twice: the outcome is applied by current state)."""
    with transaction.atomic():
        locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if locked.processed_at is not None:
            return None
        outcome = provider_for(locked.provider).parse_event(payload=locked.payload)
        try:
            payment = payment_outcome_apply(method=locked.provider, outcome=outcome)
        except PaymentError as exc:
            # Not something a retry fixes (amount or currency mismatch): staff look at the event.
            locked.error = f"{exc.code}: {exc.message}"
            payment = None
            logger.error("webhook event %s (%s): %s", locked.event_id, locked.type, locked.error)
        locked.processed_at = timezone.now()
        locked.save(update_fields=["processed_at", "error"])
    return payment


# --- Refunds ----------------------------------------------------------------------------------


def _set_payment_status(payment: Payment) -> None:
    if payment.refunded_amount <= 0:
        return
    Order.objects.filter(pk=payment.order_id).update(
        payment_status=PaymentStatus.REFUNDED
        if payment.refunded_amount >= payment.paid_amount
        else PaymentStatus.PARTIALLY_REFUNDED,
        updated_at=timezone.now(),
    )


def _refund(payment: Payment, *, amount: int, key: str, reason: str) -> Refund | None:
    existing = Refund.objects.filter(key=key).first()
    if existing is not None:
        return existing
    amount = min(amount, payment.paid_amount - payment.refunded_amount)
    if amount <= 0:
        return None
    try:
        with transaction.atomic():
            refund = Refund.objects.create(payment=payment, key=key, amount=amount, reason=reason)
    except IntegrityError:
        return Refund.objects.get(key=key)
    payment.refunded_amount += amount
    payment.save(update_fields=["refunded_amount", "updated_at"])
    _set_payment_status(payment)
    from ..tasks import send_refund

    transaction.on_commit(lambda: _enqueue_event(send_refund, refund.pk), robust=True)
    return refund


def payment_refund(*, order: Order, amount: int, key: str, reason: str = "") -> Refund | None:
    """Decide to give back `amount` of what the order's buyer paid, once per `key`. Call in a transaction.

    Nothing is refunded for an order not paid yet (cash on delivery before collection): what
    is owed simply shrinks. The amount is cut to what is left to refund. The money moves after
    commit (`refund_send`).
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
    refund = _refund(payment, amount=amount, key=key, reason=reason)
    if refund is not None:
        _tell(order.pk, "refunded")
    return refund


def refund_send(*, refund: Refund) -> Refund:
    """Move a decided refund's money through its provider, once (a task; safe to run twice).

    The provider is called outside the row lock's transaction; its idempotency key is the
    refund's key, so a retry after a crash never refunds twice. A refusal marks it failed for staff.
    """
    refund = Refund.objects.select_related("payment__order").get(pk=refund.pk)
    if refund.status != RefundStatus.PENDING:
        return refund
    payment = refund.payment
    try:
        outcome = provider_for(payment.method).refund(
            payment=payment, amount=refund.amount, key=refund.key, reason=refund.reason
        )
    except ProviderUnreachable:
        raise  # the task retries later
    except PaymentError as exc:
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
            status=RefundStatus.FAILED, error=f"{exc.code}: {exc.message}"
        )
        logger.error("refund %s (%s đồng, payment %s) failed: %s", refund.key, refund.amount, payment.pk, exc)
        refund.refresh_from_db()
        return refund
    Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.SUCCEEDED, reference=outcome.reference, sent_at=timezone.now()
    )
    refund.refresh_from_db()
    return refund


# --- Holding stock, reconciling ----------------------------------------------------------------


def payments_expire_unpaid(*, now=None) -> int:
    """Cancel orders whose payment did not come in within the hold; return how many.

    The provider's page is closed first (a Stripe session expired), so nobody pays after the
    stock went back; one that still slips through is refunded when its event arrives.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    due = Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, created_at__lt=cutoff).exclude(
        payments__status=PaymentRecordStatus.PENDING, payments__expires_at__gt=now
    )
    expired = 0
    for order_id in list(due.values_list("pk", flat=True)):
        for payment in Payment.objects.filter(order_id=order_id, status=PaymentRecordStatus.PENDING):
            try:
                provider_for(payment.method).cancel(payment=payment)
            except ProviderUnreachable:
                logger.warning(
                    "payment %s: provider unreachable, order kept until the next sweep", payment.pk
                )
                break
            except PaymentError:
                pass
            with transaction.atomic():
                locked = _lock(payment.pk)
                if locked.status == PaymentRecordStatus.PENDING:
                    _expired(locked)
                    expired += 1
    return expired


def payments_reconcile(*, now=None) -> int:
    """Ask providers about unpaid orders and paid pages no event told of; repair. Return repairs made.

    So a webhook that never arrives changes nothing in the end: a paid session confirms its
    order (or is refunded if the order was cancelled meanwhile), an expired one cancels it.
    """
    now = now or timezone.now()
    repaired = 0
    stale = Payment.objects.filter(
        status=PaymentRecordStatus.PENDING, created_at__lt=now - RECONCILE_AFTER
    ).exclude(reference="")
    for payment in list(stale):
        provider = provider_for(payment.method)
        try:
            outcome = provider.fetch(payment=payment)
        except PaymentError as exc:
            logger.warning("reconcile payment %s: %s", payment.pk, exc)
            continue
        if outcome is not None and payment_outcome_apply(method=payment.method, outcome=outcome):
            repaired += 1
    for method in settings.PAYMENT_PROVIDERS:
        provider = provider_for(method)
        if not (provider.online and provider.is_available()) or not hasattr(provider, "paid_sessions_since"):
            continue
        try:
            outcomes = provider.paid_sessions_since(now - timedelta(days=2))
        except PaymentError as exc:
            logger.warning("reconcile %s: %s", method, exc)
            continue
        for outcome in outcomes:
            payment = Payment.objects.filter(method=method, reference=outcome.reference).first()
            if payment is not None and payment.status != PaymentRecordStatus.PAID:
                payment_outcome_apply(method=method, outcome=outcome)
                repaired += 1
    return repaired
