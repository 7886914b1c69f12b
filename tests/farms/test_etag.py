"""The catalogue API answers with an ETag and a 304 when nothing changed (slow 3G)."""

import pytest

from farms import services

from .factories import make_farm, make_product

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("detail", [False, True])
def test_etag_and_304_until_the_listing_changes(make_user, api, detail):
    product = make_product(make_farm(make_user), status="active")
    url = f"/api/v1/products/{product.pk}/" if detail else "/api/v1/products/?page_size=50"

    first = api.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag

    again = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    services.product_update(product=product, price=52000)
    changed = api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    body = changed.json()
    price = body["price"] if detail else body["results"][0]["price"]
    assert price == 52000
