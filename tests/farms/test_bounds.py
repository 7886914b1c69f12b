"""Listings keep within the market's bounds (`marketplace.limits`): service, API and pages.

A price, a stock, a minimum order or a unit weight out of range is a field error (400), typed
as an attacker would: past the bound by one, past the column, with exponents, NaN, Infinity.
A minimum order that no order could hold (too dear or too heavy as one line) is refused too.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from farms import services
from farms.models import Product
from marketplace import limits
from tests.farms.factories import make_farm, make_product
from tests.farms.test_pages import listing_form

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = [
    ({"price": limits.MAX_PRICE + 1}, "price"),
    ({"price": 2**63}, "price"),  # one past PostgreSQL's bigint
    ({"stock": str(limits.MAX_STOCK + Decimal("0.001"))}, "stock"),
    ({"stock": "99999999"}, "stock"),  # the stock
    ({"stock": "1e30"}, "stock"),
    ({"stock": "1e999999999"}, "stock"),  # past the decimal context: Overflow, not a 500
    ({"stock": "-1e999999999"}, "stock"),
    ({"stock": "1e-999999999"}, "stock"),
    ({"stock": "NaN"}, "stock"),
    ({"stock": "sNaN"}, "stock"),
    ({"stock": "-Infinity"}, "stock"),
    ({"min_order": str(limits.MAX_QUANTITY + 1)}, "min_order"),
    ({"unit": "trai", "unit_weight_kg": str(limits.MAX_UNIT_WEIGHT_KG + Decimal("0.001"))}, "unit_weight_kg"),
    # A minimum order heavier than an order may be: 1,001 tạ is 100,100 kg.
    ({"unit": "ta", "min_order": "1001", "stock": "2000"}, "min_order"),
    ({"unit": "hop", "unit_weight_kg": "1000", "min_order": "101", "stock": "200"}, "min_order"),
    # A minimum order dearer than a line may be: 11 × 999,999,999 đ.
    ({"price": limits.MAX_PRICE, "min_order": "11", "stock": "20"}, "min_order"),
]


@pytest.mark.parametrize(("fields", "field"), OUT_OF_RANGE)
def test_the_service_refuses_a_value_out_of_range_with_a_field_message(make_user, fields, field):
    farm = make_farm(make_user)
    with pytest.raises(ValidationError) as refused:
        make_product(farm, **fields)
    assert field in refused.value.message_dict
    assert not Product.objects.filter(farm=farm).exists()


@pytest.mark.parametrize(("fields", "field"), OUT_OF_RANGE)
def test_the_api_answers_400_for_a_value_out_of_range(make_user, api_as, fields, field):
    farm = make_farm(make_user)
    data = {"name": "Gạo ST25", "category": 101, "unit": "kg", "price": 32000, "stock": "100"}
    data.update(fields)
    response = api_as(farm.owner).post("/api/v1/products/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Product.objects.filter(farm=farm).exists()


def test_the_api_refuses_an_edit_out_of_range_and_keeps_the_listing(make_user, api_as):
    product = make_product(make_farm(make_user), unit="ta", price=2_000_000, stock="50")
    owner = api_as(product.farm.owner)
    for body, field in [
        ({"stock": "10000001"}, "stock"),
        ({"min_order": "1001"}, "min_order"),  # 100,100 kg of tạ
        ({"price": limits.MAX_PRICE, "min_order": "11"}, "min_order"),
        ({"price": 10**30}, "price"),
    ]:
        response = owner.patch(f"/api/v1/products/{product.pk}/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert field in response.json()
    product.refresh_from_db()
    assert (product.price, product.stock, product.min_order) == (2_000_000, Decimal("50"), Decimal("1"))


def test_the_bounds_themselves_are_accepted(make_user):
    farm = make_farm(make_user)
    dear = make_product(farm, price=limits.MAX_PRICE, stock=str(limits.MAX_STOCK), min_order="10")
    heavy = make_product(farm, unit="ta", price=100_000, stock="5000", min_order="1000")  # 100,000 kg
    box = make_product(farm, unit="hop", unit_weight_kg=str(limits.MAX_UNIT_WEIGHT_KG), min_order="10")
    assert (dear.price, dear.stock) == (limits.MAX_PRICE, limits.MAX_STOCK)
    assert heavy.min_order * 100 == limits.MAX_WEIGHT_KG
    assert box.unit_weight_kg == limits.MAX_UNIT_WEIGHT_KG


def test_an_edit_of_another_field_leaves_an_older_listing_alone(make_user):
    # A listing stored before the bounds (a minimum order of 2,000 tạ) can still be renamed.
    product = make_product(make_farm(make_user), unit="ta", stock="5000")
    Product.objects.filter(pk=product.pk).update(min_order=2000)
    product = services.product_update(product=product, name="Lúa IR 50404")
    assert product.name == "Lúa IR 50404"
    with pytest.raises(ValidationError) as refused:
        services.product_update(product=product, price=30_000)
    assert "min_order" in refused.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field", "shown"),
    [
        ({"price": "1.000.000.000"}, "price", "999.999.999 ₫"),
        ({"stock": "99999999"}, "stock", "10.000.000"),
        ({"stock": "1e999999999"}, "stock", "10.000.000"),
        ({"unit": "ta", "min_order": "1001", "stock": "2000"}, "min_order", "100.000 kg"),
    ],
)
def test_the_listing_page_shows_the_bound_and_stores_nothing(make_user, client, fields, field, shown):
    farm = make_farm(make_user)
    client.force_login(farm.owner)
    response = client.post("/farmer/listings/new/", listing_form(**fields), HTTP_ACCEPT_LANGUAGE="vi")
    assert response.status_code in (200, 400)
    assert field in response.context["form"].errors
    assert shown in response.content.decode()
    assert not Product.objects.filter(farm=farm).exists()


def test_the_quick_edit_refuses_a_stock_past_the_bound(make_user, client):
    product = make_product(make_farm(make_user), stock="120")
    client.force_login(product.farm.owner)
    for stock in ("10000000,5", "1e999999999", "99999999999999"):
        response = client.post(f"/farmer/listings/{product.pk}/quick/", {"price": "48.000", "stock": stock})
        assert response.status_code in (200, 400), stock
        product.refresh_from_db()
        assert product.stock == Decimal("120")
