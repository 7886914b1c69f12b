"""The officials' sales and price API: known numbers, scope, "<3", and no order ever read."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.accounts.models import Role
from marketplace.reports.rollups import rollups_rebuild
from tests.orders.factories import place
from tests.reports.conftest import official

pytestmark = pytest.mark.django_db

SALES = "/api/v1/stats/sales/"
PRICES = "/api/v1/stats/prices/"


def test_city_wide_totals_and_rows_by_household(world, make_user, api_as):
    answer = api_as(official(make_user)).get(SALES, {"group_by": "household"})
    assert answer.status_code == 200, answer.json()
    data = answer.json()
    assert data["group_by"] == "household" and data["to"] == world["today"]
    # 3 kg × 48,000 from A + 3 kg × 45,000 from B; the cancelled kilo counts only as cancelled.
    assert data["totals"] == {
        "orders": 3,
        "quantity_kg": "6.000",
        "gross": 279000,
        "cancelled": 48000,
        "refunded": 0,
        "delivered": 0,
        "households": 2,
        "buyers": 3,
    }
    rows = {row["label"]: row for row in data["rows"]}
    assert set(rows) == {world["a"].farm.name, world["b"].farm.name}
    a = rows[world["a"].farm.name]
    assert (a["key"], a["gross"], a["cancelled"], a["orders"], a["buyers"]) == (
        world["a"].farm_id,
        144000,
        48000,
        2,
        "<3",  # two buyers: too few to show
    )


def test_a_ward_official_sees_only_their_wards(world, make_user, api_as):
    mine = official(make_user, world["a"].farm.ward)
    data = api_as(mine).get(SALES).json()
    assert data["totals"]["gross"] == 144000 and data["totals"]["buyers"] == "<3"
    assert [row["key"] for row in data["rows"]] == [world["today"]]
    assert api_as(mine).get(SALES, {"ward": world["b"].farm.ward_id}).status_code == 404
    assert api_as(mine).get(PRICES, {"product": world["b"].pk}).status_code == 404


def test_other_roles_are_refused(world, make_user, api_as, api):
    for role in (Role.BUYER, Role.FARMER, Role.COURIER, Role.STAFF):
        assert api_as(make_user(role)).get(SALES).status_code == 403
    assert api.get(SALES).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "x"}, "to"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"group_by": "year"}, "group_by"),
        ({"category": "abc"}, "category"),
        ({"category": "999999"}, "category"),
        ({"certification": "maybe"}, "certification"),
        ({"payment_method": "gold"}, "payment_method"),
    ],
)
def test_bad_parameters_are_field_errors(world, make_user, api_as, params, field):
    answer = api_as(official(make_user)).get(SALES, params)
    assert answer.status_code == 400 and list(answer.json()) == [field]


def test_filters_by_category_payment_method_and_certification(world, make_user, api_as):
    client = api_as(official(make_user))
    category = world["a"].category
    by_parent = client.get(SALES, {"category": category.parent_id}).json()["totals"]["gross"]
    assert by_parent == client.get(SALES, {"category": category.pk}).json()["totals"]["gross"] == 279000
    assert client.get(SALES, {"payment_method": "vietqr"}).json()["totals"]["gross"] == 0
    certified = client.get(SALES, {"certification": "certified"}).json()["totals"]["gross"]
    uncertified = client.get(SALES, {"certification": "uncertified"}).json()["totals"]["gross"]
    assert certified + uncertified == 279000


def test_the_price_watch_of_a_product(world, make_user, api_as):
    data = api_as(official(make_user)).get(PRICES, {"product": world["a"].pk}).json()
    assert data["product"]["id"] == world["a"].pk
    assert data["rows"] == [
        {
            "date": world["today"],
            "avg_price_per_kg": 48000,
            "min": 48000,
            "max": 48000,
            "quantity_kg": "3.000",
        }
    ]


def test_the_answers_read_rollups_and_never_orders(world, make_user, api_as):
    client = api_as(official(make_user))
    with CaptureQueriesContext(connection) as queries:
        for group_by in ("day", "week", "month", "category", "ward", "household", "product"):
            assert client.get(SALES, {"group_by": group_by}).status_code == 200
        assert client.get(PRICES, {"product": world["a"].pk}).status_code == 200
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "reports_salesfact" in read and "reports_salescube" in read
    assert "orders_order" not in read and "orders_farmorder" not in read and "orders_orderline" not in read


def test_the_number_of_queries_does_not_grow_with_the_orders(
    world, make_user, api_as, django_assert_max_num_queries
):
    client = api_as(official(make_user))
    with CaptureQueriesContext(connection) as few:
        client.get(SALES, {"group_by": "product"})
    buyer = make_user(Role.BUYER)
    for _ in range(5):
        place(buyer, [(world["a"], 1), (world["b"], 1)])
    today = timezone.localdate()
    rollups_rebuild(first=today, last=today)
    with django_assert_max_num_queries(len(few.captured_queries)):
        data = client.get(SALES, {"group_by": "product"}).json()
    assert data["totals"]["orders"] == 8


def test_no_buyers_personal_data_in_any_answer(world, make_user, api_as):
    from orders.models import Order

    client = api_as(official(make_user))
    text = " ".join(
        client.get(url, params).content.decode()
        for url, params in [
            (SALES, {"group_by": group_by})
            for group_by in ("day", "week", "month", "category", "ward", "household", "product")
        ]
        + [
            (PRICES, {"product": world["a"].pk}),
            ("/api/v1/stats/fulfilment/", {}),
            ("/api/v1/stats/registrations/", {}),
        ]
    )
    for order in Order.objects.select_related("buyer"):
        for private in (
            order.buyer.full_name,
            order.buyer.phone,
            order.delivery_phone,
            order.delivery_address,
        ):
            assert private and private not in text


def test_a_listing_whose_unit_changes_during_a_day_still_rolls_up(world, make_user, api_as):
    product = world["a"]
    product.unit = "yen"  # the household now sells it by the yến (10 kg)
    product.save(update_fields=["unit"])
    place(make_user(Role.BUYER), [(product, 1)])
    today = timezone.localdate()
    rollups_rebuild(first=today, last=today)  # used to fail: two rows for one cell
    totals = api_as(official(make_user)).get(SALES).json()["totals"]
    # 3 kg + 1 yến (10 kg) from A, 3 kg from B.
    assert totals["quantity_kg"] == "16.000"


@pytest.mark.parametrize(
    "params",
    [
        {"to": "0001-01-10"},
        {"from": "0001-01-01", "to": "0001-01-10"},
        {"from": "1999-12-31"},
        {"to": "3000-01-01"},
    ],
)
def test_dates_out_of_the_books_range_are_field_errors(world, make_user, api_as, client, params):
    user = official(make_user)
    for url in (SALES, "/api/v1/stats/fulfilment/", "/api/v1/stats/registrations/"):
        answer = api_as(user).get(url, params)
        assert answer.status_code == 400, (url, answer.content)
    client.force_login(user)
    page = client.get("/official/stats/", {"preset": "custom", **params})
    assert page.status_code == 200 and page.context["errors"]


@pytest.mark.parametrize("ward", ["abc", "99999", "3115"])
def test_a_ward_that_does_not_exist_is_not_found(world, make_user, api_as, ward):
    assert api_as(official(make_user)).get(SALES, {"ward": ward}).status_code == 404


def test_a_null_character_in_a_ward_is_invalid_input(world, make_user, api_as):
    # Refused before any view (marketplace.middleware.NullCharacterMiddleware), on every endpoint.
    answer = api_as(official(make_user)).get(SALES, {"ward": "31150\x00"})
    assert answer.status_code == 400 and list(answer.json()) == ["ward"]


def test_the_page_answers_odd_areas_and_watches_without_a_crash(world, make_user, client):
    client.force_login(official(make_user))
    odd_area = client.get("/official/stats/", {"area": "31150\x00"})
    assert odd_area.status_code == 400  # a NUL character: refused before the page reads it
    long_watch = client.get("/official/stats/", {"watch": "9" * 5000})
    assert long_watch.status_code == 200 and not long_watch.context["errors"]


def test_the_average_price_lies_between_the_lowest_and_the_highest(world, make_user, api_as):
    from orders import services as order_services

    # 2 kg at 48,000 weighed 2.2 kg: the buyer pays no more (96,000 for 2.2 kg = 43,636.36 a kilo).
    order = place(make_user(Role.BUYER), [(world["a"], 2)])
    part = order.farm_orders.get()
    order_services.farm_order_accept(farm_order=part, by=part.farm.owner)
    line = part.lines.get()
    order_services.farm_order_ready(farm_order=part, by=part.farm.owner, actual_quantities={line.pk: "2.2"})
    today = timezone.localdate()
    rollups_rebuild(first=today, last=today)
    (row,) = api_as(official(make_user)).get(PRICES, {"product": world["a"].pk}).json()["rows"]
    assert row["min"] <= row["avg_price_per_kg"] <= row["max"]
    assert (row["min"], row["max"]) == (43636, 48000)
