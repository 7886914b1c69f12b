"""Problems after delivery (issue #7, item 6), and completing orders once nobody can report one.

- Within PROBLEM_REPORT_HOURS of a part's delivery (its `delivered` status change) the buyer may
  report a problem with one of its lines: what is wrong, how much of it, a photo. One report
  waits at a time per line.
- The household that sold it, or staff, answer: a refund of at most what the line cost (less
  what was already refunded on it), or a refusal with a reason. A refund goes back the way the
  buyer paid (`payment_refund`: through Stripe for a card; a cash refund recorded for staff to
  pay back by hand for cash on delivery and bank transfers) and the household's ledger gives
  that part back (`ledger_reverse`), in the same transaction, once.
- Cash on delivery collected part by part: until the courier has collected the whole order the
  payment is not `paid`, so there is nothing to refund yet. The refund is then decided when the
  cash is all in (`problems_refund_due`, called when the payment becomes paid).
- An order whose every delivered part is past its window with no open problem is completed
  (`orders_complete_delivered`, a periodic task; running it twice completes nothing twice).
"""

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace.errors import Conflict
from marketplace.money import format_vnd

from ..hooks import order_changed
from ..models import (
    FarmOrder,
    FarmOrderStatus,
    Order,
    OrderLine,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    Problem,
    ProblemKind,
    ProblemStatus,
    StatusChange,
)

DESCRIPTION_MAX = 1000
ANSWER_MAX = 500
# Stored untranslated (gettext_noop) and shown with gettext, like the other notes the system writes.
REFUND_REASON = gettext_noop("Refund for a problem reported after delivery.")
COMPLETED_NOTE = gettext_noop("The time to report a problem is over: the order is complete.")


# --- Reading the window -------------------------------------------------------------------------


def delivered_at(farm_order: FarmOrder, changes=None) -> datetime | None:
    """Return when a part was delivered (its `delivered` status change), or None.

    `changes`: the order's status changes already loaded (an order page), to read without a query.
    """
    if changes is None:
        changes = StatusChange.objects.filter(farm_order=farm_order, to_status=FarmOrderStatus.DELIVERED)
        return changes.order_by("-at").values_list("at", flat=True).first()
    times = [
        c.at for c in changes if c.farm_order_id == farm_order.pk and c.to_status == FarmOrderStatus.DELIVERED
    ]
    return max(times, default=None)


def report_until(farm_order: FarmOrder, changes=None) -> datetime | None:
    """Return until when the buyer may report a problem with a part, or None (not delivered)."""
    if farm_order.status != FarmOrderStatus.DELIVERED:
        return None
    at = delivered_at(farm_order, changes)
    return None if at is None else at + timedelta(hours=settings.PROBLEM_REPORT_HOURS)


def delivered_quantity(line: OrderLine) -> Decimal:
    """Return how much of a line was delivered: what was weighed when packed, else what was ordered."""
    return line.actual_quantity if line.actual_quantity is not None else line.quantity


def refund_left(line: OrderLine) -> int:
    """Return how much of a line may still be refunded: its cost less the refunds resolved on it."""
    done = (
        Problem.objects.filter(line=line, status=ProblemStatus.RESOLVED).aggregate(
            total=Sum("refund_amount")
        )["total"]
        or 0
    )
    return max(line.line_total - done, 0)


def is_staff(user) -> bool:
    from marketplace.accounts.models import Role

    return bool(user and user.is_authenticated and (user.is_staff or user.role == Role.STAFF))


def can_answer(problem: Problem, user) -> bool:
    """Return whether `user` may resolve or decline: the household that sold the line, or staff."""
    if is_staff(user):
        return True
    return bool(user and user.is_authenticated and problem.farm_order.farm.owner_id == user.pk)


# --- Reporting ----------------------------------------------------------------------------------


def _tell(order_id: int, event: str, farm_order_id: int) -> None:
    from ..tasks import notify_after_commit

    notify_after_commit(order_id, event, [farm_order_id])


def _clean_photo(photo, errors: dict):
    if not photo:
        return None
    from farms.images import clean_image

    try:
        return clean_image(photo)
    except ValidationError as exc:
        errors["photo"] = exc.messages
        return None


def problem_report(
    *, order: Order, line_id, by, kind: str, quantity, description: str = "", photo=None
) -> Problem:
    """Record the buyer's report of a problem with a delivered line; tell the household.

    400 (field messages): `line` not of this order, `kind`, `quantity` (more than 0, at most what
    was delivered, whole for counted units), `description`, `photo`. 409: the part is not
    delivered (`not_delivered`), the time to report is over (`report_window_closed`), or a report
    on the line is still waiting for an answer (`problem_open`).
    """
    from farms.units import is_fractional

    from .cart import parse_quantity, quantity_text

    if by is None or by.pk != order.buyer_id:
        raise PermissionDenied
    errors: dict[str, list] = {}
    line = None
    if str(line_id).isascii() and str(line_id).isdigit():
        line = OrderLine.objects.filter(pk=int(line_id), farm_order__order=order).first()
    if line is None:
        errors["line"] = [_("Choose a line of this order.")]
    if kind not in ProblemKind.values:
        errors["kind"] = [_("Choose what is wrong from the list.")]
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [_("Use at most %(max)s characters.") % {"max": DESCRIPTION_MAX}]
    try:
        amount = parse_quantity(quantity)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        amount = None
    if line is not None and amount is not None:
        delivered = delivered_quantity(line)
        if not is_fractional(line.unit) and amount != amount.to_integral_value():
            errors["quantity"] = [_("This unit is counted: use a whole number.")]
        elif amount > delivered:
            errors["quantity"] = [
                _("At most what was delivered: %(delivered)s — you entered %(quantity)s.")
                % {
                    "delivered": quantity_text(delivered, line.unit),
                    "quantity": quantity_text(amount, line.unit),
                }
            ]
    cleaned = _clean_photo(photo, errors)  # before any lock: decoding is slow
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # The order's lock: a report and the completion sweep take turns.
        Order.objects.select_for_update().filter(pk=order.pk).first()
        farm_order = FarmOrder.objects.get(pk=line.farm_order_id)
        if farm_order.status != FarmOrderStatus.DELIVERED:
            raise Conflict(
                _("Problems can be reported once this household's goods are delivered."),
                code="not_delivered",
                line=line.pk,
            )
        until = report_until(farm_order)
        if until is None or timezone.now() > until:
            raise Conflict(
                _("Problems can be reported up to %(hours)s hours after delivery; that time is over.")
                % {"hours": settings.PROBLEM_REPORT_HOURS},
                code="report_window_closed",
                line=line.pk,
            )
        if Problem.objects.filter(line=line, status=ProblemStatus.OPEN).exists():
            raise _already_open(line)
        problem = Problem(
            farm_order=farm_order,
            line=line,
            reported_by=by,
            kind=kind,
            quantity=amount,
            description=description,
        )
        if cleaned is not None:
            # Private storage, served only through a checked view; the name is not guessable either.
            problem.photo.save(
                f"problem-{uuid.uuid4().hex}.{cleaned.extension}", ContentFile(cleaned.content), save=False
            )
        try:
            with transaction.atomic():
                problem.save()
        except IntegrityError:
            raise _already_open(line) from None  # reported twice at the same moment
        _tell(order.pk, "problem_reported", farm_order.pk)
    return problem


def _already_open(line: OrderLine) -> Conflict:
    return Conflict(
        _("A report on %(product)s is already waiting for the household's answer.")
        % {"product": line.product_name},
        code="problem_open",
        line=line.pk,
    )


# --- Answering ----------------------------------------------------------------------------------


def _answer_text(answer: str, *, required: bool) -> str:
    answer = (answer or "").strip()
    if required and not answer:
        raise ValidationError({"answer": [_("Tell the buyer why, in a few words.")]})
    if len(answer) > ANSWER_MAX:
        raise ValidationError({"answer": [_("Use at most %(max)s characters.") % {"max": ANSWER_MAX}]})
    return answer


def _lock_open(problem: Problem, by) -> tuple[Order, Problem]:
    """Lock the order, then the problem (the order every refund path takes); refuse an answered one."""
    order_id = FarmOrder.objects.filter(pk=problem.farm_order_id).values_list("order_id", flat=True).get()
    order = Order.objects.select_for_update().get(pk=order_id)
    locked = (
        Problem.objects.select_for_update(of=("self",))
        .select_related("line", "farm_order__farm")
        .get(pk=problem.pk)
    )
    if not can_answer(locked, by):
        raise PermissionDenied
    if locked.status != ProblemStatus.OPEN:
        raise Conflict(
            _("This report has already been answered."), code="problem_answered", status=locked.status
        )
    return order, locked


def _record_answer(problem: Problem, *, status: str, by, answer: str, refund_amount: int = 0) -> None:
    problem.status = status
    problem.refund_amount = refund_amount
    problem.answer = answer
    problem.answered_by = by
    problem.answered_at = timezone.now()
    problem.save(update_fields=["status", "refund_amount", "answer", "answered_by", "answered_at"])


def _refund_amount(value) -> int:
    if isinstance(value, bool):
        value = None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(
            {"refund_amount": [_("Enter a whole number of đồng, for example 45000.")]}
        ) from None


def refund_amount_check(line: OrderLine, amount: int) -> None:
    """Refuse a refund outside 1 đồng … what the line cost less the refunds already resolved on it."""
    left = refund_left(line)
    if left <= 0:
        raise ValidationError({"refund_amount": [_("Everything this line cost has already been refunded.")]})
    if not 1 <= amount <= left:
        raise ValidationError(
            {
                "refund_amount": [
                    _("Refund from 1 ₫ to %(left)s (what the line cost, less refunds already made).")
                    % {"left": format_vnd(left)}
                ]
            }
        )


@transaction.atomic
def problem_resolve(*, problem: Problem, by, refund_amount: int, answer: str = "") -> Problem:
    """Refund part or all of a reported line, give the household's ledger that part back; tell the buyer.

    `refund_amount` is from 1 đồng to what the line cost less the refunds already resolved on it.
    The money goes back the way the buyer paid (once: the refund's key is `problem-<id>`);
    answering twice is 409 `problem_answered`.
    """
    from .ledger import ledger_reverse
    from .payments import payment_refund

    answer = _answer_text(answer, required=False)
    amount = _refund_amount(refund_amount)
    order, locked = _lock_open(problem, by)
    refund_amount_check(locked.line, amount)
    _record_answer(locked, status=ProblemStatus.RESOLVED, by=by, answer=answer, refund_amount=amount)
    payment_refund(order=order, amount=amount, key=f"problem-{locked.pk}", reason=REFUND_REASON)
    ledger_reverse(farm_order=locked.farm_order, key=f"refund:{locked.pk}", by=by, note=REFUND_REASON)
    order_changed.send(sender=Order, order_id=locked.farm_order.order_id)
    _tell(order.pk, "problem_resolved", locked.farm_order_id)
    return locked


@transaction.atomic
def problem_decline(*, problem: Problem, by, answer: str) -> Problem:
    """Decline a report with a reason the buyer is told (required); nothing is refunded."""
    answer = _answer_text(answer, required=True)
    order, locked = _lock_open(problem, by)
    _record_answer(locked, status=ProblemStatus.DECLINED, by=by, answer=answer)
    _tell(order.pk, "problem_declined", locked.farm_order_id)
    return locked


def problems_refund_due(*, order: Order) -> int:
    """Decide the refunds of problems resolved before the order's cash was all collected; return how many.

    Call in the transaction that marks the payment paid. Each refund has its problem's key, so
    a problem refunded already is not refunded again.
    """
    from .payments import payment_refund

    done = 0
    for problem in Problem.objects.filter(
        farm_order__order=order, status=ProblemStatus.RESOLVED, refund_amount__gt=0
    ).order_by("pk"):
        if payment_refund(
            order=order, amount=problem.refund_amount, key=f"problem-{problem.pk}", reason=REFUND_REASON
        ):
            done += 1
    return done


# --- Completing orders --------------------------------------------------------------------------


def orders_complete_delivered(*, now=None) -> int:
    """Complete delivered orders whose every part is past its report window with no open problem,
    and which are paid (a cash-on-delivery order short of cash stays delivered for staff).

    Return how many were completed now. Safe to run twice: an order is checked again under its
    lock, and a completed one is no longer `delivered`.
    """
    from .orders import order_transition

    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.PROBLEM_REPORT_HOURS)
    recent = StatusChange.objects.filter(
        order=OuterRef("pk"), farm_order__isnull=False, to_status=FarmOrderStatus.DELIVERED, at__gte=cutoff
    )
    waiting = Problem.objects.filter(farm_order__order=OuterRef("pk"), status=ProblemStatus.OPEN)
    due = (
        Order.objects.filter(status=OrderStatus.DELIVERED)
        .exclude(Exists(recent))
        .exclude(Exists(waiting))
        # Cash on delivery not collected in full (a courier recorded less): staff look first.
        .exclude(payment_method=PaymentMethod.COD, payment_status=PaymentStatus.UNPAID)
        .order_by("pk")
    )
    completed = 0
    for order_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if (
                order.status != OrderStatus.DELIVERED
                or Problem.objects.filter(farm_order__order=order, status=ProblemStatus.OPEN).exists()
            ):
                continue  # reported or completed while the sweep ran
            order_transition(order=order, to=OrderStatus.COMPLETED, note=COMPLETED_NOTE)
        completed += 1
    return completed
