"""Staff pages for farms data load, and edits there keep the search columns true."""

import pytest

from farms import services
from marketplace.accounts.models import Role

from .factories import make_certification, make_farm, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    staff = make_user(Role.STAFF)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    return client


def test_change_pages_load_including_a_private_certificate(staff_client, make_user):
    farm = make_farm(make_user)
    product = make_product(farm)
    cert = make_certification(farm)
    lot = services.lot_create(
        farm=farm, product=product, harvest_date=product.created_at.date(), quantity="5"
    )
    for url in (
        f"/admin/farms/farm/{farm.pk}/change/",
        f"/admin/farms/product/{product.pk}/change/",
        f"/admin/farms/certification/{cert.pk}/change/",
        f"/admin/farms/harvestlot/{lot.pk}/change/",
        "/admin/farms/farm/",
        "/admin/farms/product/",
        "/admin/farms/certification/",
    ):
        response = staff_client.get(url)
        assert response.status_code == 200, url
    page = staff_client.get(f"/admin/farms/certification/{cert.pk}/change/").content.decode()
    assert cert.document.name in page
