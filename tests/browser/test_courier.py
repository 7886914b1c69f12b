"""The courier's journey on a phone (issue #11, journey 4), in Vietnamese and in English.

Two households of the inner city have packed their parts of a cash-on-delivery order; the
scheduler's `runs_build` puts them on today's run of their zone, given to its only courier. The
courier opens today's runs, opens the run (each parcel named by its order number and household),
taps "picked up" at the first household and, at the buyer's door, "delivered" with the cash
collected (the step buttons in the order the work goes); the test then reads the database: the
shipment delivered with its cash, the household's part delivered, the cash held by the courier.
"""

import importlib
import re

import pytest
from django.apps import apps
from django.utils import translation
from playwright.sync_api import expect

from logistics.models import Run, ShipmentEvent, ShipmentStatus, Zone
from logistics.runs import runs_build
from logistics.selectors import courier_cash
from marketplace.accounts.models import Role
from marketplace.geo.models import Ward
from marketplace.money import format_vnd
from orders import services
from orders.models import FarmOrderStatus
from tests.farms.factories import make_farm, make_product, ward
from tests.orders.factories import place

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]

ADDRESS = "12 đường 30/4"
# The English catalogue names the currency "đồng" on purpose ("Cash collected (đồng)"), as
# English writing about Vietnam does; it is not an untranslated string.
CURRENCY = "đồng"
HOUSEHOLDS = (("Hộ chị Hai", "Nguyễn Thị Hai"), ("Hộ anh Ba", "Trần Văn Ba"))


def tr(language: str, message) -> str:
    """`message` (a msgid or a lazy label) as the page shows it in `language`."""
    with translation.override(language):
        return str(translation.gettext(message) if isinstance(message, str) else message)


def place_names() -> list[str]:
    """Names of places that stay Vietnamese in English: the city and its wards."""
    wards = Ward.objects.values_list("full_name", "name")
    return ["Cần Thơ", *(name for pair in wards for name in pair)]


def seed_zones() -> None:
    """Put back the delivery zones a migration seeds, if an earlier transactional test flushed them."""
    if not Zone.objects.exists():
        importlib.import_module("logistics.migrations.0002_seed_zones").seed(apps, None)


@pytest.fixture
def run(site, make_user):
    """Today's run of "Nội thành": one order of two households (wards 0 and 1), to ward 3, cash."""
    seed_zones()
    inner = Zone.objects.get(name="Nội thành")
    courier = make_user(Role.COURIER, full_name="Anh Tư Giao")
    inner.couriers.add(courier)
    buyer = make_user(Role.BUYER, full_name="Chị Lan")
    products = []
    for index, (name, representative) in enumerate(HOUSEHOLDS):
        farm = make_farm(make_user, name=name, representative_name=representative, ward_index=index)
        products.append(
            make_product(farm, name=f"Măng cụt {name}", status="active", stock="10", price=50000)
        )
    order = place(
        buyer, [(product, 2) for product in products], delivery={"ward": ward(3).pk, "address": ADDRESS}
    )
    parts = list(order.farm_orders.select_related("farm").order_by("pk"))
    for part in parts:
        services.farm_order_accept(farm_order=part, by=part.farm.owner)
        services.farm_order_ready(farm_order=part, by=part.farm.owner)
        part.refresh_from_db()  # now with its shipment, booked
    (built,) = runs_build()
    assert built.courier == courier
    return {"run": built, "courier": courier, "buyer": buyer, "order": order, "parts": parts}


@pytest.mark.parametrize("language", ["vi", "en"])
def test_courier_picks_up_and_delivers_with_cash(journey, site, run, language):
    courier, parts = run["courier"], run["parts"]
    today_run: Run = run["run"]
    first = parts[0]
    shipment = first.shipment
    cash = shipment.cash_to_collect
    assert cash > 0
    trip = journey(
        "courier", device="phone", language=language,
        data_strings=[
            *place_names(), CURRENCY, courier.full_name, run["buyer"].full_name, ADDRESS,
            *(value for part in parts for value in (part.farm.name, part.farm.address)),
            *(line.product_name for part in parts for line in part.lines.all()),
        ],
    )
    page = trip.page
    trip.login(courier.phone, site.password)

    # Today's runs, from the menu.
    trip.click(page.get_by_role("link", name=tr(language, "Deliveries"), exact=True))
    expect(page).to_have_url(re.compile(r"/courier/$"))
    with translation.override(language):
        run_name = f"{today_run.zone.label} #{today_run.number}"
    trip.step("runs")
    trip.click(page.get_by_role("link", name=run_name, exact=True))
    expect(page).to_have_url(re.compile(rf"/courier/runs/{today_run.pk}/$"))
    trip.step("run")

    # Each parcel is read by its order number and household, never by the booking's key.
    pickup = page.locator(f"#p{shipment.pk}")
    expect(pickup).to_contain_text(run["order"].number)
    expect(page.locator(f"#s{shipment.pk}")).to_contain_text(f"{run['order'].number} · {first.farm.name}")
    expect(page.locator("main")).not_to_contain_text("farm-order-")

    # At the first household: one tap.
    trip.click(pickup.get_by_role("button", name=tr(language, ShipmentStatus.PICKED_UP.label), exact=True))
    expect(pickup).to_contain_text(tr(language, ShipmentStatus.PICKED_UP.label))
    trip.step("picked-up")

    # At the buyer's door: the cash collected (prefilled with what is owed), then "delivered".
    dropoff = page.locator(f"#s{shipment.pk}")
    expect(dropoff).to_contain_text(format_vnd(cash))
    # The buttons in the order the work goes, what went wrong last.
    steps = (ShipmentStatus.IN_TRANSIT, ShipmentStatus.DELIVERED, ShipmentStatus.FAILED_ATTEMPT)
    assert dropoff.get_by_role("button").all_inner_texts() == [tr(language, step.label) for step in steps]
    amount = dropoff.get_by_label(tr(language, "Cash collected (đồng)"))
    expect(amount).to_have_value(str(cash))
    amount.fill(str(cash))
    trip.click(dropoff.get_by_role("button", name=tr(language, ShipmentStatus.DELIVERED.label), exact=True))
    expect(dropoff.locator(".pill")).to_have_text(tr(language, ShipmentStatus.DELIVERED.label))
    trip.step("delivered")

    # Back to the day's runs: the cash held.
    trip.click(page.get_by_role("link", name=re.compile(re.escape(tr(language, "My runs")) + "$")))
    expect(page.get_by_text(format_vnd(cash))).to_be_visible()
    trip.step("cash-held")

    shipment.refresh_from_db()
    assert (shipment.status, shipment.cash_collected) == (ShipmentStatus.DELIVERED, cash)
    event = ShipmentEvent.objects.get(shipment=shipment, type=ShipmentStatus.DELIVERED)
    assert (event.by, event.cash_collected) == (courier, cash)
    assert courier_cash(courier) == {"collected": cash, "handed_in": 0, "holding": cash}
    first.refresh_from_db()
    assert first.status == FarmOrderStatus.DELIVERED
    other = parts[1]
    other.refresh_from_db()
    assert (other.shipment.status, other.status) == (ShipmentStatus.BOOKED, FarmOrderStatus.READY)
    trip.finish()
