"""Order pages: checkout, the buyer's orders and their timeline, cancelling, the household's orders."""

import html
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext

from farms import services as farm_services
from farms.models import Product
from marketplace.accounts.models import Role
from orders.models import CartLine, FarmOrder, FarmOrderStatus, Order, OrderStatus
from tests.farms.factories import ward
from tests.storefront.helpers import listing

from .factories import fill_cart, place, set_tariff

pytestmark = pytest.mark.django_db

CHECKOUT = "/thanh-toan/"
ORDERS = "/don-hang/"
FARM_ORDERS = "/farmer/orders/"
ROLL_UP = "Follows its households' orders."
CANNOT_ORDER = "Some items cannot be ordered as they stand: %(lines)s."
INVALID_PHONE = "Enter a Vietnamese mobile number, for example 0912 345 678 or +84 912 345 678."


@pytest.fixture
def buyer(make_user):
    return make_user(Role.BUYER, full_name="Trần Thị Lan")


def farmer_browser(farm) -> Client:
    browser = Client()
    browser.force_login(farm.owner)
    return browser


# --- Reading pages ----------------------------------------------------------------------


def vi(message: str, **params) -> str:
    """Return a message as the (default) Vietnamese page shows it."""
    with translation.override("vi"):
        text = gettext(message)
    return text % params if params else text


def en(message: str, **params) -> str:
    with translation.override("en"):
        text = gettext(message)
    return text % params if params else text


def text_of(page) -> str:
    return html.unescape(page.content.decode())


def plain(markup) -> str:
    """Return a page (or a piece of one) as text: no tags, entities read, spaces collapsed."""
    markup = markup if isinstance(markup, str) else markup.content.decode()
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def input_value(page, name: str) -> str:
    """Return the value of the form's <input name=...> (an empty value has no attribute)."""
    for tag in re.findall(r"<input[^>]*>", page.content.decode()):
        if f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return html.unescape(found.group(1)) if found else ""
    raise AssertionError(f"no input {name}")


def selected_ward(page) -> str | None:
    select = re.search(r'<select name="ward"[^>]*>(.*?)</select>', page.content.decode(), re.DOTALL)
    assert select, "no ward select"
    chosen = re.search(r'<option value="(\d+)" selected>', select.group(1))
    return chosen.group(1) if chosen else None


def facts(page) -> dict[str, str]:
    """Return the order summary (Goods, Delivery, Total) as {label: text}."""
    block = re.search(r'<dl class="facts">(.*?)</dl>', page.content.decode(), re.DOTALL)
    assert block, "no summary"
    pairs = re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", block.group(1), re.DOTALL)
    return {html.unescape(k): html.unescape(re.sub(r"<[^>]+>", "", v)).strip() for k, v in pairs}


def timeline(page) -> list[str]:
    """Return the timeline entries without their time: "Hộ ông Tư: Mới", "Đã hủy (…)"."""
    block = re.search(r'<ol class="list timeline">(.*?)</ol>', page.content.decode(), re.DOTALL)
    assert block, "no timeline"
    entries = re.findall(r"<li>(.*?)</li>", block.group(1), re.DOTALL)
    return [html.unescape(re.sub(r"<[^>]+>", "", entry)).split(" — ", 1)[1].strip() for entry in entries]


def cancel_form(page, **fields) -> dict:
    """Return what the cancel step's form posts (the parts it shows, the reason), filled in."""
    form = re.search(
        r'<form method="post" action="/don-hang/[^"]+/huy/".*?</form>', page.content.decode(), re.S
    )
    assert form, "no cancel form"
    data = {"farm_order": re.findall(r'<input type="hidden" name="farm_order" value="(\d+)">', form.group(0))}
    data["reason"] = ""
    data.update(fields)
    return data


def order_numbers(page) -> list[str]:
    return re.findall(r'<a href="/don-hang/([^/"]+)/"><strong>', page.content.decode())


def farm_order_ids(page) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="listing" id="fo(\d+)">', page.content.decode())]


def messages_of(page) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<li class="msg[^"]*">(.*?)</li>', page.content.decode())]


def stock_shown(client, product) -> str:
    """Return the stock the listing page shows, e.g. "6 kg"."""
    page = client.get(f"/san-pham/{product.pk}/")
    assert page.status_code == 200
    found = re.search(rf"<dt>{re.escape(vi('Stock left'))}</dt><dd>([^<]+)</dd>", text_of(page))
    assert found, "no stock on the listing page"
    return found.group(1)


def has_place_button(page) -> bool:
    return f'<button type="submit" class="button">{vi("Place the order")}</button>' in text_of(page)


def order_form(page, **fields) -> dict:
    """Return what the checkout form posts, filled in, with the page's cart version."""
    data = {
        "name": "Chị Lan",
        "phone": "0912 345 678",
        "ward": ward(3).pk,
        "address": "12 đường 30/4",
        "delivery_date": "",
        "note": "",
        "payment_method": "cod",
        "cart_version": input_value(page, "cart_version"),
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def checkout(browser, **fields):
    """Open the checkout page and place the order from it."""
    page = browser.get(CHECKOUT)
    assert page.status_code == 200
    return browser.post(CHECKOUT, order_form(page, **fields))


def the_order(buyer) -> Order:
    return Order.objects.get(buyer=buyer)


def stock_of(product) -> Decimal:
    return Product.objects.get(pk=product.pk).stock


# --- Checkout ---------------------------------------------------------------------------


def test_the_whole_way_through_the_pages(browser, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    added = browser.post(f"/san-pham/{durian.pk}/", {"quantity": "4"})
    assert added.status_code == 302 and added["Location"] == "/gio-hang/"
    assert stock_shown(browser, durian) == "10 kg"

    placed = checkout(browser, note="Giao buổi sáng")
    order = the_order(buyer)
    assert placed.status_code == 302
    assert placed["Location"] == f"/don-hang/{order.number}/"
    assert re.fullmatch(r"CN-\d{4}-\d{4}", order.number)
    assert (order.subtotal, order.delivery_fee, order.total) == (200000, 20000, 220000)
    assert not CartLine.objects.filter(cart__user=buyer).exists()

    detail = browser.get(placed["Location"])
    assert messages_of(detail) == [vi("Thank you! Order %(number)s is placed.", number=order.number)]
    assert stock_shown(browser, durian) == "6 kg"
    text = text_of(detail)
    assert "Sầu riêng Ri6: 4 kg × 50.000 ₫ = 200.000 ₫" in plain(detail)
    assert "Giao buổi sáng" in text
    assert facts(detail) == {vi("Goods"): "200.000 ₫", vi("Delivery"): "20.000 ₫", vi("Total"): "220.000 ₫"}
    # Cash on delivery is confirmed at once: it never waited for a payment.
    assert timeline(detail) == [vi("Order placed"), vi("Confirmed"), f"{farm.name}: {vi('New')}"]
    cash = vi("Pay the courier %(amount)s in cash when your order arrives.", amount="220.000 ₫")
    assert cash in text
    # The order page leads to the cancel step; it holds no form that cancels in one tap.
    assert f'href="/don-hang/{order.number}/huy/"' in text
    assert f'action="/don-hang/{order.number}/huy/"' not in text

    listed = browser.get(ORDERS)
    assert order_numbers(listed) == [order.number]
    assert "220.000 ₫" in text_of(listed)

    step = browser.get(f"/don-hang/{order.number}/huy/")
    assert step.status_code == 200
    cancelled = browser.post(f"/don-hang/{order.number}/huy/", cancel_form(step, reason="Đổi ý"), follow=True)
    assert cancelled.redirect_chain == [(f"/don-hang/{order.number}/", 302)]
    assert messages_of(cancelled) == [vi("Cancelled. Nothing is owed for the cancelled items.")]
    assert timeline(cancelled)[-2:] == [
        f"{farm.name}: {vi('Cancelled')} (Đổi ý)",
        f"{vi('Cancelled')} ({vi(ROLL_UP)})",
    ]
    assert f'href="/don-hang/{order.number}/huy/"' not in text_of(cancelled)
    assert cash not in text_of(cancelled)
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert stock_shown(browser, durian) == "10 kg"


def test_checkout_needs_an_account(client, db):
    response = client.get(CHECKOUT)
    assert response.status_code == 302
    assert response["Location"] == f"/account/login/?next={CHECKOUT}"
    assert client.post(CHECKOUT, {"name": "x"})["Location"] == f"/account/login/?next={CHECKOUT}"
    assert not Order.objects.exists()


def test_an_empty_cart_goes_back_to_the_cart(browser):
    response = browser.get(CHECKOUT, follow=True)
    assert response.redirect_chain == [("/gio-hang/", 302)]
    assert vi("Your cart is empty.") in messages_of(response)


def test_checkout_shows_the_cart_by_household_before_a_ward_is_chosen(browser, buyer, farm, other_farm):
    durian = listing(farm, price=50000)
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000)
    fill_cart(buyer, [(durian, "2"), (pomelo, "1")])
    page = browser.get(CHECKOUT)
    assert page.status_code == 200
    text = text_of(page)
    summary = text.split('id="summary-title"')[1].split("</section>")[0]
    assert summary.index(farm.name) < summary.index("Sầu riêng Ri6") < summary.index(other_farm.name)
    assert summary.index(other_farm.name) < summary.index("Bưởi da xanh")
    assert facts(page) == {
        vi("Goods"): "130.000 ₫",
        vi("Delivery"): vi("choose the ward below"),
        vi("Total"): "–",
    }
    # The account's name and phone are the first guess; no ward yet; cash on delivery is chosen.
    assert input_value(page, "name") == "Trần Thị Lan"
    digits = buyer.phone.removeprefix("+84")
    assert input_value(page, "phone") == f"0{digits[:3]} {digits[3:6]} {digits[6:]}"
    assert selected_ward(page) is None
    cod = r'<input type="radio" name="payment_method" value="cod"[^>]*checked'
    assert re.search(cod, page.content.decode())
    assert input_value(page, "cart_version")
    assert has_place_button(page)


def test_checkout_is_prefilled_from_the_last_order_with_its_fee(browser, buyer, farm):
    durian = listing(farm, price=50000)
    last = {"name": "Anh Hai", "address": "Hẻm 5, Cái Răng", "ward": ward(7).pk}
    place(buyer, [(durian, "1")], delivery=last)
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    assert input_value(page, "name") == "Anh Hai"
    assert input_value(page, "phone") == "0912 345 678"
    assert input_value(page, "address") == "Hẻm 5, Cái Răng"
    assert selected_ward(page) == ward(7).pk
    assert facts(page) == {vi("Goods"): "100.000 ₫", vi("Delivery"): "20.000 ₫", vi("Total"): "120.000 ₫"}


def test_the_quote_button_only_recomputes_the_fee(browser, buyer, farm):
    set_tariff(ward(5), base_fee=35000, included_kg=1, per_kg_fee=3000)
    durian = listing(farm, price=50000)
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    # A buyer who has chosen a ward but not typed the address yet asks for the fee.
    quoted = browser.post(CHECKOUT, order_form(page, ward=ward(5).pk, address="", quote="1"))
    assert quoted.status_code == 200
    assert facts(quoted) == {vi("Goods"): "100.000 ₫", vi("Delivery"): "38.000 ₫", vi("Total"): "138.000 ₫"}
    assert selected_ward(quoted) == ward(5).pk
    assert 'class="error"' not in quoted.content.decode()
    assert not Order.objects.exists()
    assert CartLine.objects.filter(cart__user=buyer).count() == 1


def test_a_quote_with_everything_filled_in_places_nothing(browser, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    quoted = browser.post(CHECKOUT, order_form(page, quote="1"))
    assert quoted.status_code == 200
    assert facts(quoted)[vi("Total")] == "120.000 ₫"
    assert not Order.objects.exists()
    assert stock_of(durian) == Decimal("10")


def test_invalid_delivery_details_are_a_400_with_field_errors(browser, buyer, farm):
    durian = listing(farm, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)

    blank = browser.post(CHECKOUT, order_form(page, address="  ", ward=""))
    assert blank.status_code == 400
    text = blank.content.decode()
    assert len(re.findall(r'<div class="field has-error">', text)) == 2
    assert re.search(r'<div class="field has-error">\s*<label for="id_ward"', text)
    assert re.search(r'<div class="field has-error">\s*<label for="id_address"', text)
    assert input_value(blank, "name") == "Chị Lan"  # what was typed is kept

    phone = browser.post(CHECKOUT, order_form(page, phone="12345"))
    assert phone.status_code == 400
    assert vi(INVALID_PHONE) in text_of(phone)

    past = (timezone.localdate() - timedelta(days=1)).isoformat()
    late = browser.post(CHECKOUT, order_form(page, delivery_date=past))
    assert late.status_code == 400
    days = django_settings.DELIVERY_DATE_MAX_DAYS
    last = (timezone.localdate() + timedelta(days=days)).strftime("%d/%m/%Y")
    assert vi("Choose a delivery date from today to %(last)s.", last=last) in text_of(late)

    method = browser.post(CHECKOUT, order_form(page, payment_method="bitcoin"))
    assert method.status_code == 400
    for forged_ward in ("99999", "3' OR 1=1", "-1"):
        unknown = browser.post(CHECKOUT, order_form(page, ward=forged_ward))
        assert unknown.status_code == 400
        assert re.search(r'<div class="field has-error">\s*<label for="id_ward"', unknown.content.decode())
    assert not Order.objects.exists()
    assert stock_of(durian) == Decimal("10")
    assert CartLine.objects.filter(cart__user=buyer).count() == 1


def test_money_sent_with_the_form_is_not_read(browser, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    forged = order_form(
        page, total="1000", subtotal="1000", price="1", unit_price="1", delivery_fee="0", line_total="1"
    )
    assert browser.post(CHECKOUT, forged).status_code == 302
    order = the_order(buyer)
    assert (order.subtotal, order.delivery_fee, order.total) == (100000, 20000, 120000)
    assert order.farm_orders.get().lines.get().unit_price == 50000


def test_a_cart_version_sent_empty_is_priced_by_the_server(browser, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    farm_services.product_update(product=durian, price=60000)
    assert browser.post(CHECKOUT, order_form(page, cart_version="", total="1")).status_code == 302
    assert the_order(buyer).total == 140000  # today's price: 2 × 60.000 + 20.000


def test_a_tampered_cart_version_is_refused_and_takes_nothing(browser, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    refused = browser.post(CHECKOUT, order_form(page, cart_version="0" * 16))
    assert refused.status_code == 409
    assert vi(
        "Your cart changed since you last saw it: check the prices and quantities, then order again."
    ) in text_of(refused)
    assert not Order.objects.exists()
    assert stock_of(durian) == Decimal("10")


def test_a_stale_cart_is_a_409_that_shows_the_new_price(browser, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    farm_services.product_update(product=durian, price=55000)

    stale = browser.post(CHECKOUT, order_form(page))
    assert stale.status_code == 409
    text = text_of(stale)
    assert (
        vi("Your cart changed since you last saw it: check the prices and quantities, then order again.")
        in text
    )
    assert "Sầu riêng Ri6: 2 kg × 55.000 ₫ = 110.000 ₫" in plain(stale)
    assert facts(stale)[vi("Total")] == "130.000 ₫"
    assert not Order.objects.exists()
    assert stock_of(durian) == Decimal("10")
    # The page carries the cart as it is now: ordering again from it goes through.
    assert has_place_button(stale)
    fresh = input_value(stale, "cart_version")
    assert fresh and fresh != input_value(page, "cart_version")
    again = browser.post(CHECKOUT, order_form(stale))
    assert again.status_code == 302
    assert the_order(buyer).total == 130000


def test_stock_gone_meanwhile_is_a_409_and_takes_nothing(browser, buyer, farm, other_farm, make_user):
    durian = listing(farm, price=50000, stock="5")
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000, stock="10")
    fill_cart(buyer, [(durian, "3"), (pomelo, "2")])
    page = browser.get(CHECKOUT)
    place(make_user(Role.BUYER), [(durian, "4")])  # someone else was quicker

    refused = browser.post(CHECKOUT, order_form(page))
    assert refused.status_code == 409
    text = text_of(refused)
    assert vi("Only %(stock)s left: lower the quantity.") % {"stock": "1 kg"} in text
    assert not has_place_button(refused)
    assert not Order.objects.filter(buyer=buyer).exists()
    assert (stock_of(durian), stock_of(pomelo)) == (Decimal("1"), Decimal("10"))
    assert CartLine.objects.filter(cart__user=buyer).count() == 2

    # Without the version the service names the line that cannot be ordered.
    named = browser.post(CHECKOUT, order_form(page, cart_version=""))
    assert named.status_code == 409
    assert vi(CANNOT_ORDER, lines="Sầu riêng Ri6") in text_of(named)
    assert (stock_of(durian), stock_of(pomelo)) == (Decimal("1"), Decimal("10"))


def test_an_item_of_a_suspended_household_is_refused_not_a_500(browser, buyer, farm, other_farm, official):
    durian = listing(farm, price=50000, stock="10")
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000, stock="10")
    fill_cart(buyer, [(durian, "2"), (pomelo, "1")])
    before = browser.get(CHECKOUT)
    farm_services.farm_suspend(farm=farm, by=official, reason="Kiểm tra")

    page = browser.get(CHECKOUT)
    assert page.status_code == 200
    assert vi("No longer on sale: remove it from your cart.") in text_of(page)
    assert vi("Some items cannot be ordered as they stand. Change them in your cart first.") in text_of(page)
    assert not has_place_button(page)
    assert facts(page)[vi("Goods")] == "30.000 ₫"

    # From the page seen before the suspension (its cart version is stale) and from the page now.
    stale = browser.post(CHECKOUT, order_form(before))
    named = browser.post(CHECKOUT, order_form(page))
    assert (stale.status_code, named.status_code) == (409, 409)
    assert vi("No longer on sale: remove it from your cart.") in text_of(stale)
    assert vi(CANNOT_ORDER, lines="Sầu riêng Ri6") in text_of(named)
    assert not Order.objects.exists()
    assert (stock_of(durian), stock_of(pomelo)) == (Decimal("10"), Decimal("10"))


COD_CAP = (
    "Until your first order has been delivered, cash-on-delivery orders are limited to "
    "%(cap)s. This order comes to %(total)s."
)
COD_CAP_OPEN = (
    "Until your first order has been delivered, cash-on-delivery orders are limited to "
    "%(cap)s in all. You already have %(open)s waiting, so this order (%(total)s) is too large."
)


def test_the_cash_on_delivery_cap_explains_itself(browser, buyer, farm, settings):
    settings.COD_FIRST_ORDERS_CAP = 90_000
    settings.VIETQR_BANK_BIN = ""  # cash on delivery is the only way to pay here
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    assert page.status_code == 200
    assert vi(COD_CAP, cap="90.000 ₫", total="100.000 ₫") in text_of(page)  # no ward yet: no fee
    assert not has_place_button(page)

    refused = browser.post(CHECKOUT, order_form(page))
    assert refused.status_code == 409
    assert vi(COD_CAP, cap="90.000 ₫", total="120.000 ₫") in text_of(refused)  # with the fee to the ward
    assert not Order.objects.exists()
    assert stock_of(durian) == Decimal("10")


def test_the_delivery_fee_can_take_an_order_over_the_cap(browser, buyer, farm, settings):
    settings.COD_FIRST_ORDERS_CAP = 110_000
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    assert has_place_button(page)  # 100.000 ₫ of goods, no ward chosen yet
    assert vi(COD_CAP, cap="110.000 ₫", total="100.000 ₫") not in text_of(page)

    refused = browser.post(CHECKOUT, order_form(page))
    assert refused.status_code == 409
    assert vi(COD_CAP, cap="110.000 ₫", total="120.000 ₫") in text_of(refused)
    assert not Order.objects.exists()
    assert stock_of(durian) == Decimal("10")


def test_the_cap_counts_the_orders_still_open(browser, buyer, farm, settings):
    settings.COD_FIRST_ORDERS_CAP = 200_000
    settings.VIETQR_BANK_BIN = ""  # cash on delivery is the only way to pay here
    durian = listing(farm, price=50000, stock="10")
    place(buyer, [(durian, "1")])  # 70.000 ₫ waiting
    fill_cart(buyer, [(durian, "3")])
    page = browser.get(CHECKOUT)  # the ward of the last order: 170.000 ₫ with the fee
    reason = vi(COD_CAP_OPEN, cap="200.000 ₫", open="70.000 ₫", total="170.000 ₫")
    assert reason in text_of(page)
    assert not has_place_button(page)

    refused = browser.post(CHECKOUT, order_form(page))
    assert refused.status_code == 409
    assert reason in text_of(refused)
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert stock_of(durian) == Decimal("9")


def test_submitting_twice_places_one_order(browser, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    assert browser.post(CHECKOUT, order_form(page)).status_code == 302
    again = browser.post(CHECKOUT, order_form(page), follow=True)
    assert again.redirect_chain == [("/gio-hang/", 302)]
    assert Order.objects.filter(buyer=buyer).count() == 1
    assert stock_of(durian) == Decimal("8")


def test_checkout_needs_the_csrf_token(buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(buyer)
    page = strict.get(CHECKOUT)
    data = order_form(page)

    assert strict.post(CHECKOUT, data).status_code == 403
    assert not Order.objects.exists()
    assert stock_of(durian) == Decimal("10")

    token = input_value(page, "csrfmiddlewaretoken")
    assert strict.post(CHECKOUT, {**data, "csrfmiddlewaretoken": token}).status_code == 302
    order = the_order(buyer)
    assert strict.post(f"/don-hang/{order.number}/huy/").status_code == 403
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


# --- The buyer's orders -----------------------------------------------------------------


def test_my_orders_are_mine_newest_first(browser, buyer, farm, make_user):
    durian = listing(farm, price=50000)
    first = place(buyer, [(durian, "1")])
    second = place(buyer, [(durian, "3")])
    theirs = place(make_user(Role.BUYER), [(durian, "2")])
    page = browser.get(ORDERS)
    assert page.status_code == 200
    assert order_numbers(page) == [second.number, first.number]
    assert theirs.number not in page.content.decode()
    assert re.findall(r'<strong class="money">([^<]+)</strong>', text_of(page)) == ["170.000 ₫", "70.000 ₫"]


def test_no_orders_yet(browser):
    page = browser.get(ORDERS)
    assert page.status_code == 200
    assert order_numbers(page) == []
    assert vi("You have no orders yet.") in text_of(page)


def test_order_pages_need_an_account(client, buyer, farm):
    order = place(buyer, [(listing(farm), "1")])
    for path in (ORDERS, f"/don-hang/{order.number}/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/account/login/?next={path}"
    cancel = client.post(f"/don-hang/{order.number}/huy/")
    assert cancel.status_code == 302 and cancel["Location"].startswith("/account/login/")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


def test_someone_elses_order_is_not_found(browser, farm, make_user):
    durian = listing(farm, stock="10")
    theirs = place(make_user(Role.BUYER), [(durian, "2")])
    assert browser.get(f"/don-hang/{theirs.number}/").status_code == 404
    assert browser.get("/don-hang/CN-0101-0000/").status_code == 404
    assert browser.post(f"/don-hang/{theirs.number}/huy/").status_code == 404
    assert Order.objects.get(pk=theirs.pk).status == OrderStatus.CONFIRMED
    assert stock_of(durian) == Decimal("8")


def test_a_cancel_naming_a_part_of_someone_elses_order_changes_nothing(browser, buyer, farm, make_user):
    durian = listing(farm, stock="10")
    mine = place(buyer, [(durian, "1")])
    theirs = place(make_user(Role.BUYER), [(durian, "2")])
    their_part = theirs.farm_orders.get()
    done = browser.post(f"/don-hang/{mine.number}/huy/", {"farm_order": their_part.pk}, follow=True)
    assert done.redirect_chain == [(f"/don-hang/{mine.number}/", 302)]
    assert messages_of(done) == [vi("Choose only parts of this order.")]
    assert FarmOrder.objects.get(pk=their_part.pk).status == FarmOrderStatus.NEW
    assert mine.farm_orders.get().status == FarmOrderStatus.NEW
    assert stock_of(durian) == Decimal("7")


def test_cancelling_twice_gives_the_stock_back_once(browser, buyer, farm):
    durian = listing(farm, stock="10")
    order = place(buyer, [(durian, "3")])
    first = browser.post(f"/don-hang/{order.number}/huy/", follow=True)
    assert messages_of(first) == [vi("Cancelled. Nothing is owed for the cancelled items.")]
    assert stock_of(durian) == Decimal("10")
    again = browser.post(f"/don-hang/{order.number}/huy/", follow=True)
    assert again.status_code == 200
    assert messages_of(again) == [vi("This order is already cancelled.")]
    assert stock_of(durian) == Decimal("10")


def test_opening_the_cancel_step_cancels_nothing(browser, buyer, farm):
    order = place(buyer, [(listing(farm), "1")])
    for _ in range(2):
        assert browser.get(f"/don-hang/{order.number}/huy/").status_code == 200
    assert browser.head(f"/don-hang/{order.number}/huy/").status_code == 200
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED
    assert order.farm_orders.get().status == FarmOrderStatus.NEW


def test_detail_shows_each_household_part(browser, buyer, farm, other_farm):
    durian = listing(farm, price=50000)
    pomelo = listing(
        other_farm, name="Bưởi da xanh", category=202, unit="trai", unit_weight_kg="1.5", price=30000
    )
    order = place(buyer, [(durian, "1,5"), (pomelo, "3")], delivery={"name": "Chị Lan", "ward": ward(3).pk})
    page = browser.get(f"/don-hang/{order.number}/")
    assert page.status_code == 200
    sections = text_of(page).split('<section class="card cart-farm"')[1:]
    assert len(sections) == 2
    assert farm.name in sections[0] and "Sầu riêng Ri6: 1,5 kg × 50.000 ₫ = 75.000 ₫" in plain(sections[0])
    assert "75.000 ₫</strong>" in sections[0].split(vi("From this household:"))[1]
    assert other_farm.name in sections[1] and "Bưởi da xanh" in sections[1] and "90.000 ₫" in sections[1]
    assert "Bưởi da xanh" not in sections[0]
    # 6 kg: one kilogram over the five the base fee covers.
    assert facts(page) == {vi("Goods"): "165.000 ₫", vi("Delivery"): "22.000 ₫", vi("Total"): "187.000 ₫"}
    assert f"12 đường 30/4, {ward(3).full_name}" in text_of(page)
    assert timeline(page)[2:] == [f"{farm.name}: {vi('New')}", f"{other_farm.name}: {vi('New')}"]


def test_cancelling_leaves_an_accepted_part_alone(browser, buyer, farm, other_farm):
    durian = listing(farm, price=50000, stock="10")
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000, stock="10")
    order = place(buyer, [(durian, "2"), (pomelo, "3")])
    accepted = order.farm_orders.get(farm=farm)
    assert farmer_browser(farm).post(f"/farmer/orders/{accepted.pk}/accept/").status_code == 302

    page = browser.get(f"/don-hang/{order.number}/")
    assert f'href="/don-hang/{order.number}/huy/"' in page.content.decode()  # the other part is still new
    assert vi("Cancel the parts not yet accepted") in text_of(page)
    done = browser.post(f"/don-hang/{order.number}/huy/", follow=True)
    assert messages_of(done) == [vi("Cancelled. Nothing is owed for the cancelled items.")]
    statuses = dict(order.farm_orders.values_list("farm_id", "status"))
    assert statuses == {farm.pk: FarmOrderStatus.ACCEPTED, other_farm.pk: FarmOrderStatus.CANCELLED}
    assert (stock_of(durian), stock_of(pomelo)) == (Decimal("8"), Decimal("10"))
    assert f'href="/don-hang/{order.number}/huy/"' not in done.content.decode()

    again = browser.post(f"/don-hang/{order.number}/huy/", follow=True)
    assert messages_of(again) == [
        vi("A household has already accepted this order, so it can no longer be cancelled here.")
    ]
    assert order.farm_orders.get(farm=farm).status == FarmOrderStatus.ACCEPTED
    assert stock_of(durian) == Decimal("8")


def test_my_orders_page_queries_do_not_grow_with_orders(browser, buyer, farm):
    durian = listing(farm, price=10000, stock="100")
    place(buyer, [(durian, "1")])
    browser.get(ORDERS)
    with CaptureQueriesContext(connection) as one:
        first = browser.get(ORDERS)
    for _ in range(4):
        place(buyer, [(durian, "1")])
    with CaptureQueriesContext(connection) as five:
        page = browser.get(ORDERS)
    assert len(order_numbers(first)) == 1 and len(order_numbers(page)) == 5
    assert len(five) == len(one)


# --- The household's orders -------------------------------------------------------------


def test_farm_orders_are_for_farmers(client, buyer, farm):
    response = client.get(FARM_ORDERS)
    assert response.status_code == 302
    assert response["Location"] == f"/account/login/?next={FARM_ORDERS}"
    client.force_login(buyer)
    assert client.get(FARM_ORDERS).status_code == 403
    order = place(buyer, [(listing(farm), "1")])
    part = order.farm_orders.get()
    assert client.post(f"/farmer/orders/{part.pk}/accept/").status_code == 403
    assert client.post(f"/farmer/orders/{part.pk}/reject/", {"reason": "x"}).status_code == 403
    assert FarmOrder.objects.get(pk=part.pk).status == FarmOrderStatus.NEW


def test_a_household_sees_its_own_parts_from_new_on(buyer, farm, other_farm, make_user):
    durian = listing(farm, price=50000)
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000)
    shared = place(buyer, [(durian, "2"), (pomelo, "1")], note="Gọi trước khi giao")
    unpaid = place(make_user(Role.BUYER), [(durian, "1")])
    FarmOrder.objects.filter(order=unpaid).update(status=FarmOrderStatus.AWAITING_PAYMENT)

    page = farmer_browser(farm).get(FARM_ORDERS)
    assert page.status_code == 200
    mine = shared.farm_orders.get(farm=farm)
    assert farm_order_ids(page) == [mine.pk]
    text = text_of(page)
    assert shared.number in text and unpaid.number not in text
    assert "Sầu riêng Ri6: 2 kg = 100.000 ₫" in plain(page)
    assert "Bưởi da xanh" not in text
    assert "Gọi trước khi giao" in text
    assert ward(3).full_name in text
    assert f'action="/farmer/orders/{mine.pk}/accept/"' in text
    assert f'action="/farmer/orders/{mine.pk}/reject/"' in text
    hidden = unpaid.farm_orders.get()
    assert farmer_browser(farm).post(f"/farmer/orders/{hidden.pk}/accept/").status_code == 404
    assert FarmOrder.objects.get(pk=hidden.pk).status == FarmOrderStatus.AWAITING_PAYMENT


def test_no_farm_orders_yet(farm):
    page = farmer_browser(farm).get(FARM_ORDERS)
    assert page.status_code == 200
    assert farm_order_ids(page) == []
    assert vi("No orders yet. New orders show up here and you are told by SMS.") in text_of(page)


def test_accepting_a_part(browser, buyer, farm):
    order = place(buyer, [(listing(farm), "1")])
    part = order.farm_orders.get()
    farmer = farmer_browser(farm)
    assert farmer.get(f"/farmer/orders/{part.pk}/accept/").status_code == 405

    done = farmer.post(f"/farmer/orders/{part.pk}/accept/", follow=True)
    assert done.redirect_chain == [(FARM_ORDERS, 302)]
    assert messages_of(done) == [vi("Order %(number)s accepted.", number=order.number)]
    assert FarmOrder.objects.get(pk=part.pk).status == FarmOrderStatus.ACCEPTED
    assert farm_order_ids(done) == [part.pk]
    assert f'action="/farmer/orders/{part.pk}/accept/"' not in done.content.decode()

    again = farmer.post(f"/farmer/orders/{part.pk}/accept/", follow=True)
    assert len(messages_of(again)) == 1 and 'class="msg msg-error"' in again.content.decode()
    assert FarmOrder.objects.get(pk=part.pk).status == FarmOrderStatus.ACCEPTED

    detail = browser.get(f"/don-hang/{order.number}/")
    assert timeline(detail)[-1] == f"{vi('Being prepared')} ({vi(ROLL_UP)})"
    assert f'action="/don-hang/{order.number}/huy/"' not in detail.content.decode()


def test_rejecting_needs_a_reason_and_gives_the_stock_back(browser, buyer, farm):
    durian = listing(farm, stock="10")
    order = place(buyer, [(durian, "4")])
    part = order.farm_orders.get()
    farmer = farmer_browser(farm)

    for reason in ({}, {"reason": ""}, {"reason": "   "}):
        empty = farmer.post(f"/farmer/orders/{part.pk}/reject/", reason, follow=True)
        assert empty.redirect_chain == [(FARM_ORDERS, 302)]
        assert messages_of(empty) == [vi("Tell the buyer why, in a few words.")]
        assert FarmOrder.objects.get(pk=part.pk).status == FarmOrderStatus.NEW
        assert stock_of(durian) == Decimal("6")

    done = farmer.post(f"/farmer/orders/{part.pk}/reject/", {"reason": "<b>Mưa dập</b> hết"}, follow=True)
    assert messages_of(done) == [vi("Order %(number)s rejected; the stock is back.", number=order.number)]
    assert FarmOrder.objects.get(pk=part.pk).status == FarmOrderStatus.REJECTED
    assert stock_of(durian) == Decimal("10")

    detail = browser.get(f"/don-hang/{order.number}/")
    assert f"{farm.name}: {vi('Rejected by the household')} (<b>Mưa dập</b> hết)" in timeline(detail)
    assert "&lt;b&gt;Mưa dập&lt;/b&gt; hết" in detail.content.decode()  # the buyer sees it as text
    assert "<b>Mưa dập</b>" not in detail.content.decode()


def test_another_households_part_is_not_found(buyer, farm, other_farm):
    order = place(buyer, [(listing(other_farm, stock="10"), "2")])
    theirs = order.farm_orders.get()
    farmer = farmer_browser(farm)
    assert farmer.post(f"/farmer/orders/{theirs.pk}/accept/").status_code == 404
    assert farmer.post(f"/farmer/orders/{theirs.pk}/reject/", {"reason": "Hết hàng"}).status_code == 404
    assert farmer.post("/farmer/orders/999999/accept/").status_code == 404
    assert FarmOrder.objects.get(pk=theirs.pk).status == FarmOrderStatus.NEW
    assert farm_order_ids(farmer.get(FARM_ORDERS)) == []


def test_farm_orders_page_queries_do_not_grow_with_orders(farm, make_user):
    durian = listing(farm, price=10000, stock="100")
    mango = listing(farm, name="Xoài cát Hòa Lộc", category=202, price=40000, stock="100")
    place(make_user(Role.BUYER), [(durian, "1")])
    farmer = farmer_browser(farm)
    farmer.get(FARM_ORDERS)
    with CaptureQueriesContext(connection) as one:
        first = farmer.get(FARM_ORDERS)
    for _ in range(4):
        place(make_user(Role.BUYER), [(durian, "1"), (mango, "2")], delivery={"ward": ward(5).pk})
    with CaptureQueriesContext(connection) as five:
        page = farmer.get(FARM_ORDERS)
    assert len(farm_order_ids(first)) == 1 and len(farm_order_ids(page)) == 5
    assert text_of(page).count("Xoài cát Hòa Lộc") == 4
    assert len(five) == len(one)


# --- Languages --------------------------------------------------------------------------


def test_the_order_pages_render_in_english(client, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    client.force_login(buyer)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    fill_cart(buyer, [(durian, "2")])
    page = client.get(CHECKOUT)
    assert page.status_code == 200
    text = text_of(page)
    assert '<html lang="en">' in text and "<h1>Checkout</h1>" in text and "Cash on delivery" in text

    placed = client.post(CHECKOUT, order_form(page), follow=True)
    order = the_order(buyer)
    assert messages_of(placed) == [f"Thank you! Order {order.number} is placed."]
    assert timeline(placed) == ["Order placed", "Confirmed", f"{farm.name}: New"]
    assert facts(placed) == {"Goods": "100.000 ₫", "Delivery": "20.000 ₫", "Total": "120.000 ₫"}

    listed = client.get(ORDERS)
    assert listed.status_code == 200 and "<h1>My orders</h1>" in text_of(listed)

    farmer = farmer_browser(farm)
    farmer.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    farm_page = farmer.get(FARM_ORDERS)
    assert farm_page.status_code == 200
    assert "<h1>Orders for my farm</h1>" in text_of(farm_page) and ">Accept</button>" in text_of(farm_page)

    # A refusal reads in English too.
    fill_cart(buyer, [(durian, "1")])
    stale = client.get(CHECKOUT)
    farm_services.product_update(product=durian, price=52000)
    refused = client.post(CHECKOUT, order_form(stale))
    assert refused.status_code == 409
    assert en(
        "Your cart changed since you last saw it: check the prices and quantities, then order again."
    ) in text_of(refused)
    assert '<html lang="en">' in text_of(refused)


def test_the_order_pages_speak_vietnamese_by_default(browser, buyer, farm):
    # Vietnamese first: the order pages must not fall back to the English msgids.
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    text = text_of(page)
    assert '<html lang="vi">' in text
    assert "<h1>Checkout</h1>" not in text
    assert "Place the order" not in text
    order = place(buyer)
    detail = text_of(browser.get(f"/don-hang/{order.number}/"))
    assert "Timeline" not in detail and "(Order placed.)" not in detail
    assert "<h1>My orders</h1>" not in text_of(browser.get(ORDERS))
    assert "<h1>Orders for my farm</h1>" not in text_of(farmer_browser(farm).get(FARM_ORDERS))


@pytest.mark.parametrize("number", ["CN-%00/", "CN-1234-%00/", "CN-²²²²-1234/", "x/"])
def test_odd_order_numbers_are_a_plain_404(browser, number):
    assert browser.get(f"/don-hang/{number}").status_code == 404
    assert browser.post(f"/don-hang/{number}huy/").status_code == 404


def test_odd_part_ids_in_a_page_cancel_are_ignored_not_a_500(browser, buyer, farm):
    durian = listing(farm, price=50000, stock="10")
    order = place(buyer, [(durian, "1")])
    response = browser.post(f"/don-hang/{order.number}/huy/", {"farm_order": ["²", "x"]})
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED


def test_a_refused_cash_on_delivery_leaves_the_bank_transfer_to_choose(browser, buyer, farm, settings):
    settings.COD_FIRST_ORDERS_CAP = 90_000
    durian = listing(farm, price=50000, stock="10")
    fill_cart(buyer, [(durian, "2")])
    page = browser.get(CHECKOUT)
    assert vi(COD_CAP, cap="90.000 ₫", total="100.000 ₫") in text_of(page)
    assert has_place_button(page)
    placed = browser.post(CHECKOUT, order_form(page, payment_method="vietqr"))
    assert placed.status_code == 302
    order = Order.objects.get()
    assert (order.payment_method, order.status) == ("vietqr", OrderStatus.PENDING_PAYMENT)
