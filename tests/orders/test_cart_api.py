"""Cart API: shape, quantities, stock and availability, prices shown, version, ownership, queries."""

import pytest
from rest_framework.test import APIClient

from farms import services as farm_services
from marketplace.accounts.models import Role
from marketplace.accounts.services import token_for
from orders.models import CartLine
from tests.farms.factories import jpeg_upload, make_farm, make_product

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
ITEMS = "/api/v1/cart/items/"


def item(line_id: int) -> str:
    return f"{ITEMS}{line_id}/"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def farm(make_user):
    return make_farm(make_user, name="Hộ ông Tư")


@pytest.fixture
def buyer(make_user):
    return make_user(Role.BUYER)


@pytest.fixture
def shopper(buyer):
    """The buyer's API client, asking for English messages."""
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=buyer)}", HTTP_ACCEPT_LANGUAGE="en")
    return api


def mangosteen(farm, **fields):
    return make_product(farm, status="active", **fields)


def add(client, product, quantity):
    return client.post(ITEMS, {"product": product.pk, "quantity": quantity}, format="json")


# --- Access -------------------------------------------------------------------------------


def test_the_cart_needs_a_token(api, farm):
    product = mangosteen(farm)
    assert api.get(CART).status_code == 401
    response = api.post(ITEMS, {"product": product.pk, "quantity": 1}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("role", [Role.FARMER, Role.OFFICIAL, Role.COURIER])
def test_any_signed_in_role_has_a_cart(api_as, make_user, farm, role):
    response = api_as(make_user(role)).post(ITEMS, {"product": mangosteen(farm).pk, "quantity": 1})
    assert response.status_code == 201


def test_an_empty_cart(shopper):
    response = shopper.get(CART)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"id", "version", "lines", "subtotal", "farms"}
    assert (data["lines"], data["subtotal"], data["farms"]) == ([], 0, [])
    assert shopper.get(CART).json()["id"] == data["id"]  # made once


# --- Adding -------------------------------------------------------------------------------


def test_adding_answers_201_with_the_whole_cart(shopper, farm):
    product = mangosteen(farm, price=48000, min_order="0.5")
    response = add(shopper, product, "1.5")
    assert response.status_code == 201
    data = response.json()
    [line] = data["lines"]
    assert line == {
        "id": line["id"],
        "product": {
            "id": product.pk,
            "name": "Măng cụt Phong Điền",
            "unit": "kg",
            "unit_label": "kg",
            "farm": {"id": farm.pk, "name": "Hộ ông Tư"},
            "thumbnail": None,
        },
        "quantity": "1.500",
        "unit_price": 48000,
        "line_total": 72000,
        "price_changed": False,
        "previous_price": None,
        "available": True,
        "problem": None,
    }
    assert data["subtotal"] == 72000
    assert data["farms"] == [
        {"id": farm.pk, "name": "Hộ ông Tư", "subtotal": 72000, "line_ids": [line["id"]]}
    ]


def test_adding_twice_adds_up_numbers_and_strings_alike(shopper, farm):
    product = mangosteen(farm, min_order="0.5")
    add(shopper, product, 1.5)
    data = add(shopper, product, "2").json()
    assert [line["quantity"] for line in data["lines"]] == ["3.500"]
    assert CartLine.objects.count() == 1


def test_a_line_shows_its_thumbnail(shopper, farm):
    product = mangosteen(farm)
    image = farm_services.product_image_add(product=product, upload=jpeg_upload(size=(64, 48)))
    farm_services.product_image_process(image=image)
    thumbnail = add(shopper, product, 1).json()["lines"][0]["product"]["thumbnail"]
    assert thumbnail.startswith("http://testserver/media/") and "thumb" in thumbnail


def test_half_a_counted_unit_is_a_400_and_half_a_kilo_is_not(shopper, farm):
    pomelo = mangosteen(farm, name="Bưởi da xanh", unit="trai", unit_weight_kg="1.5", stock="30")
    response = add(shopper, pomelo, "0.5")
    assert response.status_code == 400
    assert response.json() == {"quantity": ["This unit is counted: use a whole number."]}
    assert add(shopper, mangosteen(farm, min_order="0.5"), "0.5").status_code == 201


def test_below_the_minimum_order_is_a_400_naming_it(shopper, farm):
    response = add(shopper, mangosteen(farm, min_order="2"), 1)
    assert response.status_code == 400
    assert response.json() == {"quantity": ["Order at least 2 kg."]}


@pytest.mark.parametrize("quantity", [0, "-1", "1.2345", "many"])
def test_bad_quantities_are_400(shopper, farm, quantity):
    response = add(shopper, mangosteen(farm), quantity)
    assert response.status_code == 400
    assert "quantity" in response.json()


@pytest.mark.parametrize("product", [999999, "999999", 10**18 - 1, 10**30, "0"])
def test_an_unknown_product_is_a_404_like_its_url(shopper, product):
    response = shopper.post(ITEMS, {"product": product, "quantity": 1}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("product", ["abc", "1.5", True, [1], {"id": 1}, None, "", "١٢"])
def test_a_product_that_is_no_id_is_a_400_on_the_field(shopper, product):
    response = shopper.post(ITEMS, {"product": product, "quantity": 1}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["product"]


@pytest.mark.parametrize("status", ["draft", "paused", "archived", "sold_out"])
def test_another_households_hidden_listing_is_a_404_that_names_nothing(shopper, farm, status):
    """Issue #21: a draft answered 409 with its name here while `GET products/{id}/` said 404."""
    stock = "0" if status == "sold_out" else "5"
    hidden = make_product(farm, status=status, name="Sầu riêng bí mật", stock=stock)
    assert shopper.get(f"/api/v1/products/{hidden.pk}/").status_code == 404
    for quantity in (1, "many", -1):
        response = shopper.post(ITEMS, {"product": hidden.pk, "quantity": quantity}, format="json")
        assert response.status_code == 404, quantity
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
        assert "bí mật" not in response.content.decode()
    assert not CartLine.objects.exists()


def test_a_suspended_households_listing_not_in_the_cart_is_a_404(shopper, farm, make_user):
    """Once in the cart, the buyer has seen it (409 below); never added, it is hidden like its page."""
    product = mangosteen(farm, name="Chôm chôm bị đình chỉ")
    farm_services.farm_suspend(farm=farm, by=make_user(Role.OFFICIAL), reason="Kiểm tra lại")
    response = add(shopper, product, 1)
    assert response.status_code == 404
    assert "đình chỉ" not in response.content.decode()


def test_a_farmers_own_draft_is_a_409_naming_it(api_as, farm):
    """What the user may see but not order is the service's answer, and it is theirs to read."""
    draft = make_product(farm, status="draft", name="Măng cụt của tôi")
    client = api_as(farm.owner)
    body = {"product": draft.pk, "quantity": 1}
    response = client.post(ITEMS, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 409
    assert response.json()["code"] == "product_unavailable"
    assert "Măng cụt của tôi" in response.json()["detail"]


def test_more_than_the_stock_is_a_409_naming_what_is_left(shopper, farm):
    product = mangosteen(farm, stock="3")
    response = add(shopper, product, 5)
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Only 3 kg left — you asked for 5 kg.",
        "code": "insufficient_stock",
        "available": "3.000",
        "product": product.pk,
    }


def test_the_stock_message_writes_quantities_the_vietnamese_way_by_default(api_as, buyer, farm):
    response = api_as(buyer).post(ITEMS, {"product": mangosteen(farm, stock="3.5").pk, "quantity": 5})
    assert response.status_code == 409
    assert "3,5 kg" in response.json()["detail"]


def test_a_suspended_households_listing_is_a_409_and_shows_unavailable(shopper, farm, make_user):
    product = mangosteen(farm)
    line_id = add(shopper, product, 2).json()["lines"][0]["id"]
    farm_services.farm_suspend(farm=farm, by=make_user(Role.OFFICIAL), reason="Kiểm tra lại")

    response = add(shopper, product, 1)
    assert response.status_code == 409
    assert response.json()["code"] == "product_unavailable"
    assert response.json()["product"] == product.pk

    data = shopper.get(CART).json()
    [line] = data["lines"]
    assert (line["id"], line["available"], line["problem"]) == (line_id, False, "unavailable")
    assert data["subtotal"] == 0


# --- Prices shown and version -------------------------------------------------------------


def test_a_price_change_is_flagged_once_and_changes_the_version(shopper, farm):
    product = mangosteen(farm, price=48000)
    add(shopper, product, 2)
    before = shopper.get(CART).json()

    farm_services.product_update(product=product, price=45000)
    changed = shopper.get(CART).json()
    line = changed["lines"][0]
    assert (line["price_changed"], line["previous_price"], line["unit_price"]) == (True, 48000, 45000)
    assert changed["subtotal"] == 90000
    assert changed["version"] != before["version"]

    again = shopper.get(CART).json()
    assert again["lines"][0]["price_changed"] is False
    assert again["lines"][0]["previous_price"] is None
    assert again["version"] == changed["version"]


def test_changing_a_quantity_changes_the_version(shopper, farm):
    data = add(shopper, mangosteen(farm), 2).json()
    response = shopper.patch(item(data["lines"][0]["id"]), {"quantity": "3"}, format="json")
    assert response.status_code == 200
    assert response.json()["lines"][0]["quantity"] == "3.000"
    assert response.json()["version"] != data["version"]
    assert shopper.get(CART).json()["version"] == response.json()["version"]


def test_patch_checks_the_stock(shopper, farm):
    product = mangosteen(farm, stock="4")
    line_id = add(shopper, product, 2).json()["lines"][0]["id"]
    response = shopper.patch(item(line_id), {"quantity": 5}, format="json")
    assert response.status_code == 409
    assert response.json()["available"] == "4.000"
    assert CartLine.objects.get(pk=line_id).quantity == 2


def test_delete_answers_the_cart_without_the_line(shopper, farm, make_user):
    keep = add(shopper, mangosteen(farm, price=10000), 1).json()["lines"][0]["id"]
    data = add(shopper, mangosteen(make_farm(make_user, name="Hộ bà Năm"), price=20000), 1).json()
    gone = data["lines"][1]["id"]
    response = shopper.delete(item(gone))
    assert response.status_code == 200
    assert [line["id"] for line in response.json()["lines"]] == [keep]
    assert response.json()["subtotal"] == 10000
    assert [group["line_ids"] for group in response.json()["farms"]] == [[keep]]


# --- Ownership ------------------------------------------------------------------------------


def test_another_users_line_is_not_found(shopper, api_as, make_user, farm):
    other = api_as(make_user(Role.BUYER))
    line_id = add(other, mangosteen(farm), 2).json()["lines"][0]["id"]
    assert shopper.patch(item(line_id), {"quantity": 1}, format="json").status_code == 404
    response = shopper.delete(item(line_id))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert CartLine.objects.get(pk=line_id).quantity == 2
    assert shopper.get(CART).json()["lines"] == []


# --- Query count ----------------------------------------------------------------------------

# Token + cart + lines (with listing, household, on-sale check) + photos.
CART_QUERIES = 4


def fill(client, make_user, official, count: int, offset: int = 0):
    for index in range(offset, offset + count):
        farm = make_farm(make_user, official=official, name=f"Hộ số {index}")
        product = mangosteen(farm, name=f"Măng cụt {index}")
        image = farm_services.product_image_add(product=product, upload=jpeg_upload(size=(64, 48)))
        farm_services.product_image_process(image=image)
        assert add(client, product, 1).status_code == 201


def test_cart_queries_do_not_grow_with_its_lines(shopper, make_user, django_assert_num_queries):
    official = make_user(Role.OFFICIAL)
    fill(shopper, make_user, official, 1)
    with django_assert_num_queries(CART_QUERIES):
        response = shopper.get(CART)
    assert len(response.json()["lines"]) == 1
    fill(shopper, make_user, official, 9, offset=1)
    with django_assert_num_queries(CART_QUERIES):
        response = shopper.get(CART)
    assert len(response.json()["lines"]) == 10
    assert all(line["product"]["thumbnail"] for line in response.json()["lines"])
