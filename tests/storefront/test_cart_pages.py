"""Cart pages: add from the listing, the anonymous cart and its merge at login, stock, prices."""

import re

import pytest
from django.test import Client

from farms import services
from marketplace.accounts.models import Role
from orders.models import Cart, CartLine
from tests.conftest import TEST_PASSWORD
from tests.farms.factories import make_farm

from .helpers import listing

pytestmark = pytest.mark.django_db

NOTICE = "Một số giá đã thay đổi kể từ lần cuối bạn xem giỏ hàng."


@pytest.fixture
def official(make_user):
    return make_user(Role.OFFICIAL)


@pytest.fixture
def farm(make_user, official):
    return make_farm(make_user, official=official)


@pytest.fixture
def other_farm(make_user, official):
    return make_farm(make_user, official=official, name="Hộ bà Năm")


def cart_count(page) -> str | None:
    found = re.search(
        r'class="cart-link"[^>]*>[^<]*(?:<span class="badge">(\d+)</span>)?', page.content.decode()
    )
    return found.group(1) if found else None


def line_ids(page) -> list[int]:
    return [int(pk) for pk in re.findall(r'<li class="cart-line[^"]*" id="line(\d+)"', page.content.decode())]


def test_an_anonymous_visitor_adds_to_a_session_cart(client, farm):
    product = listing(farm, price=72000)
    response = client.post(f"/san-pham/{product.pk}/", {"quantity": "1,5"})
    assert response.status_code == 302
    assert response["Location"] == "/gio-hang/"
    page = client.get("/gio-hang/")
    text = page.content.decode()
    assert "Sầu riêng Ri6" in text
    assert "108.000 ₫" in text  # 1,5 kg × 72.000 ₫
    assert cart_count(page) == "1"
    cart = Cart.objects.get()
    assert cart.user is None and cart.session_key == client.session.session_key
    # Another visitor does not see it.
    assert "Sầu riêng Ri6" not in Client().get("/gio-hang/").content.decode()


def test_logging_in_moves_the_anonymous_cart_into_the_account(client, farm, make_user):
    buyer = make_user(Role.BUYER)
    product = listing(farm)
    client.post(f"/san-pham/{product.pk}/", {"quantity": "2"})
    response = client.post("/account/login/", {"username": buyer.phone, "password": TEST_PASSWORD})
    assert response.status_code == 302
    line = CartLine.objects.get(cart__user=buyer)
    assert line.product_id == product.pk and str(line.quantity) == "2.000"
    assert not Cart.objects.filter(user__isnull=True).exists()
    page = client.get("/gio-hang/")
    assert "Sầu riêng Ri6" in page.content.decode()
    assert cart_count(page) == "1"


def test_adding_twice_adds_to_the_line(client, farm):
    product = listing(farm)
    client.post(f"/san-pham/{product.pk}/", {"quantity": "2"})
    client.post(f"/san-pham/{product.pk}/", {"quantity": "3"})
    assert str(CartLine.objects.get().quantity) == "5.000"


def test_adding_more_than_the_stock_says_how_much_is_left(client, farm):
    product = listing(farm, stock="3")
    page = client.post(f"/san-pham/{product.pk}/", {"quantity": "5"})
    assert page.status_code == 400
    assert "Chỉ còn 3 kg — bạn đặt 5 kg" in page.content.decode()
    assert not CartLine.objects.exists()


def test_a_fraction_of_a_counted_unit_is_refused_on_the_page(client, farm):
    pomelo = listing(farm, name="Bưởi da xanh", category=202, unit="trai", unit_weight_kg="1.5", stock="40")
    page = client.post(f"/san-pham/{pomelo.pk}/", {"quantity": "1.5"})
    assert page.status_code == 400
    assert "Đơn vị này tính theo số đếm: hãy dùng số nguyên." in page.content.decode()
    assert not CartLine.objects.exists()


def test_a_price_change_is_noticed_once(client, farm):
    product = listing(farm, price=48000)
    client.post(f"/san-pham/{product.pk}/", {"quantity": "2"})
    assert NOTICE not in client.get("/gio-hang/").content.decode()

    services.product_update(product=product, price=52000)
    text = client.get("/gio-hang/").content.decode()
    assert NOTICE in text
    assert "Giá đã đổi: trước 48.000 ₫, nay 52.000 ₫." in text
    assert "104.000 ₫" in text  # today's price

    again = client.get("/gio-hang/").content.decode()
    assert NOTICE not in again
    assert "104.000 ₫" in again


def test_cart_groups_lines_by_household_with_a_subtotal(client, farm, other_farm):
    durian = listing(farm, price=70000)
    pomelo = listing(other_farm, name="Bưởi da xanh", category=202, price=30000)
    client.post(f"/san-pham/{durian.pk}/", {"quantity": "1"})
    client.post(f"/san-pham/{pomelo.pk}/", {"quantity": "2"})
    text = client.get("/gio-hang/").content.decode()
    groups = text.split('<section class="cart-farm"')[1:]
    assert len(groups) == 2
    assert farm.name in groups[0] and "Sầu riêng Ri6" in groups[0]
    assert other_farm.name in groups[1] and "Bưởi da xanh" in groups[1]
    assert "130.000 ₫" in text  # 70.000 + 2 × 30.000


def test_changing_and_removing_a_line(client, farm):
    product = listing(farm, stock="10")
    client.post(f"/san-pham/{product.pk}/", {"quantity": "2"})
    line = CartLine.objects.get()

    response = client.post(f"/gio-hang/{line.pk}/", {"quantity": "4"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert str(line.quantity) == "4.000"

    over = client.post(f"/gio-hang/{line.pk}/", {"quantity": "12"}, follow=True)
    assert "Chỉ còn 10 kg — bạn đặt 12 kg" in over.content.decode()
    line.refresh_from_db()
    assert str(line.quantity) == "4.000"

    client.post(f"/gio-hang/{line.pk}/xoa/")
    assert not CartLine.objects.exists()
    assert cart_count(client.get("/gio-hang/")) is None


def test_someone_elses_line_is_a_404(client, farm, make_user):
    product = listing(farm)
    owner = Client()
    owner.post(f"/san-pham/{product.pk}/", {"quantity": "2"})
    line = CartLine.objects.get()
    assert client.post(f"/gio-hang/{line.pk}/", {"quantity": "3"}).status_code == 404
    assert client.post(f"/gio-hang/{line.pk}/xoa/").status_code == 404
    client.force_login(make_user(Role.BUYER))
    assert client.post(f"/gio-hang/{line.pk}/xoa/").status_code == 404
    assert CartLine.objects.filter(pk=line.pk).exists()


def test_cart_changes_only_by_post(client, farm):
    product = listing(farm)
    client.post(f"/san-pham/{product.pk}/", {"quantity": "2"})
    line = CartLine.objects.get()
    assert client.get(f"/gio-hang/{line.pk}/xoa/").status_code == 405
    assert CartLine.objects.exists()


def test_cart_forms_need_the_csrf_token(farm):
    browser = Client(enforce_csrf_checks=True)
    product = listing(farm)
    assert browser.post(f"/san-pham/{product.pk}/", {"quantity": "2"}).status_code == 403
    assert not CartLine.objects.exists()


def test_a_line_of_a_suspended_household_shows_as_unavailable(client, farm, official):
    product = listing(farm, price=50000)
    client.post(f"/san-pham/{product.pk}/", {"quantity": "2"})
    services.farm_suspend(farm=farm, by=official, reason="Kiểm tra")
    page = client.get("/gio-hang/")
    text = page.content.decode()
    assert "Không còn bán: hãy bỏ khỏi giỏ hàng." in text
    assert f'href="/san-pham/{product.pk}/"' not in text  # its page is gone
    assert 'Tạm tính: <strong class="money">0 ₫</strong>' in text


def test_a_line_over_the_stock_left_says_so(client, farm):
    product = listing(farm, stock="10")
    client.post(f"/san-pham/{product.pk}/", {"quantity": "8"})
    services.product_update(product=product, stock="3")
    text = client.get("/gio-hang/").content.decode()
    assert "Chỉ còn 3 kg: hãy giảm số lượng." in text


def test_an_empty_cart_says_so(client, db):
    page = client.get("/gio-hang/")
    assert page.status_code == 200
    assert "Giỏ hàng của bạn đang trống." in page.content.decode()
    assert line_ids(page) == []


def test_cart_page_queries_do_not_grow_with_lines(client, farm, django_assert_num_queries):
    products = [listing(farm, name=f"Sầu riêng Ri6 vườn {n}") for n in range(12)]
    client.post(f"/san-pham/{products[0].pk}/", {"quantity": "1"})
    # Session, cart; lines priced now and their photos; header: cart and line count.
    with django_assert_num_queries(6):
        first = client.get("/gio-hang/")
    for product in products[1:]:
        client.post(f"/san-pham/{product.pk}/", {"quantity": "1"})
    with django_assert_num_queries(6):
        page = client.get("/gio-hang/")
    assert len(line_ids(first)) == 1 and len(line_ids(page)) == 12
