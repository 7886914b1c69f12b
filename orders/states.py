"""The one order state machine, written as data: which moves are allowed, and the roll-up rule.

Every status change goes through `orders.services.farm_order_transition` or
`orders.services.order_transition`, which check these tables; nothing else writes a status.

Farm order (one household's part):
    awaiting_payment → new → accepted → ready → picked_up → delivered
    awaiting_payment, new, accepted, ready → cancelled     (buyer, household or staff; stock back)
    new → rejected                                         (the household refuses, with a reason)
    picked_up → failed_delivery → picked_up (another try) | returned

Order status follows its farm orders (`order_status_from`), except the moves people make on the
order itself: payment (pending_payment → confirmed), completion (delivered → completed) and
cancelling an unpaid or unaccepted order.

The roll-up rule, over the LIVE farm orders (all but rejected, cancelled and returned):
    - cancelled once none is live;
    - delivered once every live one is delivered;
    - shipped once every live one is picked up, delivered or failed_delivery;
    - processing once any live one is accepted or beyond;
    - otherwise the current status (pending_payment or confirmed).
`failed_delivery` counts as live and as still out with the carrier (like picked_up): the goods
are on their way, either to another delivery attempt or back to the household. Only `returned`
takes it out of the order. The rule never moves an order backwards (a cancelled accepted farm
order does not turn a processing order back into confirmed) and never leaves completed or
cancelled.
"""

from collections.abc import Iterable

from .models import FarmOrderStatus as F
from .models import OrderStatus as O

FARM_ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    F.AWAITING_PAYMENT: frozenset({F.NEW, F.CANCELLED}),
    F.NEW: frozenset({F.ACCEPTED, F.REJECTED, F.CANCELLED}),
    F.ACCEPTED: frozenset({F.READY, F.CANCELLED}),
    F.READY: frozenset({F.PICKED_UP, F.CANCELLED}),
    F.PICKED_UP: frozenset({F.DELIVERED, F.FAILED_DELIVERY}),
    F.FAILED_DELIVERY: frozenset({F.PICKED_UP, F.RETURNED}),
    F.DELIVERED: frozenset(),
    F.REJECTED: frozenset(),
    F.CANCELLED: frozenset(),
    F.RETURNED: frozenset(),
}

# Includes every move the roll-up can make in one farm-order step (for example processing →
# delivered when the last undelivered farm order is cancelled); tests/orders/test_states.py
# walks every reachable state to keep the two in step.
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    O.PENDING_PAYMENT: frozenset({O.CONFIRMED, O.CANCELLED}),
    O.CONFIRMED: frozenset({O.PROCESSING, O.CANCELLED}),
    O.PROCESSING: frozenset({O.SHIPPED, O.DELIVERED, O.CANCELLED}),
    O.SHIPPED: frozenset({O.DELIVERED, O.CANCELLED}),
    O.DELIVERED: frozenset({O.COMPLETED}),
    O.COMPLETED: frozenset(),
    O.CANCELLED: frozenset(),
}

LIVE_FARM_ORDER_STATUSES = frozenset(set(F) - {F.REJECTED, F.CANCELLED, F.RETURNED})
# A part that moves here leaves its order: nothing more is owed for it (a paid share is
# refunded). Its stock goes back to the listing only if it never left the household
# (`STOCK_BACK_STATUSES`): returned goods went out and came back, maybe spoiled, so the
# household decides what to put back on sale.
LEAVING_STATUSES = frozenset(set(F) - LIVE_FARM_ORDER_STATUSES)
STOCK_BACK_STATUSES = frozenset({F.REJECTED, F.CANCELLED})
# A household sees its farm order from `new` on: before that the buyer has not paid. A part
# cancelled before it was ever `new` stays unseen (`FarmOrder.released_at` is empty).
HOUSEHOLD_VISIBLE_STATUSES = frozenset(set(F) - {F.AWAITING_PAYMENT})

_OUT_WITH_CARRIER = frozenset({F.PICKED_UP, F.DELIVERED, F.FAILED_DELIVERY})
_ACCEPTED_OR_BEYOND = frozenset({F.ACCEPTED, F.READY} | _OUT_WITH_CARRIER)
# Forward order of the order's path, to keep the roll-up from moving backwards.
_RANK = {O.PENDING_PAYMENT: 0, O.CONFIRMED: 1, O.PROCESSING: 2, O.SHIPPED: 3, O.DELIVERED: 4}
FINAL_ORDER_STATUSES = _FINAL = frozenset({O.COMPLETED, O.CANCELLED})


def is_allowed(table: dict[str, frozenset[str]], current: str, to: str) -> bool:
    """Return whether the table allows the move from `current` to `to`."""
    return to in table.get(current, frozenset())


def order_status_from(farm_order_statuses: Iterable[str], *, current: str) -> str:
    """Return the order status its farm orders call for (see the module docstring)."""
    if current in _FINAL:
        return current
    live = [status for status in farm_order_statuses if status in LIVE_FARM_ORDER_STATUSES]
    if not live:
        return O.CANCELLED
    if all(status == F.DELIVERED for status in live):
        target = O.DELIVERED
    elif all(status in _OUT_WITH_CARRIER for status in live):
        target = O.SHIPPED
    elif any(status in _ACCEPTED_OR_BEYOND for status in live):
        target = O.PROCESSING
    else:
        return current
    return target if _RANK[target] > _RANK[current] else current
