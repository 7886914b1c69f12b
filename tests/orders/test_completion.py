"""Completing orders: delivered → completed once every part's problem window is over and no
report waits for an answer; once, whatever runs the sweep twice.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from marketplace.accounts.models import Role
from marketplace.celery import app as celery_app
from marketplace.errors import Conflict
from orders.models import Order, StatusChange
from orders.services.problems import orders_complete_delivered, problem_decline, problem_resolve
from orders.tasks import complete_delivered_orders
from tests.orders.test_problems import HOURS, deliver, delivered_order, lines_of, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered_at():
    return timezone.now().replace(microsecond=0) + timedelta(hours=1)


def status_of(order) -> str:
    return Order.objects.get(pk=order.pk).status


def completions(order) -> int:
    return StatusChange.objects.filter(order=order, farm_order=None, to_status="completed").count()


def test_an_order_completes_only_after_the_window_and_once(buyer, make_user, delivered_at):
    order = delivered_order(buyer, make_user, at=delivered_at)
    assert status_of(order) == "delivered"
    assert orders_complete_delivered(now=delivered_at + timedelta(hours=HOURS - 1)) == 0
    assert (
        orders_complete_delivered(now=delivered_at + timedelta(hours=HOURS)) == 0
    )  # the last second still counts
    assert status_of(order) == "delivered"
    later = delivered_at + timedelta(hours=HOURS, seconds=1)
    assert orders_complete_delivered(now=later) == 1
    assert status_of(order) == "completed"
    assert orders_complete_delivered(now=later) == 0  # the sweep again: nothing more
    assert completions(order) == 1


def test_an_open_problem_keeps_the_order_open_until_answered(buyer, make_user, delivered_at):
    order = delivered_order(buyer, make_user, at=delivered_at)
    first, second = lines_of(order)
    with time_machine.travel(delivered_at + timedelta(hours=2), tick=False):
        problem = report(order, first)
        other = report(order, second)
    later = delivered_at + timedelta(hours=HOURS + 5)
    assert orders_complete_delivered(now=later) == 0
    owner = order.farm_orders.get().farm.owner
    problem_resolve(problem=problem, by=owner, refund_amount=10000)
    assert orders_complete_delivered(now=later) == 0  # the other report still waits
    problem_decline(problem=other, by=owner, answer="Hàng đủ")
    assert orders_complete_delivered(now=later) == 1
    assert status_of(order) == "completed"


def test_the_last_part_delivered_sets_the_time(buyer, make_user, delivered_at):
    order = delivered_order(buyer, make_user, at=delivered_at, farms=2, per_farm=1, deliver_parts=1)
    assert status_of(order) == "processing"  # the second household's part is not out yet
    assert orders_complete_delivered(now=delivered_at + timedelta(hours=HOURS + 1)) == 0  # not delivered yet
    second_at = delivered_at + timedelta(hours=10)
    with time_machine.travel(second_at, tick=False):
        deliver(order.farm_orders.order_by("pk")[1])
    assert status_of(order) == "delivered"
    assert orders_complete_delivered(now=delivered_at + timedelta(hours=HOURS + 1)) == 0
    assert orders_complete_delivered(now=second_at + timedelta(hours=HOURS, seconds=1)) == 1
    assert status_of(order) == "completed"


def test_only_delivered_orders_are_completed(buyer, make_user, delivered_at):
    from tests.orders.factories import listings, place

    (product,) = listings(make_user, price=30000, stock="10")
    waiting = place(make_user(Role.BUYER), [(product, 1)])
    done = delivered_order(buyer, make_user, at=delivered_at, per_farm=1)
    assert orders_complete_delivered(now=delivered_at + timedelta(days=10)) == 1
    assert (status_of(waiting), status_of(done)) == ("confirmed", "completed")


def test_the_periodic_task_completes_and_is_scheduled(buyer, make_user, delivered_at):
    order = delivered_order(buyer, make_user, at=delivered_at, per_farm=1)
    with time_machine.travel(delivered_at + timedelta(hours=HOURS, minutes=1), tick=False):
        assert complete_delivered_orders.delay().get() == 1
        assert complete_delivered_orders.delay().get() == 0
    assert status_of(order) == "completed"
    entry = next(
        e for e in celery_app.conf.beat_schedule.values() if e["task"] == "orders.complete_delivered_orders"
    )
    assert entry["schedule"].minute == {0, 15, 30, 45}
    assert completions(order) == 1
    # Completed: the window is over, so the buyer can no longer report.
    late = delivered_at + timedelta(hours=HOURS, minutes=1)
    with time_machine.travel(late, tick=False), pytest.raises(Conflict) as refused:
        report(order, lines_of(order)[0])
    assert refused.value.code == "report_window_closed"


def test_a_cash_order_short_of_cash_stays_delivered_for_staff(buyer, make_user, delivered_at):
    from logistics.services import shipment_step
    from orders import services

    order = place_accepted(buyer, make_user)
    part = order.farm_orders.get()
    services.farm_order_ready(farm_order=part, by=part.farm.owner)
    shipment = type(part).objects.get(pk=part.pk).shipment
    with time_machine.travel(delivered_at, tick=False):
        shipment_step(shipment=shipment, type="picked_up")
        shipment_step(
            shipment=shipment,
            type="delivered",
            cash_collected=shipment.cash_to_collect - 1000,
            note="Khách thiếu 1.000",
        )
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("delivered", "unpaid")
    assert orders_complete_delivered(now=delivered_at + timedelta(hours=HOURS + 1)) == 0
    assert status_of(order) == "delivered"


def place_accepted(buyer, make_user):
    from orders import services
    from tests.orders.factories import listings, place

    (product,) = listings(make_user, price=50000, stock="10")
    order = place(buyer, [(product, 2)])
    part = order.farm_orders.get()
    services.farm_order_accept(farm_order=part, by=part.farm.owner)
    return order
