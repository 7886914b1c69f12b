"""Couriers' API: their runs and the runs they may claim, one step at a time, and what each step does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from farms.models import Product
from logistics.hooks import shipment_changed
from logistics.models import Run, Shipment
from logistics.runs import run_claim, runs_build
from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from marketplace.notifications.models import Notification
from orders.models import OrderLine, ProduceLoss
from tests.logistics.conftest import PERISHABLE, PROCESSED, shipments_of, ward_index_in

pytestmark = pytest.mark.django_db


def step(client, shipment, type_, **data):
    return client.post(f"/api/v1/shipments/{shipment.pk}/events/", {"type": type_, **data}, format="json")


@pytest.fixture
def world(ship, courier, make_courier, inner, outer, open_zone):
    """My run (inner), another courier's run (outer), an open run, and an unassigned run of outer."""
    ship(farms=[("Hộ của tôi", 0)])
    (mine,) = runs_build()
    other = make_courier(outer)
    ship(farms=[("Hộ Ven đô", 4)])
    (theirs,) = runs_build()
    ship(farms=[("Hộ Ven đô 2", 4)])
    (outer_open,) = runs_build()
    Run.objects.filter(pk=outer_open.pk).update(courier=None, assigned_at=None)
    ship(farms=[("Hộ Ngoại thành", ward_index_in(open_zone))])
    (open_run,) = runs_build()
    make_courier(inner)  # a second courier of my zone: my runs still show once
    assert (mine.courier, theirs.courier, open_run.courier) == (courier, other, None)
    return {"mine": mine, "theirs": theirs, "open": open_run, "outer_open": outer_open, "other": other}


def test_runs_of_a_day_and_a_bad_date(my_run, courier, api_as):
    client = api_as(courier)
    today = timezone.localdate()
    data = client.get(f"/api/v1/runs/?date={today}").json()
    assert data["count"] == 1
    assert data["results"] == [
        {
            "id": my_run.pk,
            "date": today.isoformat(),
            "number": 1,
            "zone": {"id": my_run.zone_id, "name": "Nội thành"},
            "courier": courier.pk,
            "shipments": 1,
            "done": 0,
        }
    ]
    assert client.get(f"/api/v1/runs/?date={today + timedelta(days=1)}").json()["count"] == 0
    bad = client.get("/api/v1/runs/?date=30-11-2026")
    assert bad.status_code == 400
    assert list(bad.json()) == ["date"]


def test_a_courier_sees_its_runs_and_open_runs_never_another_couriers(world, courier, api_as):
    client = api_as(courier)
    listed = [run["id"] for run in client.get("/api/v1/runs/").json()["results"]]
    assert sorted(listed) == sorted([world["mine"].pk, world["open"].pk])
    theirs = world["theirs"]
    shipment = theirs.shipments.get()
    for response in (
        client.get(f"/api/v1/runs/{theirs.pk}/"),
        client.post(f"/api/v1/runs/{theirs.pk}/claim/"),
        client.get(f"/api/v1/runs/{world['outer_open'].pk}/"),
        client.get(f"/api/v1/shipments/{shipment.pk}/"),
        step(client, shipment, "picked_up"),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["code"] == "not_found"
    shipment.refresh_from_db()
    assert (shipment.status, shipment.events.count()) == ("booked", 0)
    # The other courier's list is its own too.
    other = [run["id"] for run in api_as(world["other"]).get("/api/v1/runs/").json()["results"]]
    assert sorted(other) == sorted([theirs.pk, world["outer_open"].pk, world["open"].pk])


def test_an_open_run_hides_who_and_where_until_claimed(world, courier, api_as):
    client = api_as(courier)
    open_run = world["open"]
    data = client.get(f"/api/v1/runs/{open_run.pk}/").json()
    (pickup,), (dropoff,) = data["pickups"], data["dropoffs"]
    shipment = open_run.shipments.get()
    for stop, side in ((pickup["pickup"], "pickup"), (dropoff["dropoff"], "dropoff")):
        where = getattr(shipment, f"{side}_ward")
        assert stop == {
            "ward": {"code": where.pk, "name": where.name},
            "address": None,
            "name": None,
            "phone": None,
        }
    assert client.get(f"/api/v1/shipments/{shipment.pk}/").status_code == 404
    mine = client.get(f"/api/v1/runs/{world['mine'].pk}/").json()
    assert mine["pickups"][0]["pickup"]["name"] == "Hộ của tôi"
    assert mine["dropoffs"][0]["dropoff"]["phone"] == "+84912345678"


def test_claiming_an_open_run(world, courier, make_courier, api_as):
    open_run = world["open"]
    response = api_as(courier).post(f"/api/v1/runs/{open_run.pk}/claim/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["courier"] == courier.pk
    assert data["pickups"][0]["pickup"]["name"] == "Hộ Ngoại thành"  # now the courier's to see
    open_run.refresh_from_db()
    assert open_run.courier == courier and open_run.assigned_at is not None
    assert api_as(courier).post(f"/api/v1/runs/{open_run.pk}/claim/").status_code == 200  # again: a no-op
    # Another courier who was shown the run is told it is taken.
    late = api_as(make_courier()).post(f"/api/v1/runs/{open_run.pk}/claim/")
    assert late.status_code == 409
    assert late.json()["code"] == "run_taken"
    open_run.refresh_from_db()
    assert open_run.courier == courier


def test_a_run_of_a_zone_the_courier_does_not_work_cannot_be_claimed(world, courier, api_as):
    outer_open = world["outer_open"]
    response = api_as(courier).post(f"/api/v1/runs/{outer_open.pk}/claim/")
    assert response.status_code == 404  # never shown to this courier
    with pytest.raises(Conflict) as refused:
        run_claim(run=outer_open, courier=courier)
    assert refused.value.code == "not_your_zone"
    outer_open.refresh_from_db()
    assert outer_open.courier is None
    assert api_as(world["other"]).post(f"/api/v1/runs/{outer_open.pk}/claim/").status_code == 200


def test_each_step_through_the_table(my_run, run_order, courier, api_as):
    client = api_as(courier)
    shipment = my_run.shipments.get()
    response = step(client, shipment, "in_transit")
    assert response.status_code == 409
    assert response.json() | {"detail": ""} == {
        "detail": "",
        "code": "invalid_transition",
        "status": "booked",
        "to": "in_transit",
    }
    for type_ in ("picked_up", "in_transit"):
        response = step(client, shipment, type_, note="ok")
        assert response.status_code == 201, response.content
        assert response.json()["status"] == type_
    response = step(client, shipment, "delivered", cash_collected=shipment.cash_to_collect)
    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["cash_collected"]) == ("delivered", shipment.cash_to_collect)
    assert [(e["type"], e["cash_collected"]) for e in data["events"]] == [
        ("picked_up", None),
        ("in_transit", None),
        ("delivered", shipment.cash_to_collect),
    ]
    for type_ in ("picked_up", "in_transit", "delivered", "failed_attempt", "returned"):
        response = step(client, shipment, type_)
        assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert shipment.events.count() == 3


def test_bad_input_and_too_much_cash_change_nothing(my_run, courier, api_as):
    client = api_as(courier)
    shipment = my_run.shipments.get()
    bad = step(client, shipment, "lost")
    assert bad.status_code == 400
    assert list(bad.json()) == ["type"]
    assert step(client, shipment, "cancelled").status_code == 400  # the sender's, not the courier's
    assert step(client, shipment, "picked_up", cash_collected=-1).status_code == 400
    assert step(client, shipment, "picked_up").status_code == 201
    too_much = step(client, shipment, "delivered", cash_collected=shipment.cash_to_collect + 1)
    assert (too_much.status_code, too_much.json()["code"]) == (409, "invalid_cash")
    shipment.refresh_from_db()
    assert (shipment.status, shipment.cash_collected, shipment.events.count()) == ("picked_up", 0, 1)


def test_staff_read_every_shipment_but_record_no_step(my_run, make_user, api_as):
    staff = api_as(make_user(Role.STAFF))
    shipment = my_run.shipments.get()
    assert [r["id"] for r in staff.get("/api/v1/runs/").json()["results"]] == [my_run.pk]
    assert staff.get(f"/api/v1/runs/{my_run.pk}/").json()["pickups"][0]["pickup"]["name"] == "Hộ số 1"
    detail = staff.get(f"/api/v1/shipments/{shipment.pk}/")
    assert detail.status_code == 200
    assert detail.json()["dropoff"]["address"] == "12 đường 30/4"
    response = step(staff, shipment, "picked_up")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert api_as(make_user(Role.STAFF)).post(f"/api/v1/runs/{my_run.pk}/claim/").status_code == 403
    shipment.refresh_from_db()
    assert shipment.status == "booked"


@pytest.mark.parametrize("role", [Role.BUYER, Role.FARMER, Role.OFFICIAL])
def test_other_roles_reach_no_run_or_shipment(role, my_run, run_order, make_user, api_as, api):
    # The buyer and the household of this very shipment are refused too.
    user = {Role.BUYER: run_order.buyer, Role.FARMER: run_order.farm_orders.get().farm.owner}.get(role)
    client = api_as(user or make_user(role))
    shipment = my_run.shipments.get()
    for response in (
        client.get("/api/v1/runs/"),
        client.get(f"/api/v1/runs/{my_run.pk}/"),
        client.post(f"/api/v1/runs/{my_run.pk}/claim/"),
        client.get(f"/api/v1/shipments/{shipment.pk}/"),
        step(client, shipment, "picked_up"),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert api.get("/api/v1/runs/").status_code == 401
    shipment.refresh_from_db()
    assert shipment.status == "booked"


def test_a_failed_delivery_is_tried_once_more_then_only_returned(my_run, courier, api_as):
    client = api_as(courier)
    shipment = my_run.shipments.get()
    for type_ in ("picked_up", "failed_attempt", "in_transit", "failed_attempt"):
        assert step(client, shipment, type_).status_code == 201, type_
    for type_ in ("in_transit", "delivered", "failed_attempt", "picked_up"):
        response = step(client, shipment, type_)
        assert (response.status_code, response.json()["code"]) == (409, "invalid_transition"), type_
    response = step(client, shipment, "returned")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["failed_attempts"]) == ("returned", 2)


@pytest.fixture
def two_parts_on_the_way(ship, courier, api_as):
    """A cash-on-delivery order of two households' parts, both picked up by `courier`; its API client."""
    order = ship(farms=[("Hộ số 1", 0), ("Hộ số 2", 1)])
    runs_build()
    client = api_as(courier)
    first, second = shipments_of(order)
    for shipment in (first, second):
        assert step(client, shipment, "picked_up").status_code == 201
    return order, client, first, second


def test_delivering_every_part_delivers_the_order_and_the_cash_pays_it(two_parts_on_the_way):
    order, client, first, second = two_parts_on_the_way
    order.refresh_from_db()
    assert order.status == "shipped"
    step(client, first, "delivered", cash_collected=first.cash_to_collect)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("shipped", "unpaid")
    assert [p.status for p in order.farm_orders.order_by("pk")] == ["delivered", "picked_up"]
    step(client, second, "delivered", cash_collected=second.cash_to_collect)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("delivered", "paid")
    assert order.payments.get().paid_amount == order.total == first.cash_to_collect + second.cash_to_collect


def test_the_cash_of_the_parts_delivered_pays_the_order_when_another_part_comes_back(two_parts_on_the_way):
    order, client, first, second = two_parts_on_the_way
    step(client, first, "delivered", cash_collected=first.cash_to_collect)
    for type_ in ("failed_attempt", "in_transit", "failed_attempt", "returned"):
        assert step(client, second, type_).status_code == 201
    order.refresh_from_db()
    # All that is still owed (the first part and the fee) was collected: the order is paid.
    assert order.total == first.cash_to_collect
    assert (order.status, order.payment_status) == ("delivered", "paid")


def test_the_buyer_is_told_once_at_each_step(
    my_run, run_order, courier, api_as, django_capture_on_commit_callbacks
):
    client = api_as(courier)
    shipment = my_run.shipments.get()
    buyer = run_order.buyer
    told = Notification.objects.filter(user=buyer)
    before = told.count()
    subjects = []
    for type_ in ("picked_up", "failed_attempt", "in_transit", "delivered"):
        with django_capture_on_commit_callbacks(execute=True):
            data = {"cash_collected": shipment.cash_to_collect} if type_ == "delivered" else {}
            assert step(client, shipment, type_, **data).status_code == 201
        assert told.count() == before + len(subjects) + 1, type_
        subjects.append(told.order_by("-pk").first().subject)
    assert all(subject.startswith(f"{run_order.number}: ") for subject in subjects)
    assert len(set(subjects)) == 4
    # The same step announced again (a retried task) tells nobody twice.
    event = shipment.events.order_by("pk").last()
    with django_capture_on_commit_callbacks(execute=True):
        shipment_changed.send(sender=Shipment, shipment=Shipment.objects.get(pk=shipment.pk), event=event)
    assert told.count() == before + 4


def test_a_returned_part_loses_its_perishables_and_restocks_processed_goods_once(
    ship, courier, api_as, django_capture_on_commit_callbacks
):
    order = ship(categories=(PERISHABLE, PROCESSED))
    runs_build()
    (shipment,) = shipments_of(order)
    client = api_as(courier)
    for type_ in ("picked_up", "failed_attempt", "in_transit", "failed_attempt", "returned"):
        assert step(client, shipment, type_).status_code == 201
    lines = OrderLine.objects.filter(farm_order__order=order).select_related("product__category")
    fruit, jam = lines.order_by("pk")
    assert (fruit.product.category.processed, jam.product.category.processed) == (False, True)
    (loss,) = ProduceLoss.objects.all()
    assert (loss.line, loss.farm_id, loss.product_id, loss.quantity, loss.value) == (
        fruit,
        fruit.farm_order.farm_id,
        fruit.product_id,
        2,
        100000,
    )
    stock = dict(Product.objects.values_list("pk", "stock"))
    assert (stock[fruit.product_id], stock[jam.product_id]) == (8, 10)
    part = order.farm_orders.get()
    assert part.status == "returned"
    # Announced again: no second loss, no second restock.
    event = shipment.events.order_by("pk").last()
    with django_capture_on_commit_callbacks(execute=True):
        shipment_changed.send(sender=Shipment, shipment=Shipment.objects.get(pk=shipment.pk), event=event)
    assert ProduceLoss.objects.count() == 1
    assert dict(Product.objects.values_list("pk", "stock")) == stock


@pytest.fixture
def runs_of(ship, courier):
    def make(parts: int):
        ship(farms=[(f"Hộ {n}", n % 4) for n in range(parts)])
        return runs_build()

    return make


#: token lookup, page count, page of runs (annotated), then for the detail: run, pickups, drop-offs.
LIST_QUERIES = 3
DETAIL_QUERIES = 4


@pytest.mark.parametrize("parts", [1, 5])
def test_run_queries_do_not_grow_with_its_shipments(
    parts, runs_of, courier, api_as, django_assert_num_queries
):
    (run,) = runs_of(parts)
    client = api_as(courier)
    with django_assert_num_queries(LIST_QUERIES):
        data = client.get("/api/v1/runs/").json()
    assert data["results"][0]["shipments"] == parts
    with django_assert_num_queries(DETAIL_QUERIES):
        data = client.get(f"/api/v1/runs/{run.pk}/").json()
    assert len(data["pickups"]) == len(data["dropoffs"]) == parts


def test_a_courier_reaches_no_order_or_household_part_of_its_shipments(my_run, run_order, courier, api_as):
    client = api_as(courier)
    part = run_order.farm_orders.get()
    assert client.get("/api/v1/orders/").json()["count"] == 0  # its own orders: none
    for response in (
        client.get(f"/api/v1/orders/{run_order.pk}/"),
        client.get("/api/v1/farm-orders/"),
        client.post(f"/api/v1/farm-orders/{part.pk}/accept/"),
    ):
        assert response.status_code in (403, 404)
        assert "Chị Lan" not in response.content.decode()
    # The buyer and the household see the part's shipment as its status (the buyer: and its steps),
    # never the courier.
    shipment = my_run.shipments.get()
    mine = api_as(run_order.buyer).get(f"/api/v1/orders/{run_order.pk}/").json()["farm_orders"][0]["shipment"]
    assert mine == {"id": shipment.pk, "status": "booked", "carrier": "own", "steps": []}
