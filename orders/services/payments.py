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
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace.errors import Conflict
from marketplace.money import format_vnd
from marketplace.outbox.services import enqueue

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
REFUNDED_NOTE = gettext_noop("Refunded in full by the payment provider.")
OVERPAID_NOTE = gettext_noop("Paid more than owed after items were cancelled: the difference is refunded.")
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
        # The order is saved already: answer it without a page (never the provider's words to a
        # buyer), and let staff see why in the log.
        logger.error("payment %s: %s refused to open a page: %s", payment.pk, payment.method, exc)
        return None
    with transaction.atomic():
        locked = _lock(payment.pk)
        if locked.status == PaymentRecordStatus.PENDING:
            _record_start(locked, start)
        payment.refresh_from_db()
    return start


def payment_check_amount(*, method: str, amount: int) -> None:
    """Refuse, before anything is made, an amount the method cannot take (Stripe's VND maximum)."""
    limit = provider_for(method).max_amount()
    if limit is not None and amount > limit:
        raise Conflict(
            _("Payments by this method are limited to %(max)s an order. Choose another way to pay.")
            % {"max": format_vnd(limit)},
            code="amount_too_large",
        )


def order_pay_again(*, order: Order, by=None) -> Payment:
    """Give an unpaid order a payment page again: the open one, or a new attempt.

    Refuse (409 `not_payable`) an order that is not waiting for payment, and (409
    `hold_expired`) one past its hold: a buyer cannot keep stock by paying again forever.
    """
    now = timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status != OrderStatus.PENDING_PAYMENT:
            raise Conflict(_("This order is not waiting for a payment."), code="not_payable")
        if order.created_at + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES) < now:
            raise Conflict(
                _("The time to pay this order is over; its goods went back on sale. Please order again."),
                code="hold_expired",
            )
        current = order.payments.filter(status=PaymentRecordStatus.PENDING).order_by("-attempt").first()
        if current is not None and not provider_for(current.method).online:
            return current  # a bank transfer's code does not expire before the order does
        usable = current is not None and current.amount == order.total
        still_open = (
            usable
            and current.pay_url
            and (current.expires_at is None or current.expires_at > now + timedelta(minutes=2))
        )
        if still_open:
            return current
        if usable and not current.reference and current.created_at > now - timedelta(seconds=50):
            payment = current  # never opened (the provider was unreachable a moment ago): try it again
        else:
            if current is not None:
                payment_close(current)
            last = order.payments.order_by("-attempt").values_list("attempt", flat=True).first() or 0
            payment = Payment.objects.create(
                order=order, method=order.payment_method, amount=order.total, attempt=last + 1
            )
    payment_open(payment=payment)
    payment.refresh_from_db()
    return payment


def payment_close(payment: Payment) -> None:
    """Cancel a waiting payment (in a transaction); its page is closed after commit."""
    payment.status = PaymentRecordStatus.CANCELLED
    payment.save(update_fields=["status", "updated_at"])
    if payment.reference and provider_for(payment.method).online:
        transaction.on_commit(lambda: _cancel_quietly(payment), robust=True)


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
    """Find (and lock, order first) the payment an outcome is about.

    The provider's own ids come first; our id from the metadata counts only when the order
    number sent with it matches (other software may share the provider account).
    """
    payments = Payment.objects.filter(method=method).select_related("order")
    found = None
    if outcome.reference:
        found = payments.filter(reference=outcome.reference).first()
    if found is None and outcome.intent:
        found = payments.filter(intent=outcome.intent).first()
    if found is None and outcome.payment_id is not None:
        candidate = payments.filter(pk=outcome.payment_id).first()
        if candidate is not None and outcome.order_number in ("", candidate.order.number):
            found = candidate
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
    if payment.status in (PaymentRecordStatus.PAID, PaymentRecordStatus.RETURNED):
        if outcome.type == "bank.transfer" and outcome.event_id != payment.intent:
            # Another transfer for a payment already settled: new money, kept by nobody's choice.
            raise PaymentError(
                f"a second transfer ({outcome.amount} đồng) for payment {payment.pk}: check and pay it back",
                code="second_transfer",
            )
        return
    amount = outcome.amount or payment.amount
    if outcome.currency and outcome.currency != "vnd":
        raise PaymentError(f"payment {payment.pk}: currency {outcome.currency}", code="currency_mismatch")
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    waiting = order.status == OrderStatus.PENDING_PAYMENT
    # An attempt closed because the total changed (a part cancelled) still pays an order that
    # waits, if it covers what is owed now: the order is confirmed, the difference refunded.
    covers = (
        payment.status == PaymentRecordStatus.CANCELLED
        and waiting
        and amount >= order.total
        and not order.payments.filter(status=PaymentRecordStatus.PAID).exists()
    )
    expected = payment.status == PaymentRecordStatus.PENDING or covers
    owed = order.total if covers else payment.amount
    exact = provider_for(payment.method).exact_amount
    if expected and (amount < owed or (exact and amount != owed)):
        # Too little to confirm (a short bank transfer): staff look at the event.
        raise PaymentError(f"payment {payment.pk} is for {owed}, not {amount}", code="amount_mismatch")
    payment.status = PaymentRecordStatus.PAID
    if outcome.type == "bank.transfer":
        payment.intent = outcome.event_id  # the bank's transaction: the same one again is a repeat
    payment.amount = owed if expected else payment.amount
    payment.paid_amount = amount
    payment.paid_at = timezone.now()
    payment.save(update_fields=["status", "amount", "paid_amount", "paid_at", "intent", "updated_at"])
    if expected and waiting:
        for other in order.payments.filter(status=PaymentRecordStatus.PENDING).exclude(pk=payment.pk):
            payment_close(other)  # another attempt's page: nobody needs to pay twice
        order_confirm(order=order, note=PAID_NOTE)
        _set_payment_status(order.pk)
        _tell(order.pk, "paid")
        if amount > owed:
            _refund(payment, amount=amount - owed, key=f"payment-{payment.pk}-overpaid", reason=OVERPAID_NOTE)
        return
    if expected and order.payment_method == "cod":
        _set_payment_status(order.pk)  # cash collected at the door
        from .problems import problems_refund_due

        problems_refund_due(order=order)  # problems refunded before the last part's cash came in
        return
    # Money nobody expects: the order was cancelled or expired, or another attempt paid it.
    logger.warning("payment %s of order %s paid while not expected: refunding", payment.pk, order.number)
    _refund(payment, amount=amount, key=f"payment-{payment.pk}-unexpected", reason=EXPIRED_NOTE)
    Payment.objects.filter(pk=payment.pk).update(status=PaymentRecordStatus.RETURNED)
    _set_payment_status(order.pk)
    _tell(order.pk, "refunded")


def _moved_refunds(payment: Payment) -> int:
    """Return what has really gone back on a payment: our refunds sent, and the provider's own."""
    return sum(
        Refund.objects.filter(payment=payment, status=RefundStatus.SUCCEEDED).values_list("amount", flat=True)
    )


def _refunded_outside(payment: Payment, outcome: CallbackOutcome) -> None:
    """Reflect refunds made on the provider's side (its dashboard): what it refunded beyond ours.

    "Beyond ours" is measured against refunds that have really gone (ours still waiting to be
    sent are not on the provider's side yet). Ours that no longer fit beside it are called off:
    the provider would refuse them. A full refund of an order still live cancels the parts
    nobody has accepted yet; parts being packed or on their way are left to staff (logged).
    """
    payment.refresh_from_db()
    extra = outcome.refunded_total - _moved_refunds(payment)
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
    booked = payment.refunded_amount + extra
    for waiting in (
        Refund.objects.select_for_update()
        .filter(payment=payment, status=RefundStatus.PENDING)
        .order_by("-pk")
    ):
        if booked <= payment.paid_amount:
            break
        waiting.status = RefundStatus.FAILED
        waiting.error = "covered by a refund made on the provider's side"
        waiting.save(update_fields=["status", "error"])
        booked -= waiting.amount
    payment.refunded_amount = min(booked, payment.paid_amount)
    payment.save(update_fields=["refunded_amount", "updated_at"])
    _set_payment_status(payment.order_id)
    _tell(payment.order_id, "refunded")
    if payment.status == PaymentRecordStatus.PAID and payment.refunded_amount >= payment.paid_amount:
        order = Order.objects.get(pk=payment.order_id)
        unaccepted = list(
            order.farm_orders.filter(status__in=["awaiting_payment", "new"]).values_list("pk", flat=True)
        )
        if unaccepted:
            farm_orders_move(order=order, farm_order_ids=unaccepted, to="cancelled", note=REFUNDED_NOTE)
        if order.farm_orders.filter(
            status__in=["accepted", "ready", "picked_up", "failed_delivery"]
        ).exists():
            logger.error(
                "order %s refunded in full on the provider's side with parts under way", order.number
            )


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
        # A transfer that arrives after its order was let go is booked too, and given back.
        locked = _lock(payment.pk)
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

            enqueue(process_webhook_event, event.pk)
    except IntegrityError:
        event = WebhookEvent.objects.get(provider=method, event_id=outcome.event_id)
        if event.processed_at is None:
            # Stored, not processed yet: the provider's repeat queues it again (safe to run twice).
            from ..tasks import process_webhook_event

            enqueue(process_webhook_event, event.pk)
        return event, False
    return event, True


def webhooks_reprocess(*, now=None) -> int:
    """Queue again events stored but not processed after a few minutes (their task was lost)."""
    now = now or timezone.now()
    from ..tasks import process_webhook_event

    stale = list(
        WebhookEvent.objects.filter(processed_at__isnull=True, received_at__lt=now - timedelta(minutes=2))
        .order_by("received_at")
        .values_list("pk", flat=True)[:500]
    )
    for pk in stale:
        enqueue(process_webhook_event, pk)
    return len(stale)


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


def _set_payment_status(order_id: int) -> None:
    """Set the order's payment status from the payments that count: those not given back as unneeded."""
    rows = list(
        Payment.objects.filter(
            order_id=order_id, status__in=[PaymentRecordStatus.PAID, PaymentRecordStatus.RETURNED]
        ).values_list("status", "paid_amount", "refunded_amount")
    )
    # A payment given back as unneeded counts only while its money is not all back (a refund failed).
    counting = [
        (paid, refunded)
        for status, paid, refunded in rows
        if status == PaymentRecordStatus.PAID or refunded < paid
    ]
    if counting:
        paid = sum(p for p, _r in counting)
        refunded = sum(r for _p, r in counting)
        status = (
            PaymentStatus.PAID
            if refunded <= 0
            else PaymentStatus.REFUNDED
            if refunded >= paid
            else PaymentStatus.PARTIALLY_REFUNDED
        )
    elif rows:
        status = PaymentStatus.REFUNDED
    else:
        return
    Order.objects.filter(pk=order_id).update(payment_status=status, updated_at=timezone.now())


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
    _set_payment_status(payment.order_id)
    from ..tasks import send_refund

    enqueue(send_refund, refund.pk)
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
        .filter(order=order, status=PaymentRecordStatus.PAID, paid_amount__gt=F("refunded_amount"))
        .order_by("-paid_at", "-pk")
        .first()
    )
    if payment is None:
        return None
    refund = _refund(payment, amount=amount, key=key, reason=reason)
    if refund is not None:
        _tell(order.pk, "refunded")
    return refund


REFUND_LEASE = timedelta(minutes=2)


def refund_send(*, refund: Refund) -> Refund:
    """Move a decided refund's money through its provider, once (a task; safe to run twice).

    One sender at a time takes the refund (a lease on `attempted_at`); the provider is called
    outside any transaction, with the refund's key as its idempotency key, so a retry after a
    crash never refunds twice. Before a refusal takes the refund off the books, the provider is
    asked whether a refund with this key exists after all (an answer lost on the way). Refunds
    of cash and bank transfers are paid back by staff: they wait for `refund_mark_sent`.
    """
    refund = Refund.objects.select_related("payment__order").get(pk=refund.pk)
    if refund.status != RefundStatus.PENDING:
        return refund
    payment = refund.payment
    provider = provider_for(payment.method)
    if provider.refunds_by_hand:
        return refund
    now = timezone.now()
    taken = (
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING)
        .filter(Q(attempted_at__isnull=True) | Q(attempted_at__lt=now - REFUND_LEASE))
        .update(attempted_at=now)
    )
    if not taken:
        return refund  # another sender has it now
    try:
        outcome = provider.refund(payment=payment, amount=refund.amount, key=refund.key, reason=refund.reason)
        reference = outcome.reference
    except ProviderUnreachable:
        Refund.objects.filter(pk=refund.pk).update(attempted_at=None)
        raise  # the task retries later; `refunds_resend` picks up what the retries did not
    except PaymentError as exc:
        reference = provider.find_refund(payment=payment, key=refund.key)
        if not reference:
            _refund_failed(refund, exc)
            refund.refresh_from_db()
            return refund
    Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.SUCCEEDED, reference=reference, sent_at=timezone.now()
    )
    refund.refresh_from_db()
    return refund


def _refund_failed(refund: Refund, exc: PaymentError) -> None:
    """The provider refused a refund (and has none with its key): off the books, for staff."""
    with transaction.atomic():
        paying = _lock(refund.payment_id)  # order, payment, then the refund: the order every path takes
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.PENDING:
            return
        locked.status = RefundStatus.FAILED
        locked.error = f"{exc.code}: {exc.message}"[:2000]
        locked.attempted_at = None
        locked.save(update_fields=["status", "error", "attempted_at"])
        paying.refunded_amount = max(0, paying.refunded_amount - locked.amount)
        paying.save(update_fields=["refunded_amount", "updated_at"])
        _set_payment_status(paying.order_id)
    logger.error(
        "refund %s (%s đồng, payment %s) failed: %s", refund.key, refund.amount, refund.payment_id, exc
    )


def refund_mark_sent(*, refund: Refund, by, reference: str = "") -> Refund:
    """Staff paid a refund back by hand (cash, a bank transfer): record it, once.

    Only refunds of methods paid back by hand: a card refund is the provider's to move.
    """
    if not provider_for(refund.payment.method).refunds_by_hand:
        raise Conflict(
            _("Card refunds are sent through the payment provider, not by hand."), code="not_by_hand"
        )
    Refund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        status=RefundStatus.SUCCEEDED,
        reference=(reference or f"by hand ({getattr(by, 'phone', '')})")[:120],
        sent_at=timezone.now(),
    )
    refund.refresh_from_db()
    return refund


def refund_retry(*, refund: Refund) -> Refund:
    """Staff send a failed refund again (after fixing what the provider refused): back on the books."""
    with transaction.atomic():
        paying = _lock(refund.payment_id)
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.FAILED:
            return locked
        left = min(paying.paid_amount - paying.refunded_amount, paying.paid_amount - _moved_refunds(paying))
        if locked.amount > left:
            raise Conflict(
                _("Only %(left)s is left to refund on this payment.") % {"left": format_vnd(left)},
                code="refund_too_large",
            )
        locked.status, locked.error = RefundStatus.PENDING, ""
        locked.save(update_fields=["status", "error"])
        paying.refunded_amount += locked.amount
        paying.save(update_fields=["refunded_amount", "updated_at"])
        _set_payment_status(paying.order_id)
        from ..tasks import send_refund

        enqueue(send_refund, locked.pk)
    return locked


def refunds_resend(*, now=None) -> int:
    """Queue again refunds a provider should have moved by now (a lost task, retries run out)."""
    now = now or timezone.now()
    from ..tasks import send_refund

    online = [m for m in settings.PAYMENT_PROVIDERS if not provider_for(m).refunds_by_hand]
    stuck = list(
        Refund.objects.filter(
            status=RefundStatus.PENDING,
            payment__method__in=online,
            created_at__lt=now - timedelta(minutes=10),
        ).values_list("pk", flat=True)
    )
    for pk in stuck:
        enqueue(send_refund, pk)  # a sender holding the lease makes the others return at once
    return len(stuck)


# --- Holding stock, reconciling ----------------------------------------------------------------


def payments_expire_unpaid(*, now=None) -> int:
    """Cancel orders whose payment did not come in within the hold; return how many.

    Before letting an order go, the provider is asked what became of its payment: one paid at
    the last minute whose event is still on its way confirms the order instead. The provider's
    page is closed first (a Stripe session expired), so nobody pays after the stock went back;
    one that still slips through is refunded when its event arrives.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PAYMENT_HOLD_MINUTES)
    due = Order.objects.filter(status=OrderStatus.PENDING_PAYMENT, created_at__lt=cutoff).exclude(
        payments__status=PaymentRecordStatus.PENDING, payments__expires_at__gt=now
    )
    expired = 0
    for order_id in list(due.values_list("pk", flat=True)):
        for payment in Payment.objects.filter(order_id=order_id, status=PaymentRecordStatus.PENDING):
            provider = provider_for(payment.method)
            try:
                if _settled_by_provider(payment):
                    continue
                provider.cancel(payment=payment)
                if _settled_by_provider(payment):  # paid between our question and the close
                    continue
            except ProviderUnreachable:
                logger.warning(
                    "payment %s: provider unreachable, order kept until the next sweep", payment.pk
                )
                continue
            except PaymentError as exc:
                logger.warning("payment %s: %s", payment.pk, exc)
            with transaction.atomic():
                locked = _lock(payment.pk)
                if locked.status == PaymentRecordStatus.PENDING:
                    _expired(locked)
                    expired += 1
        expired += _expire_without_payment(order_id)
    return expired


def _expire_without_payment(order_id: int) -> int:
    """Cancel an order past its hold with no payment waiting (its page closed after a partial
    cancel, and the buyer never paid again) — unless a closed attempt was paid after all."""
    closed = Payment.objects.filter(order_id=order_id, status=PaymentRecordStatus.CANCELLED).exclude(
        reference=""
    )
    for payment in closed:
        try:
            if _settled_by_provider(payment):
                return 0
        except PaymentError as exc:
            logger.warning("payment %s: %s; order kept until the next sweep", payment.pk, exc)
            return 0
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        waiting = order.payments.filter(status=PaymentRecordStatus.PENDING).exists()
        if order.status != OrderStatus.PENDING_PAYMENT or waiting:
            return 0
        order_transition(order=order, to=OrderStatus.CANCELLED, note=EXPIRED_NOTE)
        _tell(order.pk, "expired")
    return 1


def _settled_by_provider(payment: Payment) -> bool:
    """Ask the provider about a payment and apply a "paid" it reports; return whether it was paid."""
    outcome = provider_for(payment.method).fetch(payment=payment)
    if outcome is None or outcome.event != "paid":
        return False
    payment_outcome_apply(method=payment.method, outcome=outcome)
    return True


def payments_reconcile(*, now=None) -> int:
    """Ask providers about unpaid orders and paid pages no event told of; repair. Return repairs made.

    So a webhook that never arrives changes nothing in the end: a paid session confirms its
    order (or is refunded if the order was cancelled meanwhile), an expired one cancels it.
    One payment that cannot be repaired (an amount that does not match) is logged for staff
    and does not stop the others. Events stored but never processed, and refunds a provider
    should have moved by now, are queued again.
    """
    now = now or timezone.now()
    repaired = 0
    stale = Payment.objects.filter(
        status=PaymentRecordStatus.PENDING, created_at__lt=now - RECONCILE_AFTER
    ).exclude(reference="")
    for payment in list(stale):
        repaired += _reconcile_one(
            payment.method, lambda payment=payment: provider_for(payment.method).fetch(payment=payment)
        )
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
            if payment is not None and payment.status not in (
                PaymentRecordStatus.PAID,
                PaymentRecordStatus.RETURNED,
            ):
                repaired += _reconcile_one(method, lambda outcome=outcome: outcome)
    webhooks_reprocess(now=now)
    refunds_resend(now=now)
    return repaired


def _reconcile_one(method: str, outcome_of) -> int:
    try:
        outcome = outcome_of()
        if outcome is None:
            return 0
        return 1 if payment_outcome_apply(method=method, outcome=outcome) is not None else 0
    except PaymentError as exc:
        logger.error("reconcile %s: %s (%s)", method, exc.message, exc.code)
        return 0
