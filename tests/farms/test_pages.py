"""Farm pages end to end: sign-up to a published listing, the citizen ID, scope, quick edit, query counts."""

import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from farms import services
from farms.models import Farm, FarmStatus, ImageStatus, Product, ProductStatus
from marketplace.accounts.models import Role
from tests.conftest import TEST_PASSWORD
from tests.signup import texted_code

from .factories import make_certification, make_farm, make_product, ward

pytestmark = pytest.mark.django_db

CCCD = "092085647359"  # Cần Thơ (092), born 1985; its last four digits are 7359
VIEWPORT = '<meta name="viewport" content="width=device-width'
STYLE_ATTR = re.compile(r"""\sstyle\s*=\s*("[^"]*"|'[^']*')""", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.IGNORECASE | re.DOTALL)
PIXEL_WIDTH = re.compile(r"width\s*:\s*(\d+(?:\.\d+)?)px", re.IGNORECASE)


def jpeg(color="green", name="photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), color).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def household_form(**overrides) -> dict:
    data = {
        "name": "Hộ ông Sáu Lộc",
        "representative_name": "Nguyễn Văn Lộc",
        "phone": "0912 345 678",
        "ward": ward(3).code,
        "address": "Ấp Nhơn Lộc 1",
        "area_m2": "5.000",
        "main_crops": "măng cụt, chôm chôm",
        "cooperative": "",
        "cccd": CCCD,
    }
    data.update(overrides)
    return data


def listing_form(**overrides) -> dict:
    data = {
        "name": "Măng cụt Phong Điền",
        "category": "203",
        "description": "Măng cụt chín cây, hái trong ngày.",
        "unit": "kg",
        "unit_weight_kg": "",
        "price": "48.000",
        "stock": "120",
        "min_order": "1",
        "harvest_date": "",
        "available_from": "",
        "available_until": "",
        "status": "draft",
    }
    data.update(overrides)
    return data


def assert_fits_a_phone(url: str, html: str) -> None:
    """The page declares the phone viewport, runs no script, and fixes no width over 360 px inline."""
    assert VIEWPORT in html, url
    assert "<script" not in html.lower(), url
    assert not re.search(r"\son[a-z]+\s*=", html, re.IGNORECASE), f"inline event handler on {url}"
    inline = STYLE_ATTR.findall(html) + STYLE_BLOCK.findall(html)
    widths = [float(width) for css in inline for width in PIXEL_WIDTH.findall(css)]
    assert all(width <= 360 for width in widths), (url, widths)


def test_sign_up_to_a_published_listing_with_two_photos_entirely_through_pages(
    client, make_user, django_capture_on_commit_callbacks, sms_outbox
):
    seen: list[tuple[str, str]] = []

    def page(browser, url):
        response = browser.get(url)
        assert response.status_code == 200, url
        seen.append((url, response.content.decode()))
        return response

    page(client, "/account/signup/")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/account/signup/",
            {
                "role": "farmer",
                "full_name": "Nguyễn Văn Lộc",
                "phone": "0912 345 678",
                "password": TEST_PASSWORD,
                "privacy_consent": "on",
            },
        )
    assert response["Location"] == "/account/signup/verify/"
    page(client, "/account/signup/verify/")
    code = texted_code(sms_outbox, "0912345678")
    response = client.post("/account/signup/verify/", {"code": code}, follow=True)
    assert response.redirect_chain[-1][0] == "/farmer/"
    seen.append(("/farmer/", response.content.decode()))
    assert 'href="/farmer/household/"' in response.content.decode()

    page(client, "/farmer/household/")
    response = client.post("/farmer/household/", household_form())
    assert response.status_code == 302
    assert response["Location"] == "/farmer/"
    farm = Farm.objects.get(owner__phone="+84912345678")
    assert (farm.status, farm.area_m2, farm.cccd_last4) == (FarmStatus.PENDING, 5000, "7359")

    official = make_user(Role.OFFICIAL)
    officer = Client()
    officer.force_login(official)
    queue = page(officer, "/official/households/")
    assert f'href="/official/households/{farm.pk}/"' in queue.content.decode()
    page(officer, f"/official/households/{farm.pk}/")
    response = officer.post(f"/official/households/{farm.pk}/approve/")
    assert response.status_code == 302
    farm.refresh_from_db()
    assert farm.status == FarmStatus.VERIFIED

    page(client, "/farmer/")
    page(client, "/farmer/listings/new/")
    response = client.post("/farmer/listings/new/", listing_form())
    product = Product.objects.get(farm=farm)
    assert response["Location"] == f"/farmer/listings/{product.pk}/photos/"
    assert (product.price, product.stock, product.status) == (48000, Decimal("120"), ProductStatus.DRAFT)

    photos_url = f"/farmer/listings/{product.pk}/photos/"
    page(client, photos_url)
    for color in ("green", "orange"):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(photos_url, {"image": jpeg(color)})
        assert response.status_code == 302, response.content.decode()[:500]
    photos = page(client, photos_url).content.decode()
    assert photos.count('<li class="photo">') == 2

    response = client.post(f"/farmer/listings/{product.pk}/status/", {"status": "active"})
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.status == ProductStatus.ACTIVE
    assert product.images.filter(status=ImageStatus.READY).count() == 2
    dashboard = page(client, "/farmer/").content.decode()
    assert "pill-active" in dashboard

    assert len(seen) >= 10
    for url, html in seen:
        assert_fits_a_phone(url, html)


def _assert_no_cccd(url: str, html: str) -> None:
    assert CCCD not in html, url
    for start in range(len(CCCD) - 7):
        assert CCCD[start : start + 8] not in html, (url, CCCD[start : start + 8])


def test_the_citizen_id_is_never_rendered_and_its_last_four_only_to_owner_and_official(
    client, make_user, django_capture_on_commit_callbacks
):
    farmer = make_user(Role.FARMER, phone="0912345678")
    client.force_login(farmer)
    # A refused registration must not write the typed number back into the form.
    refused = client.post("/farmer/household/", household_form(name=""))
    assert refused.status_code == 200
    assert refused.context["form"].errors["name"]
    _assert_no_cccd("refused registration", refused.content.decode())

    assert client.post("/farmer/household/", household_form()).status_code == 302
    farm = Farm.objects.get(owner=farmer)
    refused_edit = client.post("/farmer/household/", household_form(cccd=CCCD, address=""))
    assert refused_edit.status_code == 200
    _assert_no_cccd("refused edit", refused_edit.content.decode())

    official = make_user(Role.OFFICIAL)
    services.farm_decide(farm=farm, by=official, decision="approve")
    product = make_product(farm)
    lot = services.lot_create(farm=farm, product=product, harvest_date=product.created_at.date(), quantity=5)
    make_certification(farm)

    owner_pages = [
        "/farmer/",
        "/farmer/household/",
        f"/farmer/listings/{product.pk}/",
        f"/farmer/listings/{product.pk}/photos/",
        "/farmer/certifications/",
        "/farmer/lots/",
        f"/farmer/lots/{lot.pk}/label/",
    ]
    official_pages = [
        "/official/",
        "/official/households/?status=verified",
        f"/official/households/{farm.pk}/",
        "/official/certifications/",
    ]
    shown = {}
    for browser, urls in ((client, owner_pages), (Client(), official_pages)):
        if browser is not client:
            browser.force_login(official)
        for url in urls:
            response = browser.get(url)
            assert response.status_code == 200, url
            shown[url] = response.content.decode()
            _assert_no_cccd(url, shown[url])
    public = Client().get(f"/t/{lot.code}").content.decode()
    _assert_no_cccd("trace page", public)

    assert "•••• •••• 7359" in shown["/farmer/household/"]
    assert "•••• •••• 7359" in shown[f"/official/households/{farm.pk}/"]
    assert "7359" not in public

    # Saving the form without a new number keeps the one on file.
    assert client.post("/farmer/household/", household_form(cccd="", area_m2="6000")).status_code == 302
    farm.refresh_from_db()
    assert (farm.cccd_last4, farm.area_m2) == ("7359", 6000)


def test_officials_see_only_their_wards_and_other_roles_are_turned_away(client, make_user):
    farm = make_farm(make_user, verified=False, ward_index=0)
    certification = make_certification(farm)
    outside = make_user(Role.OFFICIAL, city_wide=False, wards=[ward(1).code])
    inside = make_user(Role.OFFICIAL, city_wide=False, wards=[ward(0).code])

    client.force_login(outside)
    assert client.get(f"/official/households/{farm.pk}/").status_code == 404
    assert client.post(f"/official/households/{farm.pk}/approve/").status_code == 404
    assert client.get(f"/official/certifications/{certification.pk}/document/").status_code == 404
    assert client.post(f"/official/certifications/{certification.pk}/approve/").status_code == 404
    assert f"/official/households/{farm.pk}/" not in client.get("/official/households/").content.decode()
    assert farm.name not in client.get("/official/certifications/").content.decode()
    farm.refresh_from_db()
    certification.refresh_from_db()
    assert (farm.status, certification.status) == (FarmStatus.PENDING, "pending")

    client.force_login(inside)
    assert client.get(f"/official/households/{farm.pk}/").status_code == 200
    assert f"/official/households/{farm.pk}/" in client.get("/official/households/").content.decode()

    official_urls = [
        "/official/households/",
        f"/official/households/{farm.pk}/",
        "/official/certifications/",
    ]
    farmer_urls = ["/farmer/", "/farmer/household/", "/farmer/listings/new/", "/farmer/lots/"]
    client.force_login(make_user(Role.BUYER))
    for url in official_urls + farmer_urls:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/official/households/{farm.pk}/approve/").status_code == 403

    client.force_login(make_user(Role.FARMER))  # another farmer: official pages are closed
    for url in official_urls:
        assert client.get(url).status_code == 403, url

    client.logout()
    for url in official_urls + farmer_urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/account/login/?next="), url
    farm.refresh_from_db()
    assert farm.status == FarmStatus.PENDING


def test_a_farmer_cannot_open_or_change_another_households_things(client, make_user):
    farm = make_farm(make_user)
    product = make_product(farm, status="active")
    lot = services.lot_create(farm=farm, product=product, harvest_date=product.created_at.date(), quantity=1)
    certification = make_certification(farm)
    client.force_login(make_user(Role.FARMER))
    for url in (
        f"/farmer/listings/{product.pk}/",
        f"/farmer/listings/{product.pk}/photos/",
        f"/farmer/lots/{lot.pk}/",
        f"/farmer/lots/{lot.pk}/label/",
        f"/farmer/certifications/{certification.pk}/document/",
    ):
        assert client.get(url).status_code == 404, url
    for url, data in (
        (f"/farmer/listings/{product.pk}/quick/", {"price": "1000", "stock": "1"}),
        (f"/farmer/listings/{product.pk}/status/", {"status": "paused"}),
        (f"/farmer/listings/{product.pk}/archive/", {}),
        (f"/farmer/certifications/{certification.pk}/delete/", {}),
    ):
        assert client.post(url, data).status_code == 404, url
    product.refresh_from_db()
    assert (product.price, product.status) == (48000, ProductStatus.ACTIVE)
    assert farm.certifications.count() == 1


def test_quick_edit_changes_price_and_stock_and_refuses_a_negative_price_in_vietnamese(client, make_user):
    farm = make_farm(make_user)
    product = make_product(farm, price=48000, stock="120")
    client.force_login(farm.owner)
    dashboard = client.get("/farmer/").content.decode()
    assert f'action="/farmer/listings/{product.pk}/quick/"' in dashboard
    assert 'inputmode="numeric"' in dashboard and 'inputmode="decimal"' in dashboard

    response = client.post(f"/farmer/listings/{product.pk}/quick/", {"price": "52.000", "stock": "80,5"})
    assert response.status_code == 302
    assert response["Location"] == f"/farmer/#p{product.pk}"
    product.refresh_from_db()
    assert (product.price, product.stock) == (52000, Decimal("80.5"))

    response = client.post(f"/farmer/listings/{product.pk}/quick/", {"price": "-5000", "stock": "10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Giá phải là số đồng nguyên, lớn hơn 0." in html
    assert 'value="-5000"' in html  # the farmer sees what they typed, next to the message
    product.refresh_from_db()
    assert (product.price, product.stock) == (52000, Decimal("80.5"))


def _listing_with_photo(farm, name, django_capture_on_commit_callbacks):
    product = make_product(farm, name=name)
    with django_capture_on_commit_callbacks(execute=True):
        services.product_image_add(product=product, upload=jpeg())
    return product


def test_dashboard_query_count_does_not_grow_with_listings(
    client, make_user, django_capture_on_commit_callbacks
):
    farm = make_farm(make_user)
    make_certification(farm)
    client.force_login(farm.owner)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/farmer/")
        assert response.status_code == 200
        return len(queries)

    for index in range(2):
        _listing_with_photo(farm, f"Sầu riêng Ri6 #{index}", django_capture_on_commit_callbacks)
    with_two = count_queries()
    for index in range(2, 8):
        _listing_with_photo(farm, f"Sầu riêng Ri6 #{index}", django_capture_on_commit_callbacks)
    assert client.get("/farmer/").content.decode().count('class="listing"') == 8
    assert count_queries() == with_two == 11  # the header counts the cart (storefront)


def test_official_queue_query_count_does_not_grow_with_households(client, make_user):
    official = make_user(Role.OFFICIAL)
    client.force_login(official)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/official/households/")
        assert response.status_code == 200
        return len(queries)

    for index in range(2):
        make_farm(make_user, verified=False, ward_index=index, name=f"Hộ số {index}")
    with_two = count_queries()
    for index in range(2, 8):
        make_farm(make_user, verified=False, ward_index=index, name=f"Hộ số {index}")
    assert client.get("/official/households/").content.decode().count("/official/households/") >= 8
    assert count_queries() == with_two == 6  # an official has no cart: the header counts none


def test_certificate_and_lot_lists_query_counts_do_not_grow_with_rows(client, make_user):
    farm = make_farm(make_user)
    product = make_product(farm)
    officer = Client()
    officer.force_login(make_user(Role.OFFICIAL))
    client.force_login(farm.owner)
    pages = (
        (officer, "/official/certifications/"),
        (client, "/farmer/certifications/"),
        (client, "/farmer/lots/"),
    )

    def add_rows(count):
        for _ in range(count):
            make_certification(farm)
            services.lot_create(
                farm=farm, product=product, harvest_date=product.created_at.date(), quantity=2
            )

    def counts():
        result = []
        for browser, url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert browser.get(url).status_code == 200
            result.append(len(queries))
        return result

    add_rows(2)
    with_two = counts()
    add_rows(4)
    assert "VG-092-0001" in officer.get("/official/certifications/").content.decode()
    assert counts() == with_two
