"""Households answer within FARM_ORDER_ANSWER_HOURS: reminded once before, cancelled after (frozen time)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from farms.models import Product
from marketplace.notifications.models import Notification
from orders import services
from orders.models import FarmOrder, OrderNotice
from orders.services.fulfilment import farm_order_deadline, farm_orders_sweep_deadlines
from tests.orders.factories import listings, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer, make_user, settings):
    settings.FARM_ORDER_ANSWER_HOURS = 12
    settings.FARM_ORDER_REMINDER_HOURS = 3
    products = listings(make_user, farms=2, stock="10")
    return place(buyer, [(p, 2) for p in products])


def parts(order):
    return list(order.farm_orders.order_by("pk"))


def sweep_at(moment, django_capture_on_commit_callbacks):
    with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
        return farm_orders_sweep_deadlines()


def test_the_deadline_is_twelve_hours_after_the_household_was_shown_the_part(order):
    first = parts(order)[0]
    assert farm_order_deadline(first) == first.released_at + timedelta(hours=12)


def test_nothing_happens_before_the_reminder_and_one_reminder_is_sent(
    order, django_capture_on_commit_callbacks
):
    first, _second = parts(order)
    due = farm_order_deadline(first)
    assert sweep_at(due - timedelta(hours=3, seconds=1), django_capture_on_commit_callbacks) == (0, 0)
    assert sweep_at(due - timedelta(hours=3), django_capture_on_commit_callbacks) == (2, 0)
    assert sweep_at(due - timedelta(hours=1), django_capture_on_commit_callbacks) == (0, 0)  # once only
    reminders = Notification.objects.filter(user=first.farm.owner, subject__contains=order.number)
    assert reminders.filter(body__contains=timezone.localtime(due).strftime("%H:%M")).count() == 1
    assert OrderNotice.objects.filter(order=order, key__startswith="reminder:").count() == 2


def test_an_unanswered_part_is_cancelled_at_the_deadline_not_a_second_before(
    order, buyer, django_capture_on_commit_callbacks
):
    first, second = parts(order)
    services.farm_order_accept(farm_order=second, by=second.farm.owner)
    due = farm_order_deadline(first)
    assert sweep_at(due - timedelta(seconds=1), django_capture_on_commit_callbacks)[1] == 0
    assert FarmOrder.objects.get(pk=first.pk).status == "new"
    assert sweep_at(due, django_capture_on_commit_callbacks)[1] == 1
    assert sweep_at(due + timedelta(minutes=5), django_capture_on_commit_callbacks)[1] == 0
    assert [p.status for p in parts(order)] == ["cancelled", "accepted"]
    stocks = list(Product.objects.order_by("pk").values_list("stock", flat=True))
    assert stocks == [10, 8]  # the cancelled part's stock is back, once
    order.refresh_from_db()
    assert order.status == "processing" and order.total == second.subtotal + order.delivery_fee
    told = Notification.objects.filter(user=buyer, subject__contains=first.farm.name)
    assert told.exists()
    assert order.status_changes.filter(farm_order=first, to_status="cancelled").get().note == (
        "The household did not answer in time."
    )


def test_an_accepted_or_rejected_part_is_never_cancelled_by_the_sweep(
    order, django_capture_on_commit_callbacks
):
    first, second = parts(order)
    services.farm_order_accept(farm_order=first, by=first.farm.owner)
    services.farm_order_reject(farm_order=second, by=second.farm.owner, reason="Hết hàng")
    assert sweep_at(farm_order_deadline(first) + timedelta(days=2), django_capture_on_commit_callbacks) == (
        0,
        0,
    )
    assert [p.status for p in parts(order)] == ["accepted", "rejected"]


def test_the_households_api_shows_the_deadline_while_the_part_is_new(order, api_as):
    first = parts(order)[0]
    client = api_as(first.farm.owner)
    (row,) = client.get("/api/v1/farm-orders/").json()["results"]
    due = timezone.localtime(farm_order_deadline(first))
    assert row["deadline"] == due.isoformat()
    services.farm_order_accept(farm_order=first, by=first.farm.owner)
    (row,) = client.get("/api/v1/farm-orders/").json()["results"]
    assert row["deadline"] is None
