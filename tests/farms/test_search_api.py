"""The catalogue's search, filters and sorting in the API: GET products/ and farms/{id}/products/."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from farms import services
from farms.models import Farm, FarmStatus, Product, ProductImage
from farms.search import refresh_search_columns
from marketplace.accounts.models import Role
from tests.storefront.helpers import card_ids

from .factories import make_certification, make_farm, make_product
from .test_search import DURIAN, PANGASIUS, make_named_market

pytestmark = pytest.mark.django_db

LIST = "/api/v1/products/"


def farm_products(farm) -> str:
    return f"/api/v1/farms/{farm.pk}/products/"


@pytest.fixture
def official(make_user):
    return make_user(Role.OFFICIAL)


@pytest.fixture
def shop(make_user, official):
    """Two households: Phong Điền (VietGAP) and Cái Răng (OCOP 4 stars)."""
    phong_dien = make_farm(make_user, official=official, name="Vườn Út Hiền", ward="31315")
    cai_rang = make_farm(make_user, official=official, name="Hộ chị Thảo", ward="31186")
    for farm, fields in ((phong_dien, {"kind": "vietgap"}), (cai_rang, {"kind": "ocop", "ocop_stars": 4})):
        made = make_certification(farm, **fields)
        services.certification_decide(certification=made, by=official, decision="approve")
    today = timezone.localdate()
    products = {
        "Măng cụt": make_product(phong_dien, name="Măng cụt", category=203, price=48000, status="active"),
        "Sầu riêng Ri6": make_product(
            phong_dien, name="Sầu riêng Ri6", category=201, price=80000, status="active"
        ),
        "Dưa lưới": make_product(
            cai_rang,
            name="Dưa lưới",
            category=207,
            price=35000,
            status="active",
            harvest_date=today + timedelta(days=7),
        ),
        "Dừa xiêm": make_product(
            cai_rang,
            name="Dừa xiêm",
            category=206,
            unit="trai",
            unit_weight_kg="1.5",
            price=15000,
            status="active",
        ),
    }
    return {"phong_dien": phong_dien, "cai_rang": cai_rang, "products": products}


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Dừa xiêm", "Dưa lưới", "Sầu riêng Ri6", "Măng cụt"]),
        ("?q=dừa", ["Dừa xiêm", "Dưa lưới"]),
        ("?q=dưa", ["Dưa lưới", "Dừa xiêm"]),
        ("?q=SAU+RIENG", ["Sầu riêng Ri6"]),
        ("?q=phong+dien", ["Sầu riêng Ri6", "Măng cụt"]),
        ("?q=dua&ordering=price", ["Dừa xiêm", "Dưa lưới"]),
        ("?q=dua&ordering=-price", ["Dưa lưới", "Dừa xiêm"]),
        ("?ordering=price", ["Dừa xiêm", "Dưa lưới", "Măng cụt", "Sầu riêng Ri6"]),
        ("?ordering=newest", ["Dừa xiêm", "Dưa lưới", "Sầu riêng Ri6", "Măng cụt"]),
        ("?category=2&ordering=-price", ["Sầu riêng Ri6", "Măng cụt", "Dưa lưới", "Dừa xiêm"]),
        ("?category=203", ["Măng cụt"]),
        ("?ward=31186", ["Dừa xiêm", "Dưa lưới"]),
        ("?ward=C%C3%A1i+R%C4%83ng", ["Dừa xiêm", "Dưa lưới"]),
        ("?ward=huyen+phong+dien&ward=31186", ["Dừa xiêm", "Dưa lưới", "Sầu riêng Ri6", "Măng cụt"]),
        ("?ward=Atlantis", []),
        ("?certification=vietgap", ["Sầu riêng Ri6", "Măng cụt"]),
        ("?certification=ocop4", ["Dừa xiêm", "Dưa lưới"]),
        ("?certification=ocop5", []),
        ("?certification=ocop5&certification=VietGAP", ["Sầu riêng Ri6", "Măng cụt"]),
        ("?min_price=30000&max_price=50.000", ["Dưa lưới", "Măng cụt"]),
        ("?available=preorder", ["Dưa lưới"]),
        ("?available=now&max_price=40000", ["Dừa xiêm"]),
        ("?in_stock=true&q=mang+cut", ["Măng cụt"]),
        ("?q=mang+cut&ward=31186", []),
        ("?q=!!!", []),
    ],
)
def test_catalogue_parameters(shop, api, query, expected):
    assert names(api.get(LIST + query)) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("min_price=abc", "min_price"),
        ("max_price=1.5", "max_price"),
        ("min_price=90000&max_price=10000", "max_price"),
        ("ordering=cheapest", "ordering"),
        ("certification=iso9001", "certification"),
        ("available=tomorrow", "available"),
        ("in_stock=perhaps", "in_stock"),
        ("category=fruit", "category"),
        ("q=" + "x" * 101, "q"),
    ],
)
def test_bad_parameters_answer_400_with_the_field(shop, api, query, field):
    for url in (LIST, farm_products(shop["phong_dien"])):
        response = api.get(f"{url}?{query}")
        assert response.status_code == 400
        body = response.json()
        assert list(body) == [field]
        assert isinstance(body[field], list) and body[field][0]


def test_400_messages_name_the_accepted_values(shop, api):
    body = api.get(LIST + "?ordering=cheapest&certification=iso", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["ordering"] == ["“cheapest” is not one of: relevance, price, -price, newest."]
    assert "vietgap" in body["certification"][0] and "ocop4" in body["certification"][0]


def test_a_households_listings(shop, api):
    phong_dien, cai_rang = shop["phong_dien"], shop["cai_rang"]
    assert names(api.get(farm_products(phong_dien))) == ["Sầu riêng Ri6", "Măng cụt"]
    assert names(api.get(farm_products(cai_rang) + "?q=dưa")) == ["Dưa lưới", "Dừa xiêm"]
    assert names(api.get(farm_products(cai_rang) + "?q=mang+cut")) == []
    assert names(api.get(farm_products(phong_dien) + "?ordering=price")) == ["Măng cụt", "Sầu riêng Ri6"]
    services.product_update(product=shop["products"]["Măng cụt"], status="paused")
    assert names(api.get(farm_products(phong_dien))) == ["Sầu riêng Ri6"]


def test_a_households_listings_are_404_unless_it_sells(shop, make_user, api, api_as):
    pending = make_farm(make_user, verified=False, name="Hộ chờ duyệt")
    make_product(pending, name="Măng cụt")
    unknown = Farm(pk=999999)
    for farm in (pending, unknown):
        response = api.get(farm_products(farm))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert api_as(pending.owner).get(farm_products(pending)).status_code == 404
    Farm.objects.filter(pk=shop["cai_rang"].pk).update(status=FarmStatus.SUSPENDED)
    assert api.get(farm_products(shop["cai_rang"])).status_code == 404


def test_suspension_removes_listings_from_search_at_once(shop, api, api_as, official):
    assert names(api.get(LIST + "?q=dua")) == ["Dừa xiêm", "Dưa lưới"]
    response = api_as(official).post(
        f"/api/v1/farms/{shop['cai_rang'].pk}/suspend/", {"reason": "Kiểm tra"}, format="json"
    )
    assert response.status_code == 200
    assert names(api.get(LIST + "?q=dua")) == []
    assert names(api.get(LIST + "?certification=ocop4")) == []
    assert names(api.get(LIST)) == ["Sầu riêng Ri6", "Măng cụt"]


# --- The produce before the household (issue #22) -----------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sau rieng", DURIAN),  # not the sugarcane of "Vườn sầu riêng Ba Lành"
        ("sầu riêng", DURIAN),
        ("ca tra", PANGASIUS),  # not the shrimp and snakehead of "Trại cá tra Út Hiền"
        ("ba lanh", ["Mía tím", "Bánh pía sầu riêng"]),  # nothing better: the household's
        ("phong dien", ["Mía tím", "Bánh pía sầu riêng", "Bánh tét lá cẩm"]),  # its name last
    ],
)
def test_the_api_and_the_search_page_rank_the_produce_first(make_user, api, client, query, expected):
    market = make_named_market(make_user)
    assert names(api.get(LIST, {"q": query})) == expected
    page = client.get("/tim-kiem/", {"q": query})
    assert page.status_code == 200
    assert card_ids(page) == [market.products[name].pk for name in expected]


def test_a_households_listings_rank_the_same(make_user, api):
    market = make_named_market(make_user)
    ba_lanh = farm_products(market.farms["ba_lanh"])
    assert names(api.get(ba_lanh, {"q": "sau rieng"})) == ["Bánh pía sầu riêng"]
    assert names(api.get(ba_lanh, {"q": "sau rieng", "category": 299})) == ["Mía tím"]
    ut_hien = farm_products(market.farms["ut_hien"])
    assert names(api.get(ut_hien, {"q": "ca tra"})) == ["Cá lóc đồng", "Tôm càng xanh"]
    assert names(api.get(ut_hien, {"q": "ca"})) == ["Cá lóc đồng"]


# --- Query counts -------------------------------------------------------------------------------

MAX_LIST_QUERIES = 6


@pytest.fixture
def many_listings(shop):
    """110 more listings with two photos each, copied in bulk from the shop's, then indexed."""
    templates = list(Product.objects.filter(pk__in=[p.pk for p in shop["products"].values()]))
    fields = [f.attname for f in Product._meta.concrete_fields if not f.primary_key]
    copies = []
    for index in range(110):
        template = templates[index % len(templates)]
        copy = Product(**{name: getattr(template, name) for name in fields})
        copy.name = f"{template.name} #{index}"
        copies.append(copy)
    ids = [product.pk for product in Product.objects.bulk_create(copies)]
    ProductImage.objects.bulk_create(
        ProductImage(product_id=pk, position=position, original=f"products/p{pk}-{position}.jpg")
        for pk in ids
        for position in range(2)
    )
    refresh_search_columns(Product.objects.all())  # what the data migration runs
    return shop


def count_queries(client, url: str, page_size: int) -> int:
    """Return the queries of one page, checking that the page is full."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{url}&page_size={page_size}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["results"]) == min(page_size, body["count"])
    assert body["count"] > 50
    return len(queries.captured_queries)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=dua",
        "q=phong+dien&ward=nhon+ai&certification=vietgap&category=2&min_price=1000&in_stock=1&available=now",
        "ordering=-price&certification=ocop4&ward=31186",
    ],
)
def test_catalogue_query_count_does_not_grow_with_page_size(many_listings, api, query):
    assert api.get(f"{LIST}?{query}").json()["count"] >= 50
    one = count_queries(api, f"{LIST}?{query}", 1)
    hundred = count_queries(api, f"{LIST}?{query}", 100)
    assert one == hundred <= MAX_LIST_QUERIES


def test_the_whole_catalogue_fills_a_page_of_100(many_listings, api, django_assert_num_queries):
    assert len(api.get(f"{LIST}?page_size=100").json()["results"]) == 100
    with django_assert_num_queries(4):  # count + page + photos + badges
        api.get(f"{LIST}?page_size=100")


def test_households_listings_query_count_does_not_grow(many_listings, api):
    url = farm_products(many_listings["cai_rang"]) + "?q=dua"
    one = count_queries(api, url, 1)
    hundred = count_queries(api, url, 100)
    assert one == hundred <= MAX_LIST_QUERIES
