"""Storefront lists: home, category, search and household pages; query counts; suspension."""

import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext

from farms import services
from farms.models import Product
from marketplace.accounts.models import Role
from marketplace.geo.models import Ward
from tests.farms.factories import make_farm

from .helpers import add_photo, card_ids, certify, input_tag, listing, next_page_query

pytestmark = pytest.mark.django_db

PHONG_DIEN = "31299"  # Xã Phong Điền: the former district "Phong Điền" fed it
CAI_KHE = "31120"  # Phường Cái Khế, in the city centre


@pytest.fixture
def official(make_user):
    return make_user(Role.OFFICIAL)


@pytest.fixture
def farm(make_user, official):
    """A verified household in Phong Điền with a valid VietGAP certificate."""
    household = make_farm(make_user, official=official, ward=Ward.objects.get(code=PHONG_DIEN))
    certify(household, official)
    return household


@pytest.fixture
def town_farm(make_user, official):
    return make_farm(make_user, official=official, name="Hộ bà Năm", ward=Ward.objects.get(code=CAI_KHE))


# --- Query counts -------------------------------------------------------------------------

SEARCH = "/tim-kiem/?" + urlencode(
    {"q": "sau rieng", "category": 2, "certification": "vietgap", "in_stock": 1, "ordering": "price"}
)
# With words to find, PostgreSQL first asks whether anything matches exactly (one indexed query)
# before it would fall back to close spellings; SQLite has no typo fallback.
SEARCH_QUERIES = 5 + (connection.vendor == "postgresql")
PAGES = {
    # page: (url, queries for a first-time anonymous visitor, cards shown once there are 100 listings)
    # Home: three id lists, the listings of all three with photos and badges, the categories.
    "home": (lambda farm: "/", 7, 24),
    # Category page: categories, count, page of listings, photos, badges.
    "category": (lambda farm: "/danh-muc/trai-cay/", 5, 24),
    "search": (lambda farm: SEARCH, SEARCH_QUERIES, 24),
    # Household page: household, its badges, count, page of listings, photos, badges.
    "household": (lambda farm: f"/nong-ho/{farm.pk}/", 6, 24),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_catalogue_pages_run_the_same_queries_for_1_and_100_listings(
    client, farm, name, django_assert_num_queries, django_capture_on_commit_callbacks
):
    url, queries, full = PAGES[name]
    first = listing(farm)
    add_photo(first, django_capture_on_commit_callbacks)
    with django_assert_num_queries(queries):
        response = client.get(url(farm))
    assert response.status_code == 200
    assert card_ids(response).count(first.pk) >= 1

    for number in range(99):
        listing(farm, name=f"Sầu riêng Ri6 vườn {number}", price=60000 + number * 100)
    add_photo(Product.objects.order_by("-pk").first(), django_capture_on_commit_callbacks)
    with django_assert_num_queries(queries):
        response = client.get(url(farm))
    assert response.status_code == 200
    assert len(card_ids(response)) == full


def test_search_page_stays_within_six_queries_for_an_anonymous_visitor(
    client, farm, django_assert_num_queries
):
    for number in range(30):
        listing(farm, name=f"Sầu riêng Ri6 vườn {number}")
    with django_assert_num_queries(SEARCH_QUERIES):
        response = client.get("/tim-kiem/?q=sau+rieng&ward=phong+dien&available=now&page=2")
    assert len(card_ids(response)) == 6


def test_a_visitor_with_a_cart_pays_three_queries_more_for_the_header(
    client, farm, django_assert_num_queries
):
    product = listing(farm)
    client.post(f"/san-pham/{product.pk}/", {"quantity": "2"})
    # The session, the visitor's cart and its line count (orders.sessions, orders.selectors).
    with django_assert_num_queries(SEARCH_QUERIES + 3):
        response = client.get("/tim-kiem/?q=sau+rieng")
    assert '<span class="badge">1</span>' in response.content.decode()


# --- Home -----------------------------------------------------------------------------------


def test_home_shows_in_season_categories_newest_and_certified(client, farm, town_farm):
    today = timezone.localdate()
    fresh = listing(farm, name="Sầu riêng Ri6 mới hái", harvest_date=today)
    old_harvest = listing(
        town_farm, name="Gạo ST25", category=101, harvest_date=today.replace(year=today.year - 1)
    )
    coming = listing(town_farm, name="Măng cụt Phong Điền", category=203, harvest_date=None)
    page = client.get("/")
    text = page.content.decode()
    assert page.status_code == 200

    sections = {
        name: text.split(f'id="{name}-title"')[1].split("</section>")[0]
        for name in ("season", "newest", "certified")
    }
    assert f"/san-pham/{fresh.pk}/" in sections["season"]
    assert f"/san-pham/{old_harvest.pk}/" not in sections["season"]  # harvested a year ago
    assert f"/san-pham/{coming.pk}/" not in sections["season"]  # no harvest date given
    newest = [int(pk) for pk in re.findall(r'href="/san-pham/(\d+)/"', sections["newest"])]
    assert newest == [coming.pk, old_harvest.pk, fresh.pk]
    assert f"/san-pham/{fresh.pk}/" in sections["certified"]  # the household holds VietGAP
    assert f"/san-pham/{coming.pk}/" not in sections["certified"]
    assert 'href="/danh-muc/trai-cay/"' in text and 'href="/danh-muc/gao-ngu-coc/"' in text
    assert "48.000 ₫/kg" in text or "72.000 ₫/kg" in text


def test_home_lists_are_short(client, farm):
    for number in range(12):
        listing(farm, name=f"Sầu riêng Ri6 vườn {number}")
    assert len(card_ids(client.get("/"))) == 3 * 8


# --- Category -------------------------------------------------------------------------------


def test_category_page_lists_its_sub_categories_listings_with_filters(client, farm, town_farm):
    durian = listing(farm, name="Sầu riêng Ri6", price=72000)
    pomelo = listing(town_farm, name="Bưởi da xanh", category=202, price=30000)
    rice = listing(town_farm, name="Gạo ST25", category=101, price=35000)
    fruit = client.get("/danh-muc/trai-cay/")
    assert set(card_ids(fruit)) == {durian.pk, pomelo.pk}
    assert rice.pk not in card_ids(fruit)
    assert 'href="/danh-muc/sau-rieng/"' in fruit.content.decode()  # its sub-categories

    assert card_ids(client.get("/danh-muc/trai-cay/?ordering=price")) == [pomelo.pk, durian.pk]
    assert card_ids(client.get("/danh-muc/trai-cay/?ward=phong+dien")) == [durian.pk]
    assert card_ids(client.get("/danh-muc/sau-rieng/")) == [durian.pk]
    # The path decides the category; a `category` in the query string does not widen it.
    assert card_ids(client.get("/danh-muc/sau-rieng/?category=1")) == [durian.pk]


def test_unknown_category_is_a_404(client, db):
    assert client.get("/danh-muc/khong-co/").status_code == 404


# --- Search ------------------------------------------------------------------------------------


def test_search_without_accents_finds_the_listing(client, farm, town_farm):
    durian = listing(farm, name="Sầu riêng Ri6")
    mangosteen = listing(town_farm, name="Măng cụt Phong Điền", category=203)
    page = client.get("/tim-kiem/?q=sau rieng")
    assert page.status_code == 200
    assert card_ids(page) == [durian.pk]
    assert mangosteen.pk not in card_ids(page)
    assert "Sầu riêng Ri6" in page.content.decode()
    assert 'value="sau rieng"' in page.content.decode()  # the box keeps the words


def test_search_filters_combine_and_stay_in_the_pagination_links(client, farm, town_farm, official):
    matching = [listing(farm, name=f"Sầu riêng Ri6 lô {n}", price=70000 + n) for n in range(30)]
    too_dear = listing(farm, name="Sầu riêng Ri6 loại 1", price=95000)
    in_town = listing(town_farm, name="Sầu riêng Ri6 phố", price=70000)
    melon = listing(farm, name="Dưa hấu", category=207, price=20000)
    certify(town_farm, official, kind="globalgap")
    query = {
        "q": "sau rieng",
        "ward": "phong dien",
        "max_price": "90.000",
        "certification": "vietgap",
        "in_stock": "1",
        "ordering": "price",
    }
    first = client.get("/tim-kiem/?" + urlencode(query))
    assert first.status_code == 200
    assert card_ids(first) == [p.pk for p in matching[:24]]  # cheapest first
    links = next_page_query(first)
    assert links == {**{name: [value] for name, value in query.items()}, "page": ["2"]}

    second = client.get("/tim-kiem/?" + urlencode({**query, "page": 2}))
    assert card_ids(second) == [p.pk for p in matching[24:]]
    shown = set(card_ids(first)) | set(card_ids(second))
    assert not shown & {too_dear.pk, in_town.pk, melon.pk}
    # Repeatable filters repeat in the links.
    several = client.get(
        "/tim-kiem/?" + urlencode([("ward", "phong dien"), ("ward", CAI_KHE), ("q", "sau rieng")])
    )
    assert set(card_ids(several)) >= {in_town.pk, too_dear.pk}


def test_search_form_keeps_the_current_filters(client, farm):
    listing(farm)
    page = client.get(
        "/tim-kiem/?q=sau+rieng&category=201&certification=vietgap&available=now&in_stock=1&ordering=-price"
    )
    text = page.content.decode()
    assert '<option value="201" selected>' in text
    assert '<option value="-price" selected>' in text
    assert "checked" in input_tag(text, "certification", "vietgap")
    assert "checked" not in input_tag(text, "certification", "globalgap")
    assert "checked" in input_tag(text, "available", "now")
    assert "checked" in input_tag(text, "in_stock", None)


def test_bad_filter_values_are_explained_in_vietnamese_not_a_500(client, farm):
    listing(farm)
    page = client.get("/tim-kiem/?q=sau+rieng&min_price=abc")
    assert page.status_code in (200, 400)
    text = page.content.decode()
    assert "Không đọc được một số bộ lọc" in text
    message = "Enter a whole number of đồng, 0 or more."  # farms.search.catalogue_params
    with translation.override("vi"):
        vietnamese = gettext(message)
    assert vietnamese != message
    assert f"Giá thấp nhất (₫): {vietnamese}" in text
    assert 'value="abc"' in text  # kept, so it can be corrected


@pytest.mark.parametrize(
    "query",
    ["ordering=cheapest", "available=soon", "certification=iso", "category=trai-cay", "in_stock=maybe"],
)
def test_other_bad_values_are_a_400_page(client, db, query):
    page = client.get(f"/tim-kiem/?{query}")
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode()


def test_no_results_says_so(client, farm):
    listing(farm)
    page = client.get("/tim-kiem/?q=xoai+cat+hoa+loc")
    assert page.status_code == 200
    assert card_ids(page) == []
    assert "Không tìm thấy kết quả cho “xoai cat hoa loc”." in page.content.decode()


def test_a_page_number_past_the_end_shows_the_last_page(client, farm):
    product = listing(farm)
    page = client.get("/tim-kiem/?page=99")
    assert page.status_code == 200
    assert card_ids(page) == [product.pk]


# --- Suspension ------------------------------------------------------------------------------------


def test_a_suspended_households_listings_vanish_at_once(client, farm, town_farm, official):
    durian = listing(farm, name="Sầu riêng Ri6")
    pomelo = listing(town_farm, name="Bưởi da xanh", category=202)
    pages = ["/", "/tim-kiem/?q=sau+rieng", "/tim-kiem/", "/danh-muc/trai-cay/", "/danh-muc/sau-rieng/"]
    for url in pages:
        assert durian.pk in card_ids(client.get(url)), url
    assert client.get(f"/san-pham/{durian.pk}/").status_code == 200
    assert client.get(f"/nong-ho/{farm.pk}/").status_code == 200

    services.farm_suspend(farm=farm, by=official, reason="Kiểm tra lại chứng nhận")

    for url in pages:
        assert durian.pk not in card_ids(client.get(url)), url
    assert pomelo.pk in card_ids(client.get("/"))
    assert client.get(f"/san-pham/{durian.pk}/").status_code == 404
    assert client.get(f"/nong-ho/{farm.pk}/").status_code == 404
    assert client.get(f"/nong-ho/{town_farm.pk}/").status_code == 200


# --- Household page ------------------------------------------------------------------------------------


def test_household_page_shows_ward_badges_member_since_and_listings(client, farm, official):
    durian = listing(farm)
    draft = listing(farm, name="Chôm chôm Thái", category=204, status="draft")
    certify(farm, official, kind="ocop", number="OCOP-2025-01")
    page = client.get(f"/nong-ho/{farm.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert farm.name in text
    assert "Xã Phong Điền, Cần Thơ" in text
    assert sorted(set(re.findall(r'pill-badge">([^<]+)<', text))) == ["OCOP 4★", "VietGAP"]
    assert farm.verified_at.astimezone(timezone.get_current_timezone()).strftime("%d/%m/%Y") in text
    assert card_ids(page) == [durian.pk]
    assert draft.pk not in card_ids(page)
    # A seller's page, not their personal data.
    assert farm.phone not in text
    assert farm.address not in text
    assert farm.representative_name not in text


def test_household_page_is_a_404_unless_verified(client, make_user):
    pending = make_farm(make_user, verified=False)
    assert client.get(f"/nong-ho/{pending.pk}/").status_code == 404
    assert client.get("/nong-ho/999999/").status_code == 404


def test_every_page_has_the_search_box_and_the_cart_link(client, db):
    for url in ("/", "/privacy/", "/account/login/"):
        text = client.get(url).content.decode()
        assert '<form class="top-search" method="get" action="/tim-kiem/" role="search">' in text
        assert '<a class="cart-link" href="/gio-hang/">' in text


def test_a_bad_filter_is_marked_on_its_field(client, db):
    text = client.get("/tim-kiem/?max_price=nhieu").content.decode()
    field = text.split('id="f_max_price"')[0].rsplit('<div class="field', 1)[1]
    assert field.startswith(" has-error")


@pytest.mark.parametrize("category", ["²", "1e3", "-1", "9999999999"])
def test_odd_category_values_never_break_the_page(client, db, category):
    assert client.get("/tim-kiem/", {"category": category}).status_code in (200, 400)


@pytest.mark.parametrize("path", ["/tim-kiem/?q=sau+rieng&", "/nong-ho/{farm}/?"])
def test_list_pages_run_the_same_queries_for_page_sizes_1_and_100(client, farm, path):
    for number in range(101):
        listing(farm, name=f"Sầu riêng Ri6 vườn {number}", price=60000 + number * 100)
    url = path.format(farm=farm.pk)
    counts = []
    for size in (1, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}page_size={size}")
        assert response.status_code == 200
        assert len(card_ids(response)) == size
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 6
