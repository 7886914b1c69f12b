"""The buyer's journey in a real browser (issue #11, journey 2), on a phone and on a desktop.

A buyer searches `sau rieng` without accents, narrows the results to one ward, puts the durians
of two households in the cart, checks out with cash on delivery and follows the order's timeline
while the households answer; then pays a second order by card on the payment stand-in's hosted
page and comes back to the order shown paid once Stripe's webhook has been processed.
"""

import re
import time

import pytest
from django.utils import translation
from playwright.sync_api import expect

from marketplace.accounts.models import Role
from marketplace.geo.models import Ward
from marketplace.storefront.forms import CatalogueFilterForm, QuantityForm
from orders import services
from orders.forms import CheckoutForm
from orders.models import FarmOrderStatus, Order, OrderStatus, PaymentMethod, PaymentStatus
from tests.farms.factories import make_farm, make_product, ward

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]

DURIAN = 201  # "Sầu riêng" in the seeded categories
MANGOSTEEN = 203
ADDRESS = "12 đường 30/4"
# A phone in both languages; the desktop in Vietnamese only, to keep CI short.
RUNS = [("phone", "vi"), ("phone", "en"), ("desktop", "vi")]


def tr(language: str, message) -> str:
    """`message` (a msgid or a lazy label) as the page shows it in `language`."""
    with translation.override(language):
        return str(translation.gettext(message) if isinstance(message, str) else message)


def listings(language: str, count: int) -> str:
    """The results' count as it must read: English is the source language, so its msgid in English."""
    with translation.override(None if language == "en" else language):
        return translation.ngettext("%(counter)s listing", "%(counter)s listings", count) % {"counter": count}


def place_names() -> list[str]:
    """Names of places that stay Vietnamese in English: the city and its wards."""
    wards = Ward.objects.values_list("full_name", "name")
    return ["Cần Thơ", *(name for pair in wards for name in pair)]


def wait_for_text(page, locator, text: str, seconds: float = 30) -> None:
    """Reload until `locator` shows `text`: the page changes only when a worker has done its part."""
    deadline = time.monotonic() + seconds
    while text not in locator.inner_text():
        assert time.monotonic() < deadline, f"{page.url} never showed {text!r}: {locator.inner_text()!r}"
        page.wait_for_timeout(250)
        page.reload()


@pytest.fixture
def market(make_user):
    """Three durian households, two of them in ward 0 and one in ward 4, and a mangosteen listing."""
    near, far = ward(0), ward(4)
    nam = make_farm(make_user, name="Hộ chị Năm", ward_index=0, representative_name="Trần Thị Năm")
    sau = make_farm(make_user, name="Hộ anh Sáu", ward_index=0, representative_name="Lê Văn Sáu")
    bay = make_farm(make_user, name="Hộ ông Bảy", ward_index=4, representative_name="Phạm Văn Bảy")
    ri6 = make_product(nam, name="Sầu riêng Ri6", category=DURIAN, price=75000, stock="40", status="active")
    monthong = make_product(
        sau, name="Sầu riêng Monthong", category=DURIAN, price=82000, stock="30", status="active"
    )
    musang = make_product(
        bay, name="Sầu riêng Musang King", category=DURIAN, price=80000, stock="20", status="active"
    )
    mangosteen = make_product(nam, name="Măng cụt Phong Điền", category=MANGOSTEEN, status="active")
    buyer = make_user(Role.BUYER, full_name="Chị Lan")
    return {
        "near": near, "far": far, "farms": (nam, sau, bay), "ri6": ri6, "monthong": monthong,
        "musang": musang, "mangosteen": mangosteen, "buyer": buyer,
    }


def _data_strings(market) -> list[str]:
    farms = market["farms"]
    products = [market[key] for key in ("ri6", "monthong", "musang", "mangosteen")]
    return [
        *place_names(),
        *(farm.name for farm in farms), *(farm.representative_name for farm in farms),
        *(farm.address for farm in farms), *(farm.main_crops for farm in farms),
        *(product.name for product in products),
        market["buyer"].full_name, ADDRESS,
    ]


def add_to_cart(trip, product, quantity: str, language: str) -> None:
    """On a listing's page: type the quantity and add it; the cart opens."""
    page = trip.page
    with translation.override(language):  # the label is made, unit and all, when the form is
        label = str(QuantityForm(product=product).fields["quantity"].label)
    page.get_by_label(label).fill(quantity)
    trip.click(page.get_by_role("button", name=tr(language, "Add to cart")))
    expect(page).to_have_url(re.compile(r"/gio-hang/$"))


def check_out(trip, *, method: str, language: str, ward_code: str, first: bool) -> None:
    """From the cart: open checkout, fill the delivery (prefilled after the first order), place it."""
    page = trip.page
    trip.click(page.get_by_role("link", name=tr(language, "Checkout"), exact=True))
    expect(page).to_have_url(re.compile(r"/thanh-toan/$"))
    trip.step("checkout" if first else "checkout-card")
    fields = CheckoutForm.base_fields
    if first:
        page.get_by_label(tr(language, fields["ward"].label)).select_option(ward_code)
        page.get_by_label(tr(language, fields["address"].label)).fill(ADDRESS)
    page.get_by_label(tr(language, PaymentMethod(method).label), exact=True).check()
    trip.click(page.get_by_role("button", name=tr(language, "Place the order")))


@pytest.mark.parametrize(("device", "language"), RUNS)
def test_buyer_searches_orders_two_households_and_pays_by_card(
    journey, site, market, device, language
):
    buyer, near = market["buyer"], market["near"]
    trip = journey(
        "buyer", device=device, language=language, allowed_origins=(site.stripe.url,),
        data_strings=_data_strings(market),
    )
    page = trip.page
    trip.login(buyer.phone, site.password)

    # Search without accents from the top of any page.
    trip.goto("/")
    trip.step("home")
    search = page.get_by_role("searchbox", name=tr(language, "Search produce"), exact=True)
    search.fill("sau rieng")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/tim-kiem/\?q=sau\+rieng"))
    for key in ("ri6", "monthong", "musang"):
        expect(page.get_by_role("link", name=market[key].name)).to_be_visible()
    expect(page.get_by_role("link", name=market["mangosteen"].name)).to_have_count(0)
    found = page.get_by_role("region", name=tr(language, "Results")).get_by_role("status")
    expect(found).to_have_text(listings(language, 3))
    trip.step("search")

    # Narrow to the ward of two of the households.
    filters = page.locator("details.filters")
    if filters.get_attribute("open") is None:
        trip.click(page.get_by_text(tr(language, "Filters and sorting"), exact=True))
    page.get_by_label(tr(language, CatalogueFilterForm.base_fields["ward"].label)).fill(near.name)
    trip.click(page.get_by_role("button", name=tr(language, "Show results")))
    expect(page.get_by_role("link", name=market["musang"].name)).to_have_count(0)
    expect(page.get_by_role("link", name=market["ri6"].name)).to_be_visible()
    expect(page.get_by_role("link", name=market["monthong"].name)).to_be_visible()
    expect(found).to_have_text(listings(language, 2))
    trip.step("search-ward")
    results = page.url

    # Durian from two households.
    trip.click(page.get_by_role("link", name=market["ri6"].name))
    expect(page.get_by_role("heading", level=1)).to_have_text(market["ri6"].name)
    trip.step("product")
    add_to_cart(trip, market["ri6"], "2", language)
    trip.goto(results)
    trip.click(page.get_by_role("link", name=market["monthong"].name))
    add_to_cart(trip, market["monthong"], "1.5", language)
    for farm in market["farms"][:2]:
        expect(page.get_by_role("heading", name=farm.name)).to_be_visible()
    trip.step("cart")

    # Cash on delivery.
    check_out(trip, method=PaymentMethod.COD, language=language, ward_code=ward(3).pk, first=True)
    order = Order.objects.get(buyer=buyer)
    expect(page).to_have_url(re.compile(rf"/don-hang/{order.number}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(order.number)
    assert order.payment_method == PaymentMethod.COD and order.farm_orders.count() == 2
    trip.step("order")

    # The timeline follows the households' answers.
    timeline = page.get_by_role("region", name=tr(language, "Timeline")).get_by_role("listitem")
    first = order.farm_orders.select_related("farm").order_by("pk").first()
    accepted = f"{first.farm.name}: {tr(language, FarmOrderStatus.ACCEPTED.label)}"
    expect(timeline.filter(has_text=accepted)).to_have_count(0)
    services.farm_order_accept(farm_order=first, by=first.farm.owner)
    trip.click(page.get_by_role("link", name=tr(language, "My orders"), exact=True))
    trip.step("orders")
    trip.click(page.get_by_role("link", name=order.number))
    expect(timeline.filter(has_text=accepted)).to_have_count(1)
    expect(page.get_by_role("region", name=first.farm.name)).to_contain_text(
        tr(language, FarmOrderStatus.ACCEPTED.label)
    )
    trip.step("timeline")

    # The card path: a second order, paid on the hosted page, shown paid once the webhook is in.
    trip.goto(f"/san-pham/{market['ri6'].pk}/")
    add_to_cart(trip, market["ri6"], "1", language)
    check_out(trip, method=PaymentMethod.STRIPE, language=language, ward_code=ward(3).pk, first=False)
    expect(page).to_have_url(re.compile("^" + re.escape(site.stripe.url) + "/pay/"))
    trip.step("hosted-payment")
    trip.click(page.get_by_role("button", name="Pay", exact=True))
    card = Order.objects.filter(buyer=buyer).exclude(pk=order.pk).get()
    expect(page).to_have_url(re.compile(rf"{re.escape(site.url)}/don-hang/{card.number}/\?payment=done$"))
    status = page.locator("main h1 + p.row")
    wait_for_text(page, status, tr(language, OrderStatus.CONFIRMED.label))
    expect(status).to_contain_text(tr(language, PaymentStatus.PAID.label))
    card.refresh_from_db()
    assert (card.status, card.payment_status) == (OrderStatus.CONFIRMED, PaymentStatus.PAID)
    trip.step("paid")
    trip.finish()
