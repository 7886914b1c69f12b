"""Order numbers and the two status transitions every path goes through (DESIGN.md house rule 4).

A transition locks the row, checks `orders.states`, saves and records a `StatusChange`
(who, when, from, to, why). A farm-order transition then rolls the order's status up by the
written rule and records that change too, by the same actor.
"""

import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace.errors import Conflict

from ..hooks import order_changed
from ..models import FarmOrder, FarmOrderStatus, Order, OrderStatus, StatusChange
from ..states import (
    FARM_ORDER_TRANSITIONS,
    LEAVING_STATUSES,
    LIVE_FARM_ORDER_STATUSES,
    ORDER_TRANSITIONS,
    is_allowed,
    order_status_from,
)

NUMBER_ATTEMPTS = 8
# Stored untranslated and marked for translation: the timeline shows it with gettext.
ROLL_UP_NOTE = gettext_noop("Follows its households' orders.")


def order_number_new() -> str:
    """Return an unused order number `CN-DDMM-NNNN`: today's date in Cần Thơ, four random digits.

    The unique constraint still decides at insert time; a checkout that loses a race retries.
    Numbers are unique for all time, so a calendar day's 10,000 four-digit numbers run out over
    the years: when draws keep hitting used ones the number grows a digit (`CN-DDMM-NNNNN`, then
    six), still short enough to read over the phone.
    """
    day = timezone.localdate().strftime("%d%m")
    for digits in (4, 5, 6):
        for _attempt in range(NUMBER_ATTEMPTS):
            number = f"CN-{day}-{secrets.randbelow(10**digits):0{digits}d}"
            if not Order.objects.filter(number=number).exists():
                return number
    raise RuntimeError(f"no free order number for {day}")


def _check_move(table, *, current: str, to: str, message: str, label_of) -> None:
    """Refuse a move the table does not allow: 409 `invalid_transition` naming both statuses."""
    if not is_allowed(table, current, to):
        raise Conflict(
            message % {"current": label_of(current), "to": label_of(to)},
            code="invalid_transition",
            status=current,
            to=to,
        )


def order_note_record(*, order: Order, by, note: str) -> StatusChange:
    """Record on the timeline something people did that changes no status (staff saw a transfer)."""
    return StatusChange.objects.create(
        order=order, from_status=order.status, to_status=order.status, by=by, note=note
    )


def _order_move(*, order: Order, to: str, by, note: str) -> Order:
    """Move a locked order, or refuse; record the change."""
    _check_move(
        ORDER_TRANSITIONS,
        current=order.status,
        to=to,
        message=_("This order is “%(current)s” and cannot become “%(to)s”."),
        label_of=_order_label,
    )
    StatusChange.objects.create(order=order, from_status=order.status, to_status=to, by=by, note=note)
    order.status = to
    order.save(update_fields=["status", "updated_at"])
    order_changed.send(sender=Order, order_id=order.pk)
    return order


def _order_label(status: str) -> str:
    return str(OrderStatus(status).label) if status in OrderStatus.values else status


def _farm_order_label(status: str) -> str:
    return str(FarmOrderStatus(status).label) if status in FarmOrderStatus.values else status


@transaction.atomic
def order_transition(*, order: Order, to: str, by=None, note: str = "") -> Order:
    """Move an order to `to` if the table allows it; record who, when and why. Return it fresh.

    Cancelling an order cancels its live parts (each must allow it, else nothing moves), so the
    stock and the money follow the same path as any cancelled part; the roll-up then cancels it.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if (
        to == OrderStatus.CANCELLED
        and locked.status in ORDER_TRANSITIONS
        and to in ORDER_TRANSITIONS[locked.status]
    ):
        live = list(
            FarmOrder.objects.filter(order=locked, status__in=LIVE_FARM_ORDER_STATUSES).values_list(
                "pk", flat=True
            )
        )
        if live:
            moved = farm_orders_move(
                order=locked,
                farm_order_ids=live,
                to=FarmOrderStatus.CANCELLED,
                by=by,
                note=note,
                order_note=note,
            )
            return moved[0].order
    return _order_move(order=locked, to=to, by=by, note=note)


@transaction.atomic
def farm_order_transition(*, farm_order: FarmOrder, to: str, by=None, note: str = "") -> FarmOrder:
    """Move a farm order to `to` if the table allows it, record it, and roll its order up."""
    order = Order.objects.select_for_update().get(pk=farm_order.order_id)
    moved = farm_orders_move(order=order, farm_order_ids=[farm_order.pk], to=to, by=by, note=note)
    return moved[0]


def farm_orders_move(
    *, order: Order, farm_order_ids, to: str, by=None, note: str = "", order_note: str = ROLL_UP_NOTE
) -> list[FarmOrder]:
    """Move several farm orders of one order to `to` at once, record each, and roll the order up.

    The caller holds the order's row lock (`select_for_update`), so two households moving
    their parts at once roll the order up one after the other. Every farm order must be
    allowed the move, or nothing moves. A constant number of queries, however many move.
    Return the moved farm orders, with `.order` set to the (rolled-up) order.
    """
    wanted = set(farm_order_ids)
    siblings = list(FarmOrder.objects.select_for_update().filter(order=order).order_by("pk"))
    moving = [fo for fo in siblings if fo.pk in wanted]
    if len(moving) != len(wanted):
        raise FarmOrder.DoesNotExist("a farm order is not part of this order")
    for farm_order in moving:
        _check_move(
            FARM_ORDER_TRANSITIONS,
            current=farm_order.status,
            to=to,
            message=_("This household's order is “%(current)s” and cannot become “%(to)s”."),
            label_of=_farm_order_label,
        )
    now = timezone.now()
    StatusChange.objects.bulk_create(
        StatusChange(
            order=order, farm_order=fo, from_status=fo.status, to_status=to, by=by, note=note, at=now
        )
        for fo in moving
    )
    released = {"released_at": now} if to == FarmOrderStatus.NEW else {}
    FarmOrder.objects.filter(pk__in=wanted).update(status=to, updated_at=now, **released)
    for farm_order in moving:
        farm_order.status = to
        farm_order.updated_at = now
        farm_order.order = order
        if released:
            farm_order.released_at = now
    if to in LEAVING_STATUSES:
        from .settle import parts_settle

        parts_settle(order=order, left=moving, parts=siblings, reason=note)

    rolled = order_status_from([fo.status for fo in siblings], current=order.status)
    if rolled != order.status:
        _order_move(order=order, to=rolled, by=by, note=order_note)
    else:
        order_changed.send(sender=Order, order_id=order.pk)
    return moving
