"""Public trace pages: what a buyer sees after scanning a lot's QR code, and the QR images."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from farms import services
from farms.qr import qr_png, qr_svg
from marketplace.accounts.models import Role

from .factories import make_certification, make_farm, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def lot(make_user):
    """A lot harvested 100 days ago by a household with three certificates, one valid that day."""
    official = make_user(Role.OFFICIAL)
    farm = make_farm(
        make_user,
        official=official,
        name="Hộ bà Năm Hạ Châu",
        representative_name="Trần Thị Năm",
        phone="0987 654 321",
        address="Ấp Trường Thuận A",
    )
    product = make_product(farm, name="Dâu Hạ Châu", category=210, unit="kg", price=60000, stock="40")
    harvested = timezone.localdate() - timedelta(days=100)
    valid = make_certification(farm, kind="vietgap", number="VG-DUNG-001", issued_days_ago=300)
    later = make_certification(farm, kind="globalgap", number="GG-SAU-002", issued_days_ago=50)
    refused = make_certification(farm, kind="organic", number="HC-TUCHOI-003", issued_days_ago=300)
    services.certification_decide(certification=valid, by=official, decision="approve")
    services.certification_decide(certification=later, by=official, decision="approve")
    services.certification_decide(certification=refused, by=official, decision="reject", reason="Ảnh mờ")
    return services.lot_create(
        farm=farm,
        product=product,
        harvest_date=harvested,
        quantity="12.5",
        practices="Không phun thuốc 30 ngày trước thu hoạch",
    )


def test_trace_page_shows_origin_and_only_certificates_valid_on_the_harvest_date(client, lot):
    response = client.get(f"/t/{lot.code}")
    assert response.status_code == 200
    html = response.content.decode()
    farm = lot.farm
    for shown in (
        "Dâu Hạ Châu",
        lot.product.category.label,
        "Hộ bà Năm Hạ Châu",
        farm.ward.full_name,
        lot.harvest_date.strftime("%d/%m/%Y"),
        "12,5",
        "Không phun thuốc 30 ngày trước thu hoạch",
        "VG-DUNG-001",
    ):
        assert shown in html, shown
    assert "GG-SAU-002" not in html  # issued after the harvest
    assert "HC-TUCHOI-003" not in html  # rejected
    for private in ("Trần Thị Năm", "Ấp Trường Thuận A", "0987", "654 321", "+8498", farm.cccd_last4):
        assert private not in html, private


def test_trace_page_opens_for_a_lower_case_code(client, lot):
    response = client.get(f"/t/{lot.code.lower()}")
    assert response.status_code == 301
    assert response["Location"] == f"/t/{lot.code}"
    assert client.get(f"/t/{lot.code.lower()}", follow=True).status_code == 200


def test_unknown_code_is_a_404_page(client, db):
    for url in ("/t/ZZZZ2345", "/t/ZZZZ2345/qr.png", "/t/ZZZZ2345/qr.svg"):
        assert client.get(url).status_code == 404, url
    assert "<html" in client.get("/t/ZZZZ2345").content.decode()


def test_qr_png_is_a_png_of_the_absolute_trace_url(client, lot):
    response = client.get(f"/t/{lot.code}/qr.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=86400"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.width == image.height >= 200
    assert response.content == qr_png(f"http://testserver/t/{lot.code}")
    assert response.content != qr_png(f"/t/{lot.code}")


def test_qr_svg_is_an_svg_of_the_absolute_trace_url(client, lot):
    response = client.get(f"/t/{lot.code}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"] == "public, max-age=86400"
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.find("{http://www.w3.org/2000/svg}path") is not None
    assert response.content == qr_svg(f"http://testserver/t/{lot.code}")


def test_qr_of_a_lower_case_code_redirects_to_the_upper_case_one(client, lot):
    response = client.get(f"/t/{lot.code.lower()}/qr.svg")
    assert response.status_code == 301
    assert response["Location"] == f"/t/{lot.code}/qr.svg"
    assert client.get(f"/t/{lot.code}/qr.gif").status_code == 404


def test_label_page_prints_code_household_and_qr(client, lot):
    client.force_login(lot.farm.owner)
    response = client.get(f"/farmer/lots/{lot.pk}/label/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(rf'class="label-code"[^>]*>{lot.code}</p>', html)
    assert f'src="/t/{lot.code}/qr.svg"' in html
    assert f"http://testserver/t/{lot.code}" in html
    assert "Dâu Hạ Châu" in html and "Hộ bà Năm Hạ Châu" in html
    assert lot.harvest_date.strftime("%d/%m/%Y") in html
