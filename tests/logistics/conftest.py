"""Fixtures shared by the logistics tests: couriers, zones, and parts made ready through orders."""

from datetime import date

import pytest

from logistics.models import Run, Shipment, Zone
from logistics.runs import runs_build
from marketplace.accounts.models import Role
from orders import services
from tests.farms.factories import make_farm, make_product, ward
from tests.orders.conftest import _media_in_tmp  # noqa: F401 (autouse: no file lands in var/)
from tests.orders.factories import place

PERISHABLE = 203  # a fruit: lost when it comes back
PROCESSED = 699  # "Sản phẩm chế biến khác": keeps, goes back to stock


@pytest.fixture
def buyer(make_user):
    return make_user(Role.BUYER, full_name="Chị Lan")


@pytest.fixture
def inner():
    """Zone "Nội thành": wards 0–3 and 7 by code are on its route."""
    return Zone.objects.get(name="Nội thành")


@pytest.fixture
def outer():
    """Zone "Ven đô": wards 4–6 by code."""
    return Zone.objects.get(name="Ven đô")


@pytest.fixture
def open_zone():
    """Zone "Ngoại thành Cần Thơ", which no courier works: its runs are open to every courier."""
    return Zone.objects.get(name="Ngoại thành Cần Thơ")


@pytest.fixture
def make_courier(make_user):
    """Create a courier, working the zones given."""

    def make(*zones, is_active=True, **fields):
        courier = make_user(Role.COURIER, **fields)
        if not is_active:
            courier.is_active = False
            courier.save(update_fields=["is_active"])
        for zone in zones:
            zone.couriers.add(courier)
        return courier

    return make


@pytest.fixture
def courier(make_courier, inner):
    return make_courier(inner, full_name="Anh Ba")


@pytest.fixture
def ship(make_user):
    """Return a maker of ready parts: one cash-on-delivery order, a part per household, each booked.

    `farms` is [(household name, ward index)]; each household sells one listing per category.
    """

    def make(
        *,
        farms=(("Hộ số 1", 0),),
        buyer=None,
        categories=(PERISHABLE,),
        price=50000,
        quantity=2,
        dropoff=3,
        delivery_date: date | None = None,
        address="12 đường 30/4",
    ):
        buyer = buyer or make_user(Role.BUYER)
        products = []
        for name, index in farms:
            farm = make_farm(make_user, name=name, ward_index=index)
            products += [
                make_product(
                    farm, name=f"Hàng {category}", category=category, status="active", stock="10", price=price
                )
                for category in categories
            ]
        order = place(
            buyer,
            [(product, quantity) for product in products],
            delivery={"ward": ward(dropoff).pk, "address": address},
            delivery_date=delivery_date,
        )
        for part in order.farm_orders.order_by("pk"):
            services.farm_order_accept(farm_order=part, by=part.farm.owner)
            services.farm_order_ready(farm_order=part, by=part.farm.owner)
        return order

    return make


def shipments_of(order) -> list[Shipment]:
    """The order's shipments, in the order of its parts."""
    return [part.shipment for part in order.farm_orders.select_related("shipment").order_by("pk")]


@pytest.fixture
def run_order(ship):
    """A cash-on-delivery order of one part (2 kg at 50,000 đồng/kg), picked up in "Nội thành"."""
    return ship()


@pytest.fixture
def my_run(run_order, courier) -> Run:
    """Today's run of "Nội thành" with `run_order`'s shipment, given to `courier` (its zone's only one)."""
    (built,) = runs_build()
    assert built.courier == courier
    return built


def ward_index_in(zone: Zone) -> int:
    """The index (by code, as `ward(index)` counts) of the first ward on a zone's route."""
    from marketplace.geo.models import Ward

    codes = list(Ward.objects.order_by("code").values_list("pk", flat=True))
    return codes.index(zone.route.order_by("position", "ward").first().ward_id)
