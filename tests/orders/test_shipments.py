"""Shipments: booked when a part is ready; their steps move the part; cash on delivery pays the order."""

from decimal import Decimal

import pytest

from farms.models import Product
from logistics.models import Shipment
from logistics.services import shipment_step
from marketplace.errors import Conflict
from orders import services
from tests.orders.factories import listings, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer, make_user):
    """Cash on delivery: 2 kg from each of two households at 50,000 đồng a kilo."""
    products = listings(make_user, farms=2, price=50000, stock="10")
    order = place(buyer, [(p, 2) for p in products])
    for part in order.farm_orders.all():
        services.farm_order_accept(farm_order=part, by=part.farm.owner)
    return order


def ready(part, **weights):
    return services.farm_order_ready(farm_order=part, by=part.farm.owner, actual_quantities=weights or None)


def parts(order):
    return list(order.farm_orders.order_by("pk"))


def test_a_ready_part_books_one_shipment_with_the_cash_to_collect(order, api_as, buyer):
    first, second = parts(order)
    ready(first)
    ready(second)
    one, two = (Shipment.objects.get(reference=f"farm-order-{p.pk}") for p in (first, second))
    assert (one.pickup_ward_id, one.dropoff_ward_id) == (first.farm.ward_id, order.delivery_ward_id)
    assert (one.weight_kg, one.status, one.carrier) == (Decimal(2), "booked", "own")
    # The delivery fee is collected with the first shipment only.
    assert (one.cash_to_collect, two.cash_to_collect) == (100000 + order.delivery_fee, 100000)
    assert services.fulfilment.farm_order_ship(farm_order=first).shipment.pk == one.pk  # booked once
    data = api_as(buyer).get(f"/api/v1/orders/{order.pk}/").json()
    assert [p["shipment"]["id"] for p in data["farm_orders"]] == [one.pk, two.pk]
    households = api_as(first.farm.owner).get("/api/v1/farm-orders/").json()["results"]
    assert households[0]["shipment"] == {"id": one.pk, "status": "booked", "carrier": "own"}


def test_steps_move_the_parts_and_the_cash_pays_the_order(order, make_user):
    from marketplace.accounts.models import Role

    courier = make_user(Role.COURIER)
    for part in parts(order):
        ready(part)
    one, two = (p.shipment for p in parts(order))
    shipment_step(shipment=one, type="picked_up", by=courier)
    assert parts(order)[0].status == "picked_up"
    shipment_step(shipment=two, type="picked_up", by=courier)
    order.refresh_from_db()
    assert order.status == "shipped"
    shipment_step(shipment=one, type="delivered", by=courier, cash_collected=one.cash_to_collect)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("shipped", "unpaid")  # not all collected yet
    shipment_step(shipment=two, type="delivered", by=courier, cash_collected=two.cash_to_collect)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("delivered", "paid")
    assert order.payments.get().paid_amount == order.total


def test_a_failed_delivery_is_tried_once_more_then_returned(order):
    first, _second = parts(order)
    ready(first)
    shipment = parts(order)[0].shipment
    shipment_step(shipment=shipment, type="picked_up")
    shipment_step(shipment=shipment, type="failed_attempt", note="Không có ai ở nhà")
    assert parts(order)[0].status == "failed_delivery"
    shipment_step(shipment=shipment, type="in_transit")
    assert parts(order)[0].status == "picked_up"
    shipment_step(shipment=shipment, type="failed_attempt")
    with pytest.raises(Conflict):
        shipment_step(shipment=shipment, type="in_transit")  # two failures: only back to the household
    shipment_step(shipment=shipment, type="returned")
    assert parts(order)[0].status == "returned"
    order.refresh_from_db()
    assert order.total == parts(order)[1].subtotal + order.delivery_fee  # nothing owed for it
    # Perishables that came back are a loss, not stock again.
    assert list(Product.objects.order_by("pk").values_list("stock", flat=True)) == [8, 8]


def test_cancelling_a_ready_part_calls_off_its_shipment(order, buyer):
    first, _second = parts(order)
    ready(first)
    services.farm_order_transition(farm_order=first, to="cancelled", note="Hàng hỏng")
    shipment = Shipment.objects.get(reference=f"farm-order-{first.pk}")
    assert shipment.status == "cancelled"
    assert list(shipment.events.values_list("type", flat=True)) == ["cancelled"]  # a recorded step


def test_steps_out_of_order_and_too_much_cash_are_refused(order):
    first, _second = parts(order)
    ready(first)
    shipment = parts(order)[0].shipment
    with pytest.raises(Conflict):
        shipment_step(shipment=shipment, type="delivered")  # not picked up yet
    shipment_step(shipment=shipment, type="picked_up")
    with pytest.raises(Conflict):
        shipment_step(shipment=shipment, type="delivered", cash_collected=shipment.cash_to_collect + 1)
    shipment.refresh_from_db()
    assert shipment.status == "picked_up" and parts(order)[0].status == "picked_up"


def test_a_cash_on_delivery_shipment_is_delivered_only_with_the_cash_recorded(order):
    from django.core.exceptions import ValidationError

    first, _second = parts(order)
    ready(first)
    shipment = parts(order)[0].shipment
    shipment_step(shipment=shipment, type="picked_up")
    with pytest.raises(ValidationError) as refused:
        shipment_step(shipment=shipment, type="delivered")
    assert "cash_collected" in refused.value.message_dict
    shipment.refresh_from_db()
    assert shipment.status == "picked_up"


def cash(order):
    return [Shipment.objects.get(pk=p.shipment_id).cash_to_collect for p in parts(order)]


def test_the_delivery_fee_moves_to_a_shipment_still_on_its_way_when_its_part_comes_back(order):
    first, second = parts(order)
    ready(first)
    ready(second)
    fee = order.delivery_fee
    assert fee > 0 and cash(order) == [100000 + fee, 100000]
    shipment = parts(order)[0].shipment
    shipment_step(shipment=shipment, type="picked_up")
    shipment_step(shipment=shipment, type="failed_attempt")
    shipment_step(shipment=shipment, type="in_transit")
    shipment_step(shipment=shipment, type="failed_attempt")
    shipment_step(shipment=shipment, type="returned")
    # The returned shipment keeps its record; the other now collects the fee with its part.
    assert cash(order) == [100000 + fee, 100000 + fee]
    other = parts(order)[1].shipment
    shipment_step(shipment=other, type="picked_up")
    shipment_step(shipment=other, type="delivered", cash_collected=100000 + fee)
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.total) == ("delivered", "paid", 100000 + fee)


def test_a_shipment_short_of_cash_leaves_the_rest_to_the_next_one(order):
    first, second = parts(order)
    ready(first)
    ready(second)
    fee = order.delivery_fee
    shipment = parts(order)[0].shipment
    shipment_step(shipment=shipment, type="picked_up")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as unexplained:
        shipment_step(shipment=shipment, type="delivered", cash_collected=100000)
    assert list(unexplained.value.message_dict) == ["note"]
    shipment_step(shipment=shipment, type="delivered", cash_collected=100000, note="Khách chưa trả phí ship")
    assert cash(order)[1] == 100000 + fee
    order.refresh_from_db()
    assert order.payment_status == "unpaid"


def test_cancelling_the_ready_part_that_carried_the_fee_puts_it_on_the_next_booking(order):
    first, _second = parts(order)
    ready(first)
    services.farm_order_transition(farm_order=parts(order)[0], to="cancelled", note="Hàng hỏng")
    ready(parts(order)[1])
    order.refresh_from_db()
    assert Shipment.objects.get(pk=parts(order)[1].shipment_id).cash_to_collect == 100000 + order.delivery_fee


@pytest.mark.parametrize("value", ["abc", "-1", "99999999999999999999999"])
def test_the_households_order_filter_refuses_what_is_not_an_id(order, api_as, value):
    owner = parts(order)[0].farm.owner
    answer = api_as(owner).get("/api/v1/farm-orders/", {"order": value})
    assert answer.status_code == 400 and list(answer.json()) == ["order"]
    assert api_as(owner).get("/api/v1/farm-orders/", {"order": order.pk}).json()["count"] == 1


def test_the_buyer_sees_each_step_of_the_shipment_on_the_order(order, buyer, api_as, client):
    first, _second = parts(order)
    ready(first)
    shipment = parts(order)[0].shipment
    shipment_step(shipment=shipment, type="picked_up")
    shipment_step(shipment=shipment, type="in_transit")  # moves no status: only the carrier says it
    data = api_as(buyer).get(f"/api/v1/orders/{order.pk}/").json()
    steps = data["farm_orders"][0]["shipment"]["steps"]
    assert [step["type"] for step in steps] == ["picked_up", "in_transit"]
    assert all(step["at"] for step in steps)
    assert data["farm_orders"][1]["shipment"] is None
    client.force_login(buyer)
    page = client.get(f"/don-hang/{order.number}/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    timeline = page[page.index('id="timeline-title"') :]
    assert f"{first.farm.name}: Đang giao" in timeline, timeline[:800]
