"""The listing page: photos, price per unit, stock, harvest window, household, badges, trace link."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from farms import services
from farms.models import Certification
from marketplace.accounts.models import Role
from tests.farms.factories import make_certification, make_farm

from .helpers import add_photo, badges, certify, input_tag, listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def official(make_user):
    return make_user(Role.OFFICIAL)


@pytest.fixture
def farm(make_user, official):
    return make_farm(make_user, official=official)


def test_product_page_shows_what_a_buyer_needs(client, farm):
    today = timezone.localdate()
    product = listing(
        farm,
        name="Măng cụt Phong Điền",
        category=203,
        price=48000,
        stock="120",
        min_order="2",
        harvest_date=today - timedelta(days=2),
        available_until=today + timedelta(days=20),
        description="Chín cây, hái trong ngày.",
    )
    page = client.get(f"/san-pham/{product.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Măng cụt Phong Điền</h1>" in text
    assert "48.000 ₫/kg" in text
    assert "120 kg" in text and "2 kg" in text
    assert (today - timedelta(days=2)).strftime("%d/%m/%Y") in text
    assert (today + timedelta(days=20)).strftime("%d/%m/%Y") in text
    assert f'href="/nong-ho/{farm.pk}/"' in text
    assert f"{farm.ward.full_name}, Cần Thơ" in text
    assert 'href="/danh-muc/mang-cut/"' in text
    assert "Chín cây, hái trong ngày." in text
    assert "Đặt trước" not in text  # harvested already: not a pre-order


def test_a_harvest_to_come_is_a_pre_order(client, farm):
    product = listing(farm, harvest_date=timezone.localdate() + timedelta(days=10))
    text = client.get(f"/san-pham/{product.pk}/").content.decode()
    assert "Đặt trước" in text
    assert "(sắp thu hoạch)" in text


def test_the_badge_of_a_verified_certificate_shows_and_not_pending_or_expired(client, farm, official):
    certify(farm, official, kind="vietgap")
    make_certification(farm, kind="globalgap", number="GG-1")  # still pending
    organic = certify(farm, official, kind="organic", number="HC-1", days_left=10)
    yesterday = timezone.localdate() - timedelta(days=1)
    Certification.objects.filter(pk=organic.pk).update(expires_on=yesterday)
    services.certifications_expire()  # the daily task marks it expired
    assert Certification.objects.get(pk=organic.pk).status == "expired"

    product = listing(farm)
    page = client.get(f"/san-pham/{product.pk}/")
    assert badges(page) == ["VietGAP"]
    text = page.content.decode()
    assert "GlobalGAP" not in text
    assert "Hữu cơ" not in text


def test_the_trace_link_shows_when_the_listing_has_a_lot(client, farm):
    product = listing(farm)
    assert "/t/" not in client.get(f"/san-pham/{product.pk}/").content.decode()
    lot = services.lot_create(farm=farm, product=product, harvest_date=timezone.localdate(), quantity="50")
    services.product_update(product=product, lot=lot)
    text = client.get(f"/san-pham/{product.pk}/").content.decode()
    assert f'href="/t/{lot.code}"' in text
    assert client.get(f"/t/{lot.code}").status_code == 200


def test_product_page_shows_every_photo_in_display_size(client, farm, django_capture_on_commit_callbacks):
    product = listing(farm)
    add_photo(product, django_capture_on_commit_callbacks, color="green")
    add_photo(product, django_capture_on_commit_callbacks, color="red")
    text = client.get(f"/san-pham/{product.pk}/").content.decode()
    shown = re.findall(r'<img src="([^"]+)"', text)
    assert len(shown) == 2
    assert all("-display" in url for url in shown)
    # Lists use the small size of the cover.
    listed = client.get("/tim-kiem/?q=sau+rieng").content.decode()
    assert re.search(r'class="card-photo" src="[^"]+-thumb', listed)
    assert "-display" not in listed


def test_photos_still_processing_show_a_placeholder(client, farm, django_capture_on_commit_callbacks):
    product = listing(farm)
    add_photo(product, django_capture_on_commit_callbacks, process=False)
    assert "Ảnh đang được xử lý." in client.get(f"/san-pham/{product.pk}/").content.decode()
    listed = client.get("/tim-kiem/").content.decode()
    assert '<span class="card-photo placeholder">Đang xử lý</span>' in listed


@pytest.mark.parametrize(
    ("fields", "attrs"),
    [
        ({"unit": "kg", "min_order": "0.5"}, {"inputmode": "decimal", "min": "0.5", "step": "0.1"}),
        ({"unit": "yen", "min_order": "1"}, {"inputmode": "decimal", "min": "1", "step": "0.1"}),
        ({"unit": "kg", "min_order": "0.25"}, {"inputmode": "decimal", "min": "0.25", "step": "0.001"}),
        (
            {
                "unit": "trai",
                "unit_weight_kg": "1.5",
                "min_order": "2",
                "name": "Bưởi da xanh",
                "category": 202,
            },
            {"inputmode": "numeric", "min": "2", "step": "1"},
        ),
    ],
)
def test_quantity_input_fits_the_unit(client, farm, fields, attrs):
    product = listing(farm, **fields)
    tag = input_tag(client.get(f"/san-pham/{product.pk}/").content.decode(), "quantity", None)
    for name, value in attrs.items():
        assert f'{name}="{value}"' in tag


@pytest.mark.parametrize("status", ["draft", "paused", "archived"])
def test_a_listing_not_on_sale_is_a_404(client, farm, status):
    product = listing(farm)
    if status == "archived":
        services.product_archive(product=product)
    else:
        services.product_update(product=product, status=status)
    assert client.get(f"/san-pham/{product.pk}/").status_code == 404


def test_a_listing_of_a_household_not_verified_is_a_404(client, make_user):
    pending = make_farm(make_user, verified=False)
    product = listing(pending, status="draft")
    assert client.get(f"/san-pham/{product.pk}/").status_code == 404
    assert client.get("/san-pham/999999/").status_code == 404


def test_product_page_queries_do_not_grow_with_photos(
    client, farm, django_assert_num_queries, django_capture_on_commit_callbacks
):
    product = listing(farm)
    add_photo(product, django_capture_on_commit_callbacks)
    # The listing with household, ward, category and lot; its photos; the household's badges.
    with django_assert_num_queries(3):
        client.get(f"/san-pham/{product.pk}/")
    for _number in range(3):
        add_photo(product, django_capture_on_commit_callbacks)
    with django_assert_num_queries(3):
        client.get(f"/san-pham/{product.pk}/")
