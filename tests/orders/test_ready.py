"""Packed and ready: weights within ±10%, never above what the buyer authorised; edge values."""

from decimal import Decimal

import pytest

from farms.models import Product
from marketplace.errors import Conflict
from orders import services
from orders.models import OrderLine
from tests.farms.factories import make_farm, make_product
from tests.orders.factories import listings, place

pytestmark = pytest.mark.django_db
READY = "/api/v1/farm-orders/{}/ready/"


@pytest.fixture
def accepted(buyer, make_user):
    """An accepted part: 2 kg at 50,000 đồng a kilo from a listing of 10 kg."""
    (product,) = listings(make_user, price=50000, stock="10")
    order = place(buyer, [(product, 2)])
    part = order.farm_orders.get()
    services.farm_order_accept(farm_order=part, by=part.farm.owner)
    return part


def line_of(part):
    return OrderLine.objects.get(farm_order=part)


def stock():
    return Product.objects.get().stock


@pytest.mark.parametrize(
    ("weighed", "total", "stock_after"),
    [
        ("1.8", 90000, Decimal("8.2")),  # 10% lighter: the edge, accepted and cheaper
        ("1.9", 95000, Decimal("8.1")),
        ("2", 100000, Decimal("8")),
        ("2.2", 100000, Decimal("7.8")),  # 10% heavier: the edge, the buyer pays no more
    ],
)
def test_a_weight_within_ten_percent_is_taken(accepted, api_as, weighed, total, stock_after):
    line = line_of(accepted)
    response = api_as(accepted.farm.owner).post(
        READY.format(accepted.pk), {"actual_quantities": {str(line.pk): weighed}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready"
    line.refresh_from_db()
    assert (line.actual_quantity, line.line_total, line.quantity) == (Decimal(weighed), total, Decimal(2))
    accepted.refresh_from_db()
    order = accepted.order
    order.refresh_from_db()
    assert accepted.subtotal == total
    assert order.total == total + order.delivery_fee
    assert order.payments.get().amount == order.total  # the courier collects what is owed now
    assert stock() == stock_after


@pytest.mark.parametrize("weighed", ["1.799", "2.201", "0", "abc"])
def test_a_weight_outside_ten_percent_is_refused_and_changes_nothing(accepted, api_as, weighed):
    line = line_of(accepted)
    response = api_as(accepted.farm.owner).post(
        READY.format(accepted.pk), {"actual_quantities": {str(line.pk): weighed}}, format="json"
    )
    assert response.status_code == 400
    assert "actual_quantities" in response.json()
    accepted.refresh_from_db()
    line.refresh_from_db()
    assert (accepted.status, line.actual_quantity, line.line_total, stock()) == ("accepted", None, 100000, 8)


def test_counted_units_are_not_weighed(buyer, make_user, api_as):
    farm = make_farm(make_user)
    pomelo = make_product(farm, name="Bưởi", unit="trai", unit_weight_kg="1.5", price=30000, status="active")
    order = place(buyer, [(pomelo, 3)])
    part = order.farm_orders.get()
    services.farm_order_accept(farm_order=part, by=part.farm.owner)
    line = line_of(part)
    response = api_as(farm.owner).post(
        READY.format(part.pk), {"actual_quantities": {str(line.pk): "3"}}, format="json"
    )
    assert response.status_code == 400


def test_heavier_than_the_stock_left_is_a_conflict(accepted):
    Product.objects.update(stock=Decimal("0.1"))
    with pytest.raises(Conflict):
        services.farm_order_ready(
            farm_order=accepted, by=accepted.farm.owner, actual_quantities={line_of(accepted).pk: "2.2"}
        )
    accepted.refresh_from_db()
    assert accepted.status == "accepted" and stock() == Decimal("0.1")


def test_a_part_weighed_lighter_then_cancelled_returns_what_was_weighed_once(accepted):
    services.farm_order_ready(
        farm_order=accepted, by=accepted.farm.owner, actual_quantities={line_of(accepted).pk: "1.8"}
    )
    assert stock() == Decimal("8.2")
    services.farm_order_transition(farm_order=accepted, to="cancelled", note="Hư hỏng")
    assert stock() == 10  # 1.8 weighed out comes back, plus the 0.2 returned at packing: all of it, once


def test_only_the_household_marks_its_part_ready(accepted, api_as, make_user):
    from marketplace.accounts.models import Role

    other = make_user(Role.FARMER)
    assert api_as(other).post(READY.format(accepted.pk), {}, format="json").status_code == 404
    assert api_as(accepted.order.buyer).post(READY.format(accepted.pk), {}, format="json").status_code == 403
    ok = api_as(accepted.farm.owner).post(READY.format(accepted.pk), {}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "ready"
    again = api_as(accepted.farm.owner).post(READY.format(accepted.pk), {}, format="json")
    assert again.status_code == 409
