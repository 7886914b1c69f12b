"""The officials' sales dashboard: every widget's numbers from a world of known orders.

Orders are placed through the real checkout on fixed days of November 2026 (the clock moved
with time_machine), rolled up, and read back from the page's context and HTML.
"""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplace.accounts.models import Role
from marketplace.geo.models import AliasKind, WardAlias
from marketplace.reports.rollups import rollups_rebuild
from marketplace.reports.views import NO_SALES_COLOUR, OUTSIDE_COLOUR, QUANTILE_COLOURS
from orders import services
from tests.farms.factories import make_farm, make_product
from tests.orders.factories import place

pytestmark = pytest.mark.django_db

URL = "/official/stats/"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = {"preset": "custom", "from": "2026-11-16", "to": "2026-11-22"}  # Monday to Sunday
SECRET_BUYER = {"name": "Trần Thị Bí Mật", "phone": "0987 654 321", "address": "99 Hẻm Riêng Tư"}


def at(day: int, hour: int = 10):
    return time_machine.travel(datetime(2026, 11, day, hour, tzinfo=VN), tick=False)


def _place(buyer, items, **fields):
    return place(buyer, items, **fields)


@pytest.fixture
def market(make_user):
    """Household A (ward 0) sells mangosteen, household B (ward 1) rambutan; all kg.

    Week before (9–15 Nov): buyer 1 buys 2 kg of A at 50,000 (100,000).
    Week shown (16–22 Nov): A's price falls to 35,000. On the 17th buyer 1 buys 1 kg of A (cash)
    and buyer 2 3 kg of B at 40,000 by bank transfer (120,000); on the 19th the secret buyer buys
    2 kg of A and 1 kg of B (110,000, cash), and buyer 4's kilo of A is cancelled.
    """
    with at(2):
        a_farm = make_farm(make_user, name="Hộ Măng Cụt Tư", ward_index=0)
        b_farm = make_farm(make_user, name="Hộ Chôm Chôm Năm", ward_index=1)
        a = make_product(
            a_farm, name="Măng cụt loại 1", category=203, price=50000, stock="100", status="active"
        )
        b = make_product(
            b_farm, name="Chôm chôm Thái", category=204, price=40000, stock="100", status="active"
        )
        buyers = [make_user(Role.BUYER) for _ in range(3)]
        secret = make_user(Role.BUYER, full_name=SECRET_BUYER["name"], phone=SECRET_BUYER["phone"])
    with at(10):
        _place(buyers[0], [(a, 2)])
    a.price = 35000
    a.save(update_fields=["price"])
    with at(17):
        _place(buyers[0], [(a, 1)])
    with at(17, 11):
        _place(buyers[1], [(b, 3)], payment_method="vietqr")
    with at(19):
        _place(secret, [(a, 2), (b, 1)], delivery=SECRET_BUYER)
    with at(19, 11):
        cancelled = _place(buyers[2], [(a, 1)])
        services.order_cancel(order=cancelled, by=buyers[2])
    rollups_rebuild(first=date(2026, 11, 1), last=date(2026, 11, 30))
    return {"a": a, "b": b, "ward_a": a_farm.ward, "ward_b": b_farm.ward, "buyers": buyers}


def official(make_user, *wards):
    if not wards:
        return make_user(Role.OFFICIAL)
    return make_user(Role.OFFICIAL, city_wide=False, wards=list(wards))


@pytest.fixture
def city(make_user, client):
    client.force_login(official(make_user))
    return client


def rows(response, name):
    return {row["key"]: row for row in response.context[name]}


def table_row(html: str, section: str, key) -> str:
    """The text of the table row with data-key=`key` inside the section with id `section`."""
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    match = re.search(rf'<tr data-key="{re.escape(str(key))}">(.*?)</tr>', part, re.S)
    assert match, f"no row {key} in {section}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    return "|" + "|".join(re.sub(r"<[^>]+>", "", cell).strip() for cell in cells) + "|"


def test_totals_and_change_against_the_week_before(market, city):
    response = city.get(URL, WEEK)
    assert response.status_code == 200
    assert response.context["previous"].first == date(2026, 11, 9)
    cards = {card["key"]: card for card in response.context["totals"]}
    figures = {key: (card["value"], card["previous"], card["change"]) for key, card in cards.items()}
    assert figures == {
        "orders": (3, 1, 200),
        "quantity_kg": ("7.000", "2.000", 250),
        "gross": (265000, 100000, 165),
        "cancelled": (35000, 0, None),  # nothing to compare with
        "refunded": (0, 0, None),
        "delivered": (0, 0, None),
        "households": (2, 1, 100),
        "buyers": (3, "<3", None),  # a suppressed count is never compared
    }
    html = response.content.decode()
    gross = html.split('data-total="gross"', 1)[1].split("</li>", 1)[0]
    assert "265.000 ₫" in gross and "▲ 165%" in gross and "100.000 ₫" in gross
    assert 'data-change=""' in html.split('data-total="buyers"', 1)[1].split("</li>", 1)[0]


def test_sales_by_day_category_and_ward(market, city):
    response = city.get(URL, WEEK)
    assert response.context["step"] == "day"
    timeline = rows(response, "timeline")
    assert {k: (r["orders"], r["quantity_kg"], r["gross"], r["buyers"]) for k, r in timeline.items()} == {
        "2026-11-17": (2, "4.000", 155000, "<3"),
        "2026-11-19": (1, "3.000", 110000, "<3"),
    }
    assert {k: r["gross"] for k, r in rows(response, "by_category").items()} == {203: 105000, 204: 160000}
    assert {k: r["gross"] for k, r in rows(response, "by_ward").items()} == {
        market["ward_a"].pk: 105000,
        market["ward_b"].pk: 160000,
    }
    html = response.content.decode()
    assert "|2|4|155.000 ₫|&lt;3|" in table_row(html, "timeline", "2026-11-17")
    assert "160.000 ₫" in table_row(html, "by-category", 204)
    assert "105.000 ₫" in table_row(html, "by-ward", market["ward_a"].pk)
    charts = response.context["charts"]
    assert charts["timeline"]["gross"] == [155000, 110000] and charts["timeline"]["orders"] == [2, 1]
    assert '<script id="dashboard-data" type="application/json">' in html


def test_a_long_range_is_drawn_by_week(market, city):
    response = city.get(URL, {"from": "2026-09-01", "to": "2026-11-30"})
    assert response.context["step"] == "week"
    assert {k: r["gross"] for k, r in rows(response, "timeline").items()} == {
        "2026-11-09": 100000,
        "2026-11-16": 265000,
    }


def test_top_products_and_households(market, city):
    response = city.get(URL, WEEK)
    products = response.context["top_products"]
    assert [(r["label"], r["gross"], r["quantity_kg"]) for r in products] == [
        ("Chôm chôm Thái", 160000, "4.000"),
        ("Măng cụt loại 1", 105000, "3.000"),
    ]
    households = response.context["top_households"]
    assert [(r["label"], r["gross"], r["orders"]) for r in households] == [
        ("Hộ Chôm Chôm Năm", 160000, 2),
        ("Hộ Măng Cụt Tư", 105000, 2),
    ]
    html = response.content.decode()
    assert "Hộ Chôm Chôm Năm|" in table_row(html, "top-households", market["b"].farm_id)
    top = html.split('id="top-products"', 1)[1]
    assert top.index("Chôm chôm Thái") < top.index("Măng cụt loại 1")


def test_payment_mix(market, city):
    response = city.get(URL, WEEK)
    assert [(r["payment_method"], r["orders"], r["gross"]) for r in response.context["payments"]] == [
        ("cod", 2, 145000),
        ("vietqr", 1, 120000),
    ]
    assert "|1|120.000 ₫|" in table_row(response.content.decode(), "payments", "vietqr")
    assert response.context["charts"]["payments"]["gross"] == [145000, 120000]


def test_price_watch_of_the_best_seller_and_of_a_chosen_product(market, city):
    response = city.get(URL, WEEK)
    assert response.context["watched"] == market["b"].pk
    assert [(r["date"], r["avg_price_per_kg"], r["quantity_kg"]) for r in response.context["prices"]] == [
        ("2026-11-17", 40000, "3.000"),
        ("2026-11-19", 40000, "1.000"),
    ]
    chosen = city.get(URL, {**WEEK, "from": "2026-11-09", "watch": market["a"].pk})
    assert [
        (r["date"], r["avg_price_per_kg"], r["min"], r["max"], r["quantity_kg"])
        for r in chosen.context["prices"]
    ] == [
        ("2026-11-10", 50000, 50000, 50000, "2.000"),
        ("2026-11-17", 35000, 35000, 35000, "1.000"),
        ("2026-11-19", 35000, 35000, 35000, "2.000"),
    ]
    assert "|50.000 ₫|50.000 ₫|50.000 ₫|2|" in table_row(chosen.content.decode(), "price-watch", "2026-11-10")
    assert chosen.context["charts"]["prices"]["avg"] == [50000, 35000, 35000]


def test_price_watch_by_week_over_a_long_range(market, city):
    # More than DAILY_UP_TO_DAYS days: the price watch follows the timeline, week by week.
    params = {"preset": "custom", "from": "2026-08-01", "to": "2026-11-22", "watch": market["a"].pk}
    long = city.get(URL, params)
    assert long.context["step"] == "week"
    fields = ("date", "avg_price_per_kg", "min", "max", "quantity_kg")
    prices = [tuple(row[name] for name in fields) for row in long.context["prices"]]
    assert prices == [
        ("2026-11-09", 50000, 50000, 50000, "2.000"),
        ("2026-11-16", 35000, 35000, 35000, "3.000"),
    ]
    page = long.content.decode()
    assert "Tuần từ" in page
    assert "|35.000 ₫|35.000 ₫|35.000 ₫|3|" in table_row(page, "price-watch", "2026-11-16")


def test_glut_warning_when_a_price_falls_week_on_week(market, city, settings):
    response = city.get(URL, WEEK)
    assert response.context["drops"] == [
        {
            "product": market["a"].pk,
            "name": "Măng cụt loại 1",
            "before": 50000,
            "now": 35000,
            "change_percent": -30,
            "week_start": date(2026, 11, 16),
        }
    ]
    html = response.content.decode()
    assert 'id="glut"' in html and "50.000 ₫/kg → 35.000 ₫/kg (-30%)" in html
    settings.PRICE_DROP_WARNING_PERCENT = 30  # a fall of exactly 30% is not more than 30%
    calm = city.get(URL, WEEK)
    assert calm.context["drops"] == [] and 'id="glut"' not in calm.content.decode()


def test_the_map_is_filled_by_quantile_with_titles(market, city):
    response = city.get(URL, WEEK)
    paths = {path["code"]: path for path in response.context["map"]["paths"]}
    assert len(paths) == 103
    a, b = paths[market["ward_a"].pk], paths[market["ward_b"].pk]
    assert (a["fill"], b["fill"]) == (QUANTILE_COLOURS[0], QUANTILE_COLOURS[2])
    assert a["title"] == f"{market['ward_a'].name}: 105.000 ₫"
    others = [p for code, p in paths.items() if code not in (a["code"], b["code"])]
    assert {p["fill"] for p in others} == {NO_SALES_COLOUR}
    assert response.context["map"]["legend"] == [
        {"colour": QUANTILE_COLOURS[0], "low": 105000, "high": 105000},
        {"colour": QUANTILE_COLOURS[2], "low": 160000, "high": 160000},
    ]
    html = response.content.decode()
    assert (
        f'fill="{QUANTILE_COLOURS[2]}" class="ward sold" data-ward="{b["code"]}"><title>{b["title"]}</title>'
        in html
    )
    assert html.count("<path d=") == 103


def test_a_ward_official_sees_only_their_wards(market, make_user, client):
    client.force_login(official(make_user, market["ward_a"]))
    response = client.get(URL, WEEK)
    assert response.status_code == 200
    cards = {card["key"]: card["value"] for card in response.context["totals"]}
    assert (cards["gross"], cards["orders"], cards["households"]) == (105000, 2, 1)
    assert list(rows(response, "by_ward")) == [market["ward_a"].pk]
    assert [w.code for w in response.context["wards"]] == [market["ward_a"].pk]
    assert [r["payment_method"] for r in response.context["payments"]] == ["cod"]
    paths = {path["code"]: path for path in response.context["map"]["paths"]}
    assert paths[market["ward_b"].pk]["fill"] == OUTSIDE_COLOUR
    assert "₫" not in paths[market["ward_b"].pk]["title"]
    assert paths[market["ward_a"].pk]["fill"] == QUANTILE_COLOURS[0]
    html = response.content.decode()
    for hidden in ("Hộ Chôm Chôm Năm", "Chôm chôm Thái", "160.000 ₫", "265.000 ₫"):
        assert hidden not in html
    refused = client.get(URL, {**WEEK, "area": market["ward_b"].pk})
    assert refused.status_code == 200 and refused.context["errors"] and "totals" not in refused.context
    outside = client.get(URL, {**WEEK, "product": market["b"].pk})
    assert outside.status_code == 200 and outside.context["errors"]


def test_a_former_district_narrows_to_its_wards(market, city):
    district = (
        WardAlias.objects.filter(kind=AliasKind.FORMER_DISTRICT, wards=market["ward_a"])
        .exclude(wards=market["ward_b"])
        .first()
    )
    assert district is not None
    response = city.get(URL, {**WEEK, "area": f"d:{district.former_code}"})
    assert response.context["errors"] == []
    assert list(rows(response, "by_ward")) == [market["ward_a"].pk]
    assert f'<option value="d:{district.former_code}" selected>' in response.content.decode()
    by_ward = city.get(URL, {**WEEK, "area": market["ward_b"].pk})
    assert {card["key"]: card["value"] for card in by_ward.context["totals"]}["gross"] == 160000


def test_filters_by_category_product_certification_and_payment(market, city):
    def gross(**params):
        response = city.get(URL, {**WEEK, **params})
        assert response.context["errors"] == []
        return {card["key"]: card["value"] for card in response.context["totals"]}["gross"]

    assert gross(category=2) == 265000 and gross(category=204) == 160000
    assert gross(product=market["a"].pk) == 105000
    assert gross(payment_method="vietqr") == 120000
    assert gross(certification="certified") + gross(certification="uncertified") == 265000


def test_presets_cover_this_week_month_quarter_and_year(market, city):
    expected = {
        "week": date(2026, 11, 16),
        "month": date(2026, 11, 1),
        "quarter": date(2026, 10, 1),
        "year": date(2026, 1, 1),
    }
    with at(19, 15):
        for preset, first in expected.items():
            filters = city.get(URL, {"preset": preset}).context["filters"]
            assert (filters.first, filters.last) == (first, date(2026, 11, 19)), preset
        week = city.get(URL, {"preset": "week"})
    assert week.context["previous"].first == date(2026, 11, 12)
    assert {card["key"]: card["value"] for card in week.context["totals"]}["gross"] == 265000


def test_other_roles_are_refused_and_anonymous_logs_in(market, make_user, client):
    for role in (Role.BUYER, Role.FARMER, Role.COURIER, Role.STAFF):
        client.force_login(make_user(role))
        assert client.get(URL).status_code == 403
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"preset": "custom", "from": "2026-13-01"}, "YYYY-MM-DD"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, None),
        ({"from": "2020-01-01", "to": "2026-01-01"}, None),
        ({"preset": "decade"}, None),
        ({"category": "abc"}, None),
        ({"category": "999999"}, None),
        ({"certification": "maybe"}, None),
        ({"payment_method": "gold"}, None),
        ({"area": "99999"}, None),
        ({"area": "d:nowhere"}, None),
        ({"product": "999999999"}, None),
        ({"product": "１２"}, None),
        ({**WEEK, "watch": "x"}, False),  # a bad product to watch falls back to the best seller
    ],
)
def test_bad_input_is_a_message_not_an_error(market, city, params, fragment):
    response = city.get(URL, params)
    assert response.status_code == 200
    errors = response.context["errors"]
    if fragment is False:
        assert errors == [] and response.context["watched"] == market["b"].pk
        return
    assert errors and all(message in response.content.decode() for message in errors)
    assert 'class="errors"' in response.content.decode()
    if fragment:
        assert fragment in errors[0]


def test_no_buyer_personal_data_in_the_page(market, city):
    html = city.get(URL, WEEK).content.decode()
    for value in (*SECRET_BUYER.values(), "0987654321", "Hẻm Riêng Tư", "Bí Mật"):
        assert value not in html
    assert "Hộ Măng Cụt Tư" in html  # households are shown, as sellers


def test_no_asset_from_outside_the_site(market, city):
    html = city.get(URL, WEEK).content.decode()
    sources = re.findall(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="([^"]*)"', html)
    assert "/static/vendor/chart.umd.min.js" in sources and "/static/reports/dashboard.js" in sources
    assert [url for url in sources if re.match(r"(?i)(https?:)?//", url)] == []


def test_the_page_reads_rollups_and_never_orders(market, city):
    with CaptureQueriesContext(connection) as queries:
        assert city.get(URL, {**WEEK, "watch": market["a"].pk}).status_code == 200
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "reports_salesfact" in read and "reports_salescube" in read
    assert "orders_order" not in read and "orders_farmorder" not in read and "orders_orderline" not in read


def test_the_number_of_queries_does_not_grow_with_the_orders(
    market, city, make_user, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as few:
        city.get(URL, WEEK)
    more = make_user(Role.BUYER)
    with at(18):
        for _ in range(6):
            _place(more, [(market["a"], 1), (market["b"], 1)], payment_method="cod")
    rollups_rebuild(first=date(2026, 11, 18), last=date(2026, 11, 18))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = city.get(URL, WEEK)
    assert {card["key"]: card["value"] for card in response.context["totals"]}["orders"] == 9


def test_without_chart_js_the_page_still_shows_tables_and_map(market, city, monkeypatch):
    def missing(path):
        raise ValueError(f"Missing staticfiles manifest entry for '{path}'")

    monkeypatch.setattr("marketplace.reports.views.static", missing)
    response = city.get(URL, WEEK)
    html = response.content.decode()
    assert response.status_code == 200 and response.context["chart_js"] is None
    assert "chart.umd.min.js" not in html
    assert html.count("<path d=") == 103 and "265.000 ₫" in html


def test_the_officials_home_links_the_dashboard(city):
    html = city.get(reverse("official-home")).content.decode()
    assert f'href="{URL}"' in html


def test_large_kilos_read_with_thousands_grouped_in_vietnamese():
    from django.template.loader import render_to_string
    from django.utils import translation

    with translation.override("vi"):
        html = render_to_string(
            "reports/_sales_table.html",
            {
                "rows": [
                    {
                        "key": 1,
                        "label": "Khoai lang",
                        "orders": 9,
                        "quantity_kg": "26378.500",
                        "gross": 1,
                        "buyers": 9,
                    }
                ]
            },
        )
    assert "26.378,5" in html and "26378" not in html


def test_top_ten_counts_only_the_kept_keys_and_breaks_ties_by_name(make_user):
    """Twelve products, two of them tied at the tenth place: the top ten are the report's rows
    sorted by gross then name, cut at ten, with the same orders and buyers."""
    from marketplace.reports.selectors import Filters, sales_report, sales_top

    with at(2):
        farms = [make_farm(make_user, name=f"Hộ {i:02d}", ward_index=i % 2) for i in range(3)]
        products = [
            make_product(
                farms[i % 3],
                name=f"Sản phẩm {i:02d}",
                category=203,
                price=10000,
                stock="100",
                status="active",
            )
            for i in range(12)
        ]
        buyers = [make_user(Role.BUYER) for _ in range(4)]
    # Product i sells (i % 6) + 1 kilos to buyer i % 4; products 4 and 10 tie, as do 5 and 11.
    with at(17):
        for i, product in enumerate(products):
            _place(buyers[i % 4], [(product, i % 6 + 1)])
        _place(buyers[3], [(products[0], 1), (products[1], 1)])
    rollups_rebuild(first=date(2026, 11, 1), last=date(2026, 11, 30))
    filters = Filters(first=date(2026, 11, 1), last=date(2026, 11, 30))
    for group_by in ("product", "household"):
        rows = sales_report(filters=filters, group_by=group_by)["rows"]
        expected = sorted(rows, key=lambda row: (-row["gross"], row["label"]))[:10]
        assert sales_top(filters=filters, group_by=group_by, limit=10) == expected
    top = sales_top(filters=filters, group_by="product", limit=10)
    assert [row["label"] for row in top[:4]] == ["Sản phẩm 05", "Sản phẩm 11", "Sản phẩm 04", "Sản phẩm 10"]
    assert {row["label"]: row["orders"] for row in top}["Sản phẩm 01"] == 2


def test_names_in_the_tables_are_escaped(market, city):
    # Household and product names are typed by households: the tables built in Python escape them.
    market["a"].name = '<b>Măng cụt</b> & "ngon"'
    market["a"].save(update_fields=["name"])
    market["a"].farm.name = "<i>Hộ Tư</i>"
    market["a"].farm.save(update_fields=["name"])
    html = city.get(URL, WEEK).content.decode()
    assert "<b>Măng cụt</b>" not in html and "<i>Hộ Tư</i>" not in html
    products = html.split('id="top-products"', 1)[1].split("</section>", 1)[0]
    assert "&lt;b&gt;Măng cụt&lt;/b&gt; &amp; &quot;ngon&quot;" in products
    assert "&lt;i&gt;Hộ Tư&lt;/i&gt;" in products


def test_buyers_who_come_back_in_a_second_week_count_once(market, make_user):
    # Two new buyers of A in both weeks of 9–22 Nov: the range is two whole ISO weeks of a
    # month it does not cover, so each product's cells of both weeks are unioned, not added.
    # Buyers of A: buyer 1, the secret buyer and the two new.
    from marketplace.reports.selectors import Filters, sales_report

    returning = [make_user(Role.BUYER) for _ in range(2)]
    for day in (10, 17):
        for buyer in returning:
            with at(day, 12):
                _place(buyer, [(market["a"], 1)])
    rollups_rebuild(first=date(2026, 11, 1), last=date(2026, 11, 30))
    weeks = Filters(first=date(2026, 11, 9), last=date(2026, 11, 22))
    report = sales_report(filters=weeks, group_by="product")
    a = next(row for row in report["rows"] if row["key"] == market["a"].pk)
    assert (a["orders"], a["buyers"], a["households"]) == (7, 4, 1)
    assert report["totals"]["buyers"] == 5  # and buyer 2 of B


def test_edge_days_of_two_months_stay_in_their_months(market, make_user):
    # A filter on certification needs the cuboid that keeps months only: every day of 27 Oct –
    # 12 Nov is computed from the facts, and by month those of October and of November are two
    # rows (they were once read as one block, dated by its first day).
    from marketplace.reports.selectors import Filters, facts_report, sales_report

    with time_machine.travel(datetime(2026, 10, 30, 10, tzinfo=VN), tick=False):
        _place(make_user(Role.BUYER), [(market["a"], 1)])
    rollups_rebuild(first=date(2026, 10, 1), last=date(2026, 11, 30))
    filters = Filters(first=date(2026, 10, 27), last=date(2026, 11, 12), certified=False)
    report = sales_report(filters=filters, group_by="month")
    assert [(row["key"], row["orders"]) for row in report["rows"]] == [("2026-10-01", 1), ("2026-11-01", 1)]
    assert report == facts_report(filters=filters, group_by="month")
