"""Cart services and selectors: quantities, stock, prices shown, version, merge at login."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.utils import translation

from farms import services as farm_services
from marketplace.accounts.models import Role
from marketplace.accounts.selectors import user_data_export
from marketplace.accounts.services import user_anonymise
from marketplace.errors import Conflict
from orders.models import Cart, CartLine
from orders.selectors import LineProblem, cart_detail, cart_lines_in
from orders.services import (
    cart_add,
    cart_get_or_create,
    cart_line_remove,
    cart_line_set_quantity,
    cart_mark_seen,
    cart_merge,
    cart_show,
)
from orders.sessions import CART_SESSION_KEY, session_cart
from tests.conftest import TEST_PASSWORD
from tests.farms.factories import make_farm, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def farm(make_user):
    return make_farm(make_user)


@pytest.fixture
def buyer(make_user):
    return make_user(Role.BUYER)


@pytest.fixture
def cart(buyer):
    return cart_get_or_create(user=buyer)


@pytest.fixture(autouse=True)
def english():
    # Messages are checked in English: the Vietnamese catalogue is compiled by `make messages`.
    with translation.override("en"):
        yield


def mangosteen(farm, **fields):
    return make_product(farm, status="active", **fields)


def pomelo_by_the_fruit(farm, **fields):
    data = {"name": "Bưởi da xanh", "unit": "trai", "unit_weight_kg": "1.5", "price": 45000, "stock": "40"}
    data.update(fields)
    return make_product(farm, status="active", **data)


def field_messages(exc_info) -> list[str]:
    return exc_info.value.message_dict["quantity"]


# --- Adding and changing ---------------------------------------------------------------


def test_adding_a_product_twice_adds_to_its_line(cart, farm):
    product = mangosteen(farm)
    first = cart_add(cart=cart, product=product, quantity="1.5")
    second = cart_add(cart=cart, product=product, quantity=2)
    assert second.pk == first.pk
    assert CartLine.objects.get(cart=cart).quantity == Decimal("3.5")
    assert CartLine.objects.filter(cart=cart).count() == 1


def test_a_new_line_remembers_the_price_it_was_added_at(cart, farm):
    line = cart_add(cart=cart, product=mangosteen(farm, price=47000), quantity=1)
    assert line.seen_price == 47000


def test_half_a_counted_unit_is_refused_but_half_a_kilo_is_fine(cart, farm):
    with pytest.raises(ValidationError) as exc_info:
        cart_add(cart=cart, product=pomelo_by_the_fruit(farm), quantity="0.5")
    assert field_messages(exc_info) == ["This unit is counted: use a whole number."]
    kilo = mangosteen(farm, min_order="0.5")
    assert cart_add(cart=cart, product=kilo, quantity="0.5").quantity == Decimal("0.5")


@pytest.mark.parametrize("quantity", ["0", "-1", "1.2345", "abc", "NaN", "-1e30", "1e30"])
def test_a_quantity_must_be_positive_with_three_decimals_at_most(cart, farm, quantity):
    with pytest.raises(ValidationError) as exc_info:
        cart_add(cart=cart, product=mangosteen(farm), quantity=quantity)
    assert field_messages(exc_info)
    assert not CartLine.objects.exists()


def test_below_the_minimum_order_names_the_minimum(cart, farm):
    product = mangosteen(farm, min_order="2")
    with pytest.raises(ValidationError) as exc_info:
        cart_add(cart=cart, product=product, quantity="1.5")
    assert field_messages(exc_info) == ["Order at least 2 kg."]
    # The minimum is the line's, not each addition's: 1.5 kg more on top of 2 kg is fine.
    cart_add(cart=cart, product=product, quantity=2)
    assert cart_add(cart=cart, product=product, quantity="1.5").quantity == Decimal("3.5")


def test_the_minimum_message_uses_the_languages_decimal_comma(cart, farm):
    product = mangosteen(farm, min_order="2.5")
    with translation.override("vi"), pytest.raises(ValidationError) as exc_info:
        cart_add(cart=cart, product=product, quantity=1)
    assert "2,5 kg" in field_messages(exc_info)[0]


def test_more_than_the_stock_is_a_conflict_naming_what_is_left(cart, farm):
    product = mangosteen(farm, stock="3")
    with pytest.raises(Conflict) as exc_info:
        cart_add(cart=cart, product=product, quantity=5)
    conflict = exc_info.value
    assert conflict.code == "insufficient_stock"
    assert conflict.extra == {"available": "3.000", "product": product.pk}
    assert str(conflict) == "Only 3 kg left — you asked for 5 kg."
    assert not CartLine.objects.exists()


def test_adding_on_top_of_a_line_checks_the_total_against_the_stock(cart, farm):
    product = mangosteen(farm, stock="3.5")
    cart_add(cart=cart, product=product, quantity=2)
    with pytest.raises(Conflict) as exc_info:
        cart_add(cart=cart, product=product, quantity=2)
    assert str(exc_info.value) == "Only 3.5 kg left — you asked for 4 kg."
    assert CartLine.objects.get().quantity == Decimal("2")


def test_setting_a_quantity_is_checked_like_adding(cart, farm):
    line = cart_add(cart=cart, product=pomelo_by_the_fruit(farm, stock="10"), quantity=2)
    with pytest.raises(ValidationError):
        cart_line_set_quantity(line=line, quantity="2.5")
    with pytest.raises(Conflict):
        cart_line_set_quantity(line=line, quantity=11)
    cart_line_set_quantity(line=line, quantity=4)
    assert CartLine.objects.get(pk=line.pk).quantity == 4


def test_removing_a_line(cart, farm):
    line = cart_add(cart=cart, product=mangosteen(farm), quantity=1)
    cart_line_remove(line=line)
    assert not CartLine.objects.filter(cart=cart).exists()


def test_a_suspended_households_listing_cannot_be_added_and_shows_unavailable(cart, farm, make_user):
    product = mangosteen(farm)
    other = mangosteen(make_farm(make_user, name="Hộ bà Năm"), price=30000)
    cart_add(cart=cart, product=product, quantity=2)
    cart_add(cart=cart, product=other, quantity=1)
    farm_services.farm_suspend(farm=farm, by=make_user(Role.OFFICIAL), reason="Kiểm tra lại")

    with pytest.raises(Conflict) as exc_info:
        cart_add(cart=cart, product=product, quantity=1)
    assert exc_info.value.code == "product_unavailable"
    assert exc_info.value.extra == {"product": product.pk}

    detail = cart_detail(cart=cart)
    by_product = {line.product.pk: line for line in detail.lines}
    assert by_product[product.pk].available is False
    assert by_product[product.pk].problem == LineProblem.UNAVAILABLE
    assert by_product[other.pk].available is True
    assert detail.subtotal == 30000  # only what can be ordered now


@pytest.mark.parametrize("status", ["paused", "draft", "archived"])
def test_a_listing_off_sale_cannot_be_added(cart, farm, status):
    product = make_product(farm, status=status)
    with pytest.raises(Conflict) as exc_info:
        cart_add(cart=cart, product=product, quantity=1)
    assert exc_info.value.code == "product_unavailable"


# --- Prices shown, totals, version -----------------------------------------------------


def test_lines_are_priced_now_and_rounded_half_up_to_whole_dong(cart, farm):
    product = mangosteen(farm, price=45001, min_order="0.5")
    cart_add(cart=cart, product=product, quantity="0.5")
    line = cart_detail(cart=cart).lines[0]
    assert line.unit_price == 45001
    assert line.line_total == 22501  # 22500.5 rounds up


def test_a_price_change_is_flagged_once_and_changes_the_version(cart, farm):
    product = mangosteen(farm, price=48000)
    cart_add(cart=cart, product=product, quantity=2)
    before = cart_show(cart=cart)
    assert before.lines[0].price_changed is False
    assert before.lines[0].previous_price is None

    farm_services.product_update(product=product, price=52000)
    shown = cart_show(cart=cart)
    line = shown.lines[0]
    assert (line.price_changed, line.previous_price, line.unit_price) == (True, 48000, 52000)
    assert line.line_total == 104000
    assert shown.version != before.version

    again = cart_show(cart=cart)
    assert again.lines[0].price_changed is False
    assert again.version == shown.version


def test_the_version_changes_with_a_quantity_and_comes_back_with_it(cart, farm):
    line = cart_add(cart=cart, product=mangosteen(farm), quantity=2)
    two = cart_detail(cart=cart).version
    cart_line_set_quantity(line=line, quantity=3)
    three = cart_detail(cart=cart).version
    assert three != two
    cart_line_set_quantity(line=line, quantity=2)
    assert cart_detail(cart=cart).version == two


def test_the_version_changes_when_a_listing_leaves_the_catalogue(cart, farm):
    product = mangosteen(farm)
    cart_add(cart=cart, product=product, quantity=2)
    before = cart_detail(cart=cart).version
    farm_services.product_update(product=product, status="paused")
    assert cart_detail(cart=cart).version != before


def test_mark_seen_without_prices_records_the_current_ones(cart, farm):
    product = mangosteen(farm, price=48000)
    cart_add(cart=cart, product=product, quantity=1)
    farm_services.product_update(product=product, price=50000)
    assert cart_mark_seen(cart=cart) == 1
    assert CartLine.objects.get().seen_price == 50000


def test_a_line_over_the_stock_left_or_under_a_raised_minimum_is_flagged(cart, farm):
    product = mangosteen(farm, stock="10")
    cart_add(cart=cart, product=product, quantity=5)
    farm_services.product_update(product=product, stock="4")
    assert cart_detail(cart=cart).lines[0].problem == LineProblem.INSUFFICIENT_STOCK
    farm_services.product_update(product=product, stock="10", min_order="6")
    assert cart_detail(cart=cart).lines[0].problem == LineProblem.BELOW_MINIMUM


def test_lines_are_grouped_by_household_with_subtotals(cart, farm, make_user):
    other = make_farm(make_user, name="Hộ bà Năm")
    a = cart_add(cart=cart, product=mangosteen(farm, price=10000), quantity=1)
    b = cart_add(cart=cart, product=mangosteen(other, price=20000), quantity=2)
    c = cart_add(cart=cart, product=mangosteen(farm, name="Chôm chôm", price=5000), quantity=3)
    detail = cart_detail(cart=cart)
    groups = [(g.farm.pk, g.line_ids, g.subtotal) for g in detail.farms]
    assert groups == [(farm.pk, [a.pk, c.pk], 25000), (other.pk, [b.pk], 40000)]
    assert detail.subtotal == 65000


# --- Carts of accounts and sessions ----------------------------------------------------


def test_one_cart_per_account_and_per_session(buyer):
    assert cart_get_or_create(user=buyer) == cart_get_or_create(user=buyer)
    anonymous = cart_get_or_create(session_key="k" * 32)
    assert anonymous == cart_get_or_create(session_key="k" * 32)
    assert anonymous.user is None
    with pytest.raises(ValueError):
        cart_get_or_create()
    with pytest.raises(ValueError):
        cart_get_or_create(user=buyer, session_key="k" * 32)


def test_session_cart_keeps_the_carts_id_in_the_session(client, db):
    request = SimpleNamespace(user=AnonymousUser(), session=client.session)
    assert session_cart(request) is None
    cart = session_cart(request, create=True)
    assert cart.session_key == request.session.session_key
    assert request.session[CART_SESSION_KEY] == cart.pk
    # A new session key (as after cycle_key()) still finds the cart through the stored id.
    request.session.cycle_key()
    assert session_cart(request) == cart


def test_a_signed_in_requests_cart_is_the_accounts(buyer, client):
    request = SimpleNamespace(user=buyer, session=client.session)
    assert session_cart(request) is None
    cart = session_cart(request, create=True)
    assert cart.user == buyer
    assert CART_SESSION_KEY not in request.session


# --- Merge at login ----------------------------------------------------------------------


def anonymous_cart_in(client):
    """Return the cart of the test client's session, made as the storefront makes it."""
    session = client.session
    cart = session_cart(SimpleNamespace(user=AnonymousUser(), session=session), create=True)
    session.save()
    return cart


def log_in(client, user):
    return client.post("/account/login/", {"username": user.phone, "password": TEST_PASSWORD})


def test_logging_in_merges_the_session_cart_into_the_accounts(client, buyer, farm):
    mangosteen_kg = mangosteen(farm, stock="50")
    pomelo = pomelo_by_the_fruit(farm)
    own = cart_get_or_create(user=buyer)
    cart_add(cart=own, product=mangosteen_kg, quantity=2)

    anonymous = anonymous_cart_in(client)
    cart_add(cart=anonymous, product=mangosteen_kg, quantity="1.5")
    cart_add(cart=anonymous, product=pomelo, quantity=3)
    key_before = client.session.session_key

    response = log_in(client, buyer)
    assert response.status_code == 302
    assert client.session.session_key != key_before  # login() cycled the key
    quantities = dict(CartLine.objects.filter(cart=own).values_list("product_id", "quantity"))
    assert quantities == {mangosteen_kg.pk: Decimal("3.5"), pomelo.pk: Decimal("3")}
    assert not Cart.objects.filter(pk=anonymous.pk).exists()
    assert CART_SESSION_KEY not in client.session


def test_logging_in_without_a_cart_of_ones_own_adopts_the_session_cart(client, buyer, farm):
    anonymous = anonymous_cart_in(client)
    line = cart_add(cart=anonymous, product=mangosteen(farm), quantity=2)
    log_in(client, buyer)
    own = Cart.objects.get(user=buyer)
    assert list(own.lines.values_list("pk", "quantity")) == [(line.pk, Decimal("2"))]


def test_the_merge_caps_at_the_stock_and_says_so(client, buyer, farm):
    product = mangosteen(farm, name="Măng cụt", stock="5")
    cart_add(cart=cart_get_or_create(user=buyer), product=product, quantity=3)
    cart_add(cart=anonymous_cart_in(client), product=product, quantity=4)

    response = log_in(client, buyer)
    assert CartLine.objects.get(cart__user=buyer).quantity == Decimal("5")
    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    # Pages speak Vietnamese unless the visitor chose English.
    assert warnings == ["Măng cụt: chỉ còn 5 kg nên giỏ hàng giữ 5 kg thay vì 7 kg."]


def test_merge_moves_lines_of_listings_off_sale_as_they_are(buyer, farm, make_user):
    product = mangosteen(farm, stock="5")
    source = cart_get_or_create(session_key="s" * 32)
    cart_add(cart=source, product=product, quantity=4)
    farm_services.farm_suspend(farm=farm, by=make_user(Role.OFFICIAL), reason="Kiểm tra")
    target = cart_get_or_create(user=buyer)
    assert cart_merge(source=source, target=target) == []
    line = cart_detail(cart=target).lines[0]
    assert (line.quantity, line.available) == (Decimal("4"), False)


def test_logging_in_with_no_session_cart_changes_nothing(client, buyer):
    log_in(client, buyer)
    assert not Cart.objects.exists()


# --- Personal data -----------------------------------------------------------------------


def test_the_cart_is_in_the_data_export_and_goes_with_the_account(buyer, cart, farm):
    product = mangosteen(farm)
    cart_add(cart=cart, product=product, quantity=2)
    export = user_data_export(user=buyer)
    assert [(line["product"], line["quantity"]) for line in export["cart"]["lines"]] == [
        (product.pk, "2.000")
    ]
    user_anonymise(user=buyer)
    assert not Cart.objects.filter(pk=cart.pk).exists()


def test_a_pages_lookup_of_lines_stays_inside_the_cart_it_is_given(cart, farm, make_user):
    mine = cart_add(cart=cart, product=mangosteen(farm), quantity=1)
    theirs = cart_add(
        cart=cart_get_or_create(session_key="t" * 32), product=mangosteen(farm, name="Chôm chôm"), quantity=1
    )
    assert list(cart_lines_in(cart=cart)) == [mine]
    assert not cart_lines_in(cart=cart).filter(pk=theirs.pk).exists()
    assert not cart_lines_in(cart=None).exists()


def test_abandoned_anonymous_carts_are_purged_after_their_session_could_live(farm, buyer, settings):
    from datetime import timedelta

    from django.utils import timezone

    from orders.tasks import purge_abandoned_carts

    product = mangosteen(farm)
    stale = cart_get_or_create(session_key="stale-session")
    cart_add(cart=stale, product=product, quantity=1)
    fresh = cart_get_or_create(session_key="fresh-session")
    cart_add(cart=fresh, product=product, quantity=1)
    own = cart_get_or_create(user=buyer)
    cart_add(cart=own, product=product, quantity=1)
    long_ago = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    for cart in (stale, own):
        Cart.objects.filter(pk=cart.pk).update(updated_at=long_ago)
        CartLine.objects.filter(cart=cart).update(updated_at=long_ago)

    assert purge_abandoned_carts.delay().get() >= 1
    assert set(Cart.objects.values_list("pk", flat=True)) == {fresh.pk, own.pk}
    assert purge_abandoned_carts.delay().get() == 0
