"""The order state machine: every allowed move, forbidden ones, the roll-up rule, the record, numbers."""

import itertools
import re
from collections import deque
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from marketplace.geo.models import Ward
from orders import services
from orders.models import FarmOrder, FarmOrderStatus, Order, OrderStatus, StatusChange
from orders.services.orders import ROLL_UP_NOTE
from orders.states import FARM_ORDER_TRANSITIONS, ORDER_TRANSITIONS, is_allowed, order_status_from
from tests.farms.factories import make_farm

# Written out plainly, independent of the module under test.
FARM_STATUSES = [
    "awaiting_payment",
    "new",
    "accepted",
    "ready",
    "picked_up",
    "delivered",
    "rejected",
    "cancelled",
    "failed_delivery",
    "returned",
]
ORDER_STATUSES = [
    "pending_payment",
    "confirmed",
    "processing",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
]


def expected_order_status(farm_statuses, current):
    """The roll-up rule as a person would state it, for orders in pending_payment or confirmed."""
    live = [s for s in farm_statuses if s not in ("rejected", "cancelled", "returned")]
    if not live:
        return "cancelled"
    if all(s == "delivered" for s in live):
        return "delivered"
    if all(s in ("picked_up", "delivered", "failed_delivery") for s in live):
        return "shipped"
    if any(s in ("accepted", "ready", "picked_up", "delivered", "failed_delivery") for s in live):
        return "processing"
    return current


def can_occur(farm_statuses) -> bool:
    """Before payment farm orders are only awaiting it or cancelled; after it, none awaits payment."""
    if "awaiting_payment" in farm_statuses:
        return all(s in ("awaiting_payment", "cancelled") for s in farm_statuses)
    return True


def combinations(households):
    return [c for c in itertools.product(FARM_STATUSES, repeat=households) if can_occur(c)]


def test_statuses_are_the_ones_written_here():
    assert set(FarmOrderStatus.values) == set(FARM_STATUSES) == set(FARM_ORDER_TRANSITIONS)
    assert set(OrderStatus.values) == set(ORDER_STATUSES) == set(ORDER_TRANSITIONS)


# --- The roll-up rule, without a database ---------------------------------------------------------


@pytest.mark.parametrize(
    ("farm_status", "order_status"),
    [
        ("awaiting_payment", "pending_payment"),
        ("new", "confirmed"),
        ("accepted", "processing"),
        ("ready", "processing"),
        ("picked_up", "shipped"),
        ("failed_delivery", "shipped"),
        ("delivered", "delivered"),
        ("rejected", "cancelled"),
        ("cancelled", "cancelled"),
        ("returned", "cancelled"),
    ],
)
def test_roll_up_of_one_household(farm_status, order_status):
    current = "pending_payment" if farm_status == "awaiting_payment" else "confirmed"
    assert order_status_from([farm_status], current=current) == order_status


@pytest.mark.parametrize("households", [1, 2, 3])
def test_roll_up_of_every_combination_that_can_occur(households):
    cases = combinations(households)
    assert len(cases) > households  # the filter keeps the real cases
    for farm_statuses in cases:
        current = "pending_payment" if "awaiting_payment" in farm_statuses else "confirmed"
        assert order_status_from(farm_statuses, current=current) == expected_order_status(
            farm_statuses, current
        ), farm_statuses


@pytest.mark.parametrize(
    ("farm_statuses", "current", "expected"),
    [
        # A cancelled accepted farm order does not take a processing order back to confirmed.
        (["cancelled", "new"], "processing", "processing"),
        (["delivered", "delivered"], "completed", "completed"),
        (["cancelled", "rejected"], "cancelled", "cancelled"),
        (["failed_delivery", "picked_up"], "shipped", "shipped"),
        (["returned", "delivered"], "shipped", "delivered"),
        (["returned", "returned"], "shipped", "cancelled"),
    ],
)
def test_roll_up_never_goes_backwards_nor_leaves_a_final_status(farm_statuses, current, expected):
    assert order_status_from(farm_statuses, current=current) == expected


def reachable_states(households):
    """Walk every state an order with this many households can reach through the tables.

    Payment confirms the order and releases its farm orders to the households in one step (the
    payment service's job); every other move is one farm-order transition followed by the roll-up,
    or completing a delivered order. Fail on a roll-up move the order table does not allow.
    """
    start = ("pending_payment", ("awaiting_payment",) * households)
    seen, queue = {start}, deque([start])
    while queue:
        order, farms = queue.popleft()
        following = []
        if order == "pending_payment" and "awaiting_payment" in farms:
            following.append(("confirmed", tuple("new" if s == "awaiting_payment" else s for s in farms)))
        if order == "delivered":
            following.append(("completed", farms))
        for index, status in enumerate(farms):
            for to in FARM_ORDER_TRANSITIONS[status]:
                if status == "awaiting_payment" and to == "new":
                    continue  # only through payment, above
                moved = (*farms[:index], str(to), *farms[index + 1 :])
                rolled = order_status_from(moved, current=order)
                assert rolled == order or is_allowed(ORDER_TRANSITIONS, order, rolled), (order, moved, rolled)
                following.append((str(rolled), moved))
        for state in following:
            if state not in seen:
                seen.add(state)
                queue.append(state)
    return seen


@pytest.mark.parametrize("households", [1, 2, 3])
def test_every_reachable_state_is_the_one_the_rule_describes(households):
    states = reachable_states(households)
    # The combinations the walk reaches are exactly those `can_occur` admits.
    reached = {tuple(sorted(farms)) for _order, farms in states}
    assert reached == {tuple(sorted(c)) for c in combinations(households)}
    for order, farms in states:
        if order in ("pending_payment", "confirmed"):
            assert order == expected_order_status(farms, order), (order, farms)
        assert order_status_from(farms, current=order) == order, (order, farms)


# --- Transitions through the database -------------------------------------------------------------


@pytest.fixture
def make_order(make_user):
    """Build an order with one farm order per given status, the order in the rolled-up status."""

    def make(*farm_statuses, status=None, buyer=None):
        buyer = buyer or make_user(Role.BUYER)
        current = "pending_payment" if "awaiting_payment" in farm_statuses else "confirmed"
        order = Order.objects.create(
            buyer=buyer,
            number=services.order_number_new(),
            status=status or order_status_from(farm_statuses, current=current),
            subtotal=96000 * len(farm_statuses),
            delivery_fee=20000,
            total=96000 * len(farm_statuses) + 20000,
            delivery_name="Trần Thị Hoa",
            delivery_phone="0912345678",
            delivery_address="12 Đường 30/4",
            delivery_ward=Ward.objects.first(),
        )
        for farm_status in farm_statuses:
            FarmOrder.objects.create(
                order=order, farm=make_farm(make_user), status=farm_status, subtotal=96000
            )
        return order

    return make


FARM_MOVES = [(source, to) for source, tos in FARM_ORDER_TRANSITIONS.items() for to in sorted(tos)]
ORDER_MOVES = [(source, to) for source, tos in ORDER_TRANSITIONS.items() for to in sorted(tos)]


@pytest.mark.parametrize(("source", "to"), FARM_MOVES, ids=[f"{s}->{t}" for s, t in FARM_MOVES])
def test_every_allowed_farm_order_transition(make_order, make_user, source, to):
    order = make_order(source)
    before = order.status
    farm_order = order.farm_orders.get()
    household = farm_order.farm.owner

    moved = services.farm_order_transition(farm_order=farm_order, to=to, by=household, note="why")

    farm_order.refresh_from_db()
    order.refresh_from_db()
    assert moved.status == farm_order.status == to
    assert order.status == expected_order_status(
        [to], "pending_payment" if source == "awaiting_payment" else "confirmed"
    )
    changes = list(
        StatusChange.objects.filter(order=order).values_list("farm_order", "from_status", "to_status")
    )
    expected = [(farm_order.pk, source, to)]
    if order.status != before:
        expected.append((None, before, order.status))
    assert changes == expected


@pytest.mark.parametrize(("source", "to"), ORDER_MOVES, ids=[f"{s}->{t}" for s, t in ORDER_MOVES])
def test_every_allowed_order_transition(make_order, make_user, source, to):
    order = make_order("new", status=source)
    staff = make_user(Role.BUYER)

    moved = services.order_transition(order=order, to=to, by=staff, note="staff fixed it")

    order.refresh_from_db()
    assert moved.status == order.status == to
    change = StatusChange.objects.get(order=order, farm_order=None)
    assert (change.from_status, change.to_status, change.by, change.note) == (
        source,
        to,
        staff,
        "staff fixed it",
    )
    # Cancelling an order cancels its live parts on the same path as any cancelled part.
    parts = StatusChange.objects.exclude(farm_order=None).values_list("from_status", "to_status", "note")
    assert list(parts) == ([("new", "cancelled", "staff fixed it")] if to == "cancelled" else [])
    assert list(order.farm_orders.values_list("status", flat=True)) == [
        "cancelled" if to == "cancelled" else "new"
    ]


FORBIDDEN_FARM_MOVES = [
    ("new", "delivered"),
    ("delivered", "new"),
    ("cancelled", "accepted"),
    ("rejected", "accepted"),
    ("awaiting_payment", "accepted"),
    ("accepted", "rejected"),
    ("picked_up", "cancelled"),
    ("returned", "picked_up"),
    ("failed_delivery", "delivered"),
    ("new", "new"),
]


@pytest.mark.parametrize(
    ("source", "to"), FORBIDDEN_FARM_MOVES, ids=[f"{s}->{t}" for s, t in FORBIDDEN_FARM_MOVES]
)
def test_forbidden_farm_order_transition_is_refused_and_records_nothing(make_order, source, to):
    order = make_order(source)
    before = order.status
    farm_order = order.farm_orders.get()

    with pytest.raises(Conflict) as refused:
        services.farm_order_transition(farm_order=farm_order, to=to)

    assert refused.value.code == "invalid_transition"
    assert refused.value.extra == {"status": source, "to": to}
    assert str(FarmOrderStatus(to).label) in refused.value.message
    farm_order.refresh_from_db()
    order.refresh_from_db()
    assert (farm_order.status, order.status) == (source, before)
    assert not StatusChange.objects.exists()


FORBIDDEN_ORDER_MOVES = [
    ("pending_payment", "processing"),
    ("confirmed", "delivered"),
    ("shipped", "processing"),
    ("delivered", "cancelled"),
    ("completed", "cancelled"),
    ("cancelled", "confirmed"),
]


@pytest.mark.parametrize(
    ("source", "to"), FORBIDDEN_ORDER_MOVES, ids=[f"{s}->{t}" for s, t in FORBIDDEN_ORDER_MOVES]
)
def test_forbidden_order_transition_is_refused_and_records_nothing(make_order, source, to):
    order = make_order("new", status=source)

    with pytest.raises(Conflict) as refused:
        services.order_transition(order=order, to=to)

    assert refused.value.code == "invalid_transition"
    assert refused.value.extra == {"status": source, "to": to}
    order.refresh_from_db()
    assert order.status == source
    assert not StatusChange.objects.exists()


def test_a_transition_records_who_when_from_to_and_why(make_order, make_user):
    order = make_order("new")
    farm_order = order.farm_orders.get()
    household = farm_order.farm.owner
    started = timezone.now()

    services.farm_order_transition(farm_order=farm_order, to="rejected", by=household, note="Mưa, hư hết")

    own, rolled = StatusChange.objects.filter(order=order).order_by("id")
    assert (own.farm_order, own.from_status, own.to_status, own.by, own.note) == (
        farm_order,
        "new",
        "rejected",
        household,
        "Mưa, hư hết",
    )
    assert started <= own.at <= timezone.now()
    # The order follows, recorded as the same person's doing.
    assert (rolled.farm_order, rolled.from_status, rolled.to_status, rolled.by, rolled.note) == (
        None,
        "confirmed",
        "cancelled",
        household,
        ROLL_UP_NOTE,
    )


def test_order_follows_its_households_one_by_one(make_order):
    order = make_order("new", "new")
    first, second = order.farm_orders.order_by("id")

    services.farm_order_transition(farm_order=first, to="rejected")
    order.refresh_from_db()
    assert order.status == "confirmed"  # the other household can still deliver

    for to in ["accepted", "ready", "picked_up", "delivered"]:
        services.farm_order_transition(farm_order=second, to=to)
    order.refresh_from_db()
    assert order.status == "delivered"
    timeline = list(
        StatusChange.objects.filter(order=order, farm_order=None).values_list("to_status", flat=True)
    )
    assert timeline == ["processing", "shipped", "delivered"]


# --- Order numbers --------------------------------------------------------------------------------


def test_order_numbers_are_readable_and_unique(make_order, make_user):
    buyer = make_user(Role.BUYER)
    numbers = [make_order(status="confirmed", buyer=buyer).number for _ in range(30)]
    assert all(re.fullmatch(r"CN-\d{4}-\d{4}", number) for number in numbers)
    assert len(set(numbers)) == len(numbers)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(number=numbers[1]).update(number=numbers[0])


def test_order_number_uses_the_date_in_can_tho_and_retries_a_taken_one(make_order, monkeypatch):
    # 18:30 on 25 November in UTC is already 26 November in Cần Thơ (UTC+7).
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 25, 18, 30, tzinfo=UTC))
    taken = make_order(status="confirmed")
    taken.number = "CN-2611-4821"
    taken.save(update_fields=["number"])
    draws = iter([4821, 4821, 7])
    monkeypatch.setattr("orders.services.orders.secrets.randbelow", lambda _limit: next(draws))

    assert services.order_number_new() == "CN-2611-0007"


def test_order_numbers_grow_a_digit_when_a_days_numbers_keep_clashing(make_order, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 11, 25, 18, 30, tzinfo=UTC))
    taken = make_order(status="confirmed")
    taken.number = "CN-2611-4821"
    taken.save(update_fields=["number"])
    limits = []

    def draw(limit):
        limits.append(limit)
        return 4821

    monkeypatch.setattr("orders.services.orders.secrets.randbelow", draw)
    assert services.order_number_new() == "CN-2611-04821"
    assert limits[-1] == 100_000 and limits.count(10_000) == services.orders.NUMBER_ATTEMPTS
