"""Query counts of the farms API's lists: pinned, and the same for 2 rows as for 10."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from farms import services
from marketplace.accounts.models import Role

from .factories import jpeg_upload, make_certification, make_farm, make_product, ward

pytestmark = pytest.mark.django_db


def count_queries(client, url: str, rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.json()["results"]) == rows
    return len(queries.captured_queries)


def rich_listing(make_user, official, index: int):
    """A verified household with a badge, and an active listing with two photos and a lot."""
    farm = make_farm(make_user, official=official, ward=ward(0), name=f"Hộ số {index}")
    certificate = make_certification(farm, number=f"VG-{index}")
    services.certification_decide(certification=certificate, by=official, decision="approve")
    product = make_product(farm, status="active", name=f"Măng cụt {index}")
    for _ in range(2):
        services.product_image_add(product=product, upload=jpeg_upload(size=(64, 48)))
    lot = services.lot_create(farm=farm, product=product, harvest_date=timezone.localdate(), quantity="10")
    services.product_update(product=product, lot=lot.pk)
    return farm, product


@pytest.fixture
def official(make_user):
    return make_user(Role.OFFICIAL, wards=[ward(0)], city_wide=False)


# Anonymous: count + page + photos + badges.
CATALOGUE_QUERIES = 4


def test_catalogue_queries_do_not_grow(make_user, official, api, django_assert_num_queries):
    for index in range(2):
        rich_listing(make_user, official, index)
    with django_assert_num_queries(CATALOGUE_QUERIES):
        api.get("/api/v1/products/")
    two = count_queries(api, "/api/v1/products/", 2)
    for index in range(2, 10):
        rich_listing(make_user, official, index)
    ten = count_queries(api, "/api/v1/products/", 10)
    assert two == ten == CATALOGUE_QUERIES


# Token + count + page + photos + badges.
MY_PRODUCTS_QUERIES = 5


def test_my_products_queries_do_not_grow(make_user, official, api_as, django_assert_num_queries):
    farm = make_farm(make_user, official=official)
    certificate = make_certification(farm)
    services.certification_decide(certification=certificate, by=official, decision="approve")
    lot = None

    def add(index):
        nonlocal lot
        product = make_product(farm, name=f"Sản phẩm {index}", status="active" if index % 2 else "draft")
        services.product_image_add(product=product, upload=jpeg_upload(size=(64, 48)))
        lot = services.lot_create(farm=farm, product=product, harvest_date=timezone.localdate(), quantity=5)
        services.product_update(product=product, lot=lot.pk)

    for index in range(2):
        add(index)
    client = api_as(farm.owner)
    with django_assert_num_queries(MY_PRODUCTS_QUERIES):
        client.get("/api/v1/my/products/")
    two = count_queries(client, "/api/v1/my/products/", 2)
    for index in range(2, 10):
        add(index)
    ten = count_queries(client, "/api/v1/my/products/", 10)
    assert two == ten == MY_PRODUCTS_QUERIES


# Anonymous: count + page + badges.
FARMS_QUERIES = 3


def test_verified_households_queries_do_not_grow(make_user, official, api, django_assert_num_queries):
    for index in range(2):
        rich_listing(make_user, official, index)
    with django_assert_num_queries(FARMS_QUERIES):
        api.get("/api/v1/farms/")
    two = count_queries(api, "/api/v1/farms/", 2)
    for index in range(2, 10):
        rich_listing(make_user, official, index)
    ten = count_queries(api, "/api/v1/farms/", 10)
    assert two == ten == FARMS_QUERIES


# Token + count + page + badges + decisions (with who decided).
QUEUE_QUERIES = 5


def test_queue_queries_do_not_grow(make_user, official, api_as, django_assert_num_queries):
    def pending(index):
        farm = make_farm(make_user, verified=False, ward=ward(0), name=f"Hộ chờ {index}")
        # A history with several deciders: rejected once, then corrected and resubmitted.
        services.farm_decide(farm=farm, by=official, decision="reject", reason="Thiếu địa chỉ")
        services.farm_resubmit(farm=farm, by=farm.owner)
        make_certification(farm, number=f"VG-{index}")

    for index in range(2):
        pending(index)
    client = api_as(official)
    with django_assert_num_queries(QUEUE_QUERIES):
        client.get("/api/v1/farms/queue/")
    two = count_queries(client, "/api/v1/farms/queue/", 2)
    for index in range(2, 10):
        pending(index)
    ten = count_queries(client, "/api/v1/farms/queue/", 10)
    assert two == ten == QUEUE_QUERIES


# Token + count + page (household, ward and decider joined).
CERTIFICATIONS_QUERIES = 3


def test_certifications_queries_do_not_grow(make_user, official, api_as, django_assert_num_queries):
    def certificate(index):
        farm = make_farm(make_user, official=official, ward=ward(0), name=f"Hộ {index}")
        made = make_certification(farm, number=f"VG-{index}")
        if index % 2:
            services.certification_decide(certification=made, by=official, decision="approve")

    for index in range(2):
        certificate(index)
    client = api_as(official)
    with django_assert_num_queries(CERTIFICATIONS_QUERIES):
        client.get("/api/v1/certifications/")
    two = count_queries(client, "/api/v1/certifications/", 2)
    for index in range(2, 10):
        certificate(index)
    ten = count_queries(client, "/api/v1/certifications/", 10)
    assert two == ten == CERTIFICATIONS_QUERIES


# Token + count + page (listing joined).
LOTS_QUERIES = 3


def test_lots_queries_do_not_grow(make_user, official, api_as, django_assert_num_queries):
    farm = make_farm(make_user, official=official)
    products = [make_product(farm, name=f"Sản phẩm {index}") for index in range(3)]

    def lot(index):
        services.lot_create(
            farm=farm,
            product=products[index % 3],
            harvest_date=timezone.localdate() - timedelta(days=index),
            quantity="12.5",
        )

    for index in range(2):
        lot(index)
    client = api_as(farm.owner)
    with django_assert_num_queries(LOTS_QUERIES):
        client.get("/api/v1/lots/")
    two = count_queries(client, "/api/v1/lots/", 2)
    for index in range(2, 10):
        lot(index)
    ten = count_queries(client, "/api/v1/lots/", 10)
    assert two == ten == LOTS_QUERIES
