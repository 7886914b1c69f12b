"""Settlement statements: a household's months, each month's entries, CSV, access and the API (#7)."""

import csv
import io
import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from marketplace.accounts.models import Role
from marketplace.money import format_vnd
from orders.models import LedgerEntry
from orders.selectors import ledger_months, ledger_statement
from orders.services.ledger import farm_balance, ledger_reverse, payout_record
from orders.templatetags.statement_tags import deduction, paid_vnd, signed_vnd

from .ledger_helpers import PROCESSED, deliver, household, listing, resolved_problem, staff_user

pytestmark = pytest.mark.django_db

CAN_THO = ZoneInfo("Asia/Ho_Chi_Minh")
LEDGER = "/api/v1/ledger/"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=CAN_THO)


@pytest.fixture
def staff(make_user):
    return staff_user(make_user)


@pytest.fixture
def farm(make_user):
    return household(make_user)


@pytest.fixture
def other_farm(make_user):
    return household(make_user, name="Hộ bà Năm", ward_index=1)


@pytest.fixture
def history(buyer, farm, staff):
    """October: one sale late on the 31st (Cần Thơ time). November: a sale just after midnight on
    the 1st (still October in UTC), a payout, then a refund on the November sale."""
    fruit = listing(farm, price=100000)
    rice = listing(farm, price=50000, name="Gạo ST25")
    with time_machine.travel(at(2026, 10, 31, 23, 30), tick=False):
        october = deliver(buyer, [(fruit, 1)])  # net 95,000
    with time_machine.travel(at(2026, 11, 1, 0, 30), tick=False):
        november = deliver(buyer, [(rice, 1)])  # net 47,500
    with time_machine.travel(at(2026, 11, 15, 9), tick=False):
        payout = payout_record(farm=farm, amount=100000, reference="VCB 0001", by=staff, note="Đợt 1")
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        problem = resolved_problem(november, refund=10000)
        refund = ledger_reverse(farm_order=november, key=f"refund:{problem.pk}")
    return {"october": october, "november": november, "payout": payout, "refund": refund}


# --- The selector ---------------------------------------------------------------------------


def test_balances_carry_from_one_month_to_the_next(history, farm):
    october = ledger_statement(farm=farm, year=2026, month=10)
    assert (october.opening_balance, october.closing_balance) == (0, 95000)
    assert [e.order_number for e in october.entries] == [history["october"].order.number]

    november = ledger_statement(farm=farm, year=2026, month=11)
    assert november.opening_balance == 95000
    assert [(e.kind, e.order_number, e.net) for e in november.entries] == [
        ("sale", history["november"].order.number, 47500),
        ("payout", None, -100000),
        ("refund", history["november"].order.number, -9500),
    ]
    assert november.totals == {"gross": 40000, "commission": 2000, "tax": 0, "net": -62000}
    assert november.closing_balance == 33000 == farm_balance(farm)

    december = ledger_statement(farm=farm, year=2026, month=12)
    assert (december.opening_balance, december.entries, december.closing_balance) == (33000, [], 33000)
    assert [(row["month"].month, row["entries"], row["net"]) for row in ledger_months(farm=farm)] == [
        (11, 3, -62000),
        (10, 1, 95000),
    ]


def test_the_ledger_always_equals_delivered_lines_less_refunds_commission_tax_and_payouts(history, farm):
    delivered = sum(
        line.line_total for p in (history["october"], history["november"]) for line in p.lines.all()
    )
    refunds, commission = 10000, 5000 + 2000  # 5% of 100,000 and of 40,000
    assert farm_balance(farm) == delivered - refunds - commission - 100000


# --- Pages -----------------------------------------------------------------------------------


def test_the_household_sees_its_months_and_balance(history, farm, client):
    client.force_login(farm.owner)
    page = client.get("/farmer/statements/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<strong class="big money" id="balance">33.000 ₫</strong>' in html
    assert html.index('href="/farmer/statements/2026-11/"') < html.index('href="/farmer/statements/2026-10/"')
    # November earned 47,500 − 9,500 = 38,000 and 100,000 went to the bank: two positive sums,
    # never the month's "net" of −62,000 that read as a loss.
    november = _row(html, 'href="/farmer/statements/2026-11/"')
    assert "Tháng 11/2026" in november or "Month 11/2026" in november
    assert _cells(november) == ["38.000 ₫", "100.000 ₫"]
    assert _cells(_row(html, 'href="/farmer/statements/2026-10/"')) == ["95.000 ₫", "0 ₫"]
    table = html[html.rindex("<table", 0, html.index("statement-months")) : html.index("</table>")]
    shown = re.sub(r"<[^>]*>", " ", table)  # what a person reads, not the markup
    assert "62.000" not in shown and "−" not in shown and "-" not in shown
    assert "Số bút toán" not in html and "bút toán" not in html


def test_the_household_statement_page(history, farm, client):
    client.force_login(farm.owner)
    page = client.get("/farmer/statements/2026-11/")
    assert page.status_code == 200
    html = page.content.decode()
    rows = page.context["statement"].entries
    assert len(rows) == 3
    assert history["november"].order.number in html and "VCB 0001" in html and "Đợt 1" in html
    assert _amount(html, "opening") == "95.000 ₫"
    assert _amount(html, "closing") == "33.000 ₫"
    assert "01/11/2026" in html and "30/11/2026" in html  # the month's first and last day
    # Each entry in the household's signs: a sale earns, a refund takes back, a payout is paid.
    sale, payout, refund = (_row(html, f'id="entry{entry.pk}"') for entry in rows)
    assert _cells(sale) == ["50.000 ₫", "−2.500 ₫", "0 ₫", "47.500 ₫"]
    assert _cells(refund) == ["−10.000 ₫", "+500 ₫", "0 ₫", "−9.500 ₫"]
    assert _cells(payout) == ["100.000 ₫"]
    assert "01/11/2026" in sale  # the sale just after midnight is dated in Cần Thơ time
    totals = _row(html, 'id="totals"')
    assert _cells(totals) == ["40.000 ₫", "−2.000 ₫", "0 ₫", "38.000 ₫", "100.000 ₫"]
    assert "orders/statement.css" in html and 'href="?format=csv"' in html  # printable, downloadable


def _row(html: str, marker: str) -> str:
    """The table row holding `marker`."""
    at = html.index(marker)
    return html[html.rindex("<tr", 0, at) : html.index("</tr>", at)]


MONEY_CELL = re.compile(r'<td class="num money"[^>]*>([^<]*)</td>')


def _cells(row: str) -> list[str]:
    """The row's amounts, in order, as shown."""
    return MONEY_CELL.findall(row)


def _amount(html: str, element_id: str) -> str:
    """The amount beside a label of the statement's summary (`<div id=…><dt>…</dt><dd>…</dd>`)."""
    block = html[html.index(f'id="{element_id}"') :]
    return re.search(r'<dd class="amount">([^<]*)</dd>', block).group(1)


@pytest.fixture
def full_month(buyer, farm, staff):
    """March 2026: a sale of fruit (no tax), a sale of processed goods (taxed), a refund on the
    taxed sale and a payout; February carries 0 (nothing before)."""
    fruit = listing(farm, price=100000)
    cake = listing(farm, price=200000, category=PROCESSED, name="Bánh pía")
    with time_machine.travel(at(2026, 3, 2, 8), tick=False):
        first = deliver(buyer, [(fruit, 1)])
    with time_machine.travel(at(2026, 3, 5, 8), tick=False):
        second = deliver(buyer, [(cake, 2)])
    with time_machine.travel(at(2026, 3, 10, 8), tick=False):
        payout = payout_record(farm=farm, amount=250000, reference="ACB 77", by=staff)
    with time_machine.travel(at(2026, 3, 20, 8), tick=False):
        problem = resolved_problem(second, refund=200000)
        refund = ledger_reverse(farm_order=second, key=f"refund:{problem.pk}")
    return {"first": first, "second": second, "payout": payout, "refund": refund}


def test_a_month_with_sales_commission_tax_a_refund_and_a_payout_reads_in_the_households_signs(
    full_month, farm, client
):
    entries = {e.kind + str(e.farm_order_id): e for e in LedgerEntry.objects.filter(farm=farm)}
    taxed = entries[f"sale{full_month['second'].pk}"]
    refund = entries[f"refund{full_month['second'].pk}"]
    assert taxed.tax > 0 and refund.tax < 0  # processed goods are taxed; the refund gives tax back
    sales = 100000 + 400000
    commission = 5000 + taxed.commission + refund.commission
    tax = taxed.tax + refund.tax
    statement = ledger_statement(farm=farm, year=2026, month=3)
    assert statement.summary == {
        "sales": sales,
        "refunds": 200000,
        "commission": commission,
        "tax": tax,
        "earned": sales - 200000 - commission - tax,
        "paid": 250000,
    }
    assert statement.closing_balance == farm_balance(farm) == sales - 200000 - commission - tax - 250000
    assert commission > 0 and tax > 0

    client.force_login(farm.owner)
    html = client.get("/farmer/statements/2026-03/").content.decode()
    assert _amount(html, "sum-sales") == "500.000 ₫"  # sales: positive, no sign
    assert _amount(html, "sum-refunds") == "−200.000 ₫"
    assert _amount(html, "sum-commission") == f"−{format_vnd(commission)}"  # deductions
    assert _amount(html, "sum-tax") == f"−{format_vnd(tax)}"
    assert _amount(html, "sum-paid") == "250.000 ₫"  # paid to the bank: positive, plain label
    assert "Đã chuyển vào tài khoản ngân hàng" in html or "Paid into your bank account" in html
    assert _amount(html, "opening") == "0 ₫"
    assert _amount(html, "closing") == format_vnd(farm_balance(farm))  # what the ledger says
    payout_row = _row(html, f'id="entry{full_month["payout"].pk}"')
    assert _cells(payout_row) == ["250.000 ₫"]
    for shown in (html, payout_row):
        assert "−250.000" not in shown and "-250.000" not in shown  # no minus before a payout
    assert "Số bút toán" not in html and "bút toán" not in html
    # Commission and tax given back by the refund show as additions, not as a double minus.
    assert _cells(_row(html, f'id="entry{refund.pk}"'))[1:3] == [
        f"+{format_vnd(-refund.commission)}",
        f"+{format_vnd(-refund.tax)}",
    ]


def test_the_english_page_speaks_of_earnings_and_payments(history, farm, client):
    client.force_login(farm.owner)
    client.cookies["cho_noi_language"] = "en"
    html = client.get("/farmer/statements/2026-11/").content.decode()
    for label in ("Sales of delivered orders", "Paid into your bank account this month", "Still owed to"):
        assert label in html
    months = client.get("/farmer/statements/").content.decode()
    assert "Month 11/2026" in months and "Entries" not in months and "Net for the month" not in months


class _Unbreakable(HTMLParser):
    """Collect each date, amount and order code with the classes of the elements around it."""

    VALUES = re.compile(r"\d{2}/\d{2}/\d{4}|\d{2}/\d{4}|[−+-]?\d{1,3}(?:\.\d{3})* ₫|CN-\d{4}-\d{4}|VCB 0001")

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, set[str]]] = []
        self.found: list[tuple[str, set[str], list[str]]] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "input", "meta", "link", "hr"):
            return
        self.stack.append((tag, set((dict(attrs).get("class") or "").split())))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        classes = set().union(*(c for _, c in self.stack)) if self.stack else set()
        tags = [t for t, _ in self.stack]
        for value in self.VALUES.findall(data):
            self.found.append((value, classes, tags))


#: Classes whose elements site.css or statement.css keep on one line (white-space: nowrap).
NOWRAP = {"nowrap", "money", "amount"}


def _nowrap_rules_exist():
    site = (settings.BASE_DIR / "marketplace/static/css/site.css").read_text()
    statement = (settings.BASE_DIR / "orders/static/orders/statement.css").read_text()
    assert "th, td { overflow-wrap: normal; word-break: keep-all; }" in site
    assert "td.num, td.money, .nowrap { white-space: nowrap; }" in site
    assert ".money { white-space: nowrap; }" in site
    assert re.search(r"\.sums dd \{[^}]*white-space: nowrap", statement)
    assert ".statement h1 { overflow-wrap: normal; }" in statement


@pytest.mark.parametrize("url", ["/farmer/statements/", "/farmer/statements/2026-11/"])
def test_every_date_amount_and_code_is_in_an_element_that_never_breaks(history, farm, client, url):
    _nowrap_rules_exist()
    client.force_login(farm.owner)
    parser = _Unbreakable()
    parser.feed(client.get(url).content.decode())
    values = [value for value, _, _ in parser.found]
    assert values, url
    for value, classes, tags in parser.found:
        if "print-only" in classes or "title" in tags:
            continue
        if tags[-1:] == ["h1"] and "statement" in classes:
            continue  # statement.css: `.statement h1 { overflow-wrap: normal; }`
        assert classes & NOWRAP, (url, value, classes)
    if url.endswith("2026-11/"):
        assert {"01/11/2026", "15/11/2026", "20/11/2026", "30/11/2026"} <= set(values)
    else:
        assert {"11/2026", "10/2026"} <= set(values)


def test_deductions_and_signed_amounts_print_their_true_sign():
    assert deduction(2000) == "−2.000 ₫" and deduction(-500) == "+500 ₫" and deduction(0) == "0 ₫"
    assert signed_vnd(-9500) == "−9.500 ₫" and signed_vnd(9500) == "9.500 ₫" and signed_vnd(0) == "0 ₫"
    assert paid_vnd(-100000) == "100.000 ₫"


def test_the_statement_downloads_as_csv(history, farm, client):
    client.force_login(farm.owner)
    response = client.get("/farmer/statements/2026-11/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="sao-ke-{farm.pk}-2026-11.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    number = history["november"].order.number
    assert len(rows[0]) == 9
    assert rows[1][:2] + rows[1][3:] == ["", "", "", "", "", "95000", "", ""]  # opening balance
    assert [row[:2] + row[3:9] for row in rows[2:5]] == [
        ["2026-11-01", number, "50000", "2500", "0", "47500", "", ""],
        ["2026-11-15", "", "0", "0", "0", "-100000", "VCB 0001", "Đợt 1"],
        ["2026-11-20", number, "-10000", "-500", "0", "-9500", "", ""],
    ]
    assert rows[5][3:7] == ["40000", "2000", "0", "-62000"]
    assert rows[6][6] == "33000"
    assert len(rows) == 7


def test_another_month_is_its_own_statement(history, farm, client):
    client.force_login(farm.owner)
    page = client.get("/farmer/statements/2026-10/")
    assert page.status_code == 200
    assert [e.pk for e in page.context["statement"].entries] == [
        LedgerEntry.objects.get(farm_order=history["october"]).pk
    ]
    assert client.get("/farmer/statements/2026-13/").status_code == 404
    assert client.get("/farmer/statements/26-11/").status_code == 404


def test_a_household_sees_only_its_own_ledger(history, farm, other_farm, client):
    client.force_login(other_farm.owner)
    own = client.get("/farmer/statements/2026-11/")
    assert own.status_code == 200
    assert own.context["farm"] == other_farm and own.context["statement"].entries == []
    assert history["november"].order.number not in own.content.decode()
    # Another household's statement by id is not found, as is the staff's list of it.
    assert client.get(f"/staff/statements/{farm.pk}/2026-11/").status_code == 404
    assert client.get(f"/staff/statements/{farm.pk}/").status_code == 404
    assert client.get(f"/staff/statements/{other_farm.pk}/2026-11/").status_code == 404  # even its own


@pytest.mark.parametrize("role", [Role.BUYER, Role.COURIER, Role.OFFICIAL])
def test_other_roles_find_no_statement(history, make_user, client, farm, role):
    client.force_login(make_user(role))
    assert client.get("/farmer/statements/").status_code == 404
    assert client.get("/farmer/statements/2026-11/").status_code == 404
    assert client.get(f"/staff/statements/{farm.pk}/2026-11/").status_code == 404


def test_anonymous_visitors_log_in_first(client, farm, settings):
    for url in (
        "/farmer/statements/",
        "/farmer/statements/2026-11/",
        f"/staff/statements/{farm.pk}/2026-11/",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse(settings.LOGIN_URL)}?next={url}"


def test_staff_read_any_household_statement(history, farm, staff, client):
    client.force_login(staff)
    page = client.get(f"/staff/statements/{farm.pk}/2026-11/")
    assert page.status_code == 200
    assert page.context["statement"].closing_balance == 33000
    assert history["november"].order.number in page.content.decode()
    months = client.get(f"/staff/statements/{farm.pk}/")
    assert f'href="/staff/statements/{farm.pk}/2026-10/"' in months.content.decode()
    csv_file = client.get(f"/staff/statements/{farm.pk}/2026-11/", {"format": "csv"})
    assert csv_file["Content-Type"] == "text/csv; charset=utf-8"
    assert client.get("/staff/statements/999999/2026-11/").status_code == 404
    assert client.get("/farmer/statements/").status_code == 404  # staff have no household of their own
    # The admin links each entry to its statement.
    admin = client.get("/admin/orders/ledgerentry/", {"farm__id__exact": farm.pk})
    assert f'href="/staff/statements/{farm.pk}/2026-11/"' in admin.content.decode()


# --- API -------------------------------------------------------------------------------------


def test_the_household_reads_its_ledger_by_month(history, farm, api_as):
    response = api_as(farm.owner).get(LEDGER, {"month": "2026-11"})
    assert response.status_code == 200
    data = response.json()
    assert data["farm"] == {"id": farm.pk, "name": farm.name}
    assert (data["month"], data["opening_balance"], data["closing_balance"]) == ("2026-11", 95000, 33000)
    assert data["totals"] == {"gross": 40000, "commission": 2000, "tax": 0, "net": -62000}
    number = history["november"].order.number
    assert [
        (r["kind"], r["farm_order"], r["order_number"], r["gross"], r["commission"], r["tax"], r["net"])
        for r in data["results"]
    ] == [
        ("sale", history["november"].pk, number, 50000, 2500, 0, 47500),
        ("payout", None, None, 0, 0, 0, -100000),
        ("refund", history["november"].pk, number, -10000, -500, 0, -9500),
    ]
    assert data["results"][1]["reference"] == "VCB 0001"
    assert data["results"][0]["at"] == "2026-11-01T00:30:00+07:00"
    assert api_as(farm.owner).get(LEDGER, {"month": "2026-11", "farm": farm.pk}).status_code == 200


def test_without_a_month_the_ledger_is_this_month(history, farm, api_as):
    with time_machine.travel(at(2026, 12, 3, 8), tick=False):
        data = api_as(farm.owner).get(LEDGER).json()
    assert (data["month"], data["opening_balance"], data["results"], data["closing_balance"]) == (
        "2026-12",
        33000,
        [],
        33000,
    )


def test_ledger_api_answers_bad_input_with_field_errors(farm, staff, api_as):
    for month in ("2026-13", "2026-1", "11-2026", "abc"):
        response = api_as(farm.owner).get(LEDGER, {"month": month})
        assert response.status_code == 400 and list(response.json()) == ["month"]
    staff_without_farm = api_as(staff).get(LEDGER, {"month": "2026-11"})
    assert staff_without_farm.status_code == 400 and list(staff_without_farm.json()) == ["farm"]
    not_an_id = api_as(staff).get(LEDGER, {"farm": "x"})
    assert not_an_id.status_code == 400 and list(not_an_id.json()) == ["farm"]


def test_ledger_api_permissions(history, farm, other_farm, staff, make_user, api, api_as):
    assert api.get(LEDGER).status_code == 401
    buyer = api_as(make_user(Role.BUYER)).get(LEDGER)
    assert buyer.status_code == 403 and buyer.json()["code"] == "permission_denied"
    other = api_as(other_farm.owner).get(LEDGER, {"month": "2026-11", "farm": farm.pk})
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert "closing_balance" not in other.json()
    own = api_as(other_farm.owner).get(LEDGER, {"month": "2026-11"}).json()
    assert (own["farm"]["id"], own["results"], own["closing_balance"]) == (other_farm.pk, [], 0)
    by_staff = api_as(staff).get(LEDGER, {"month": "2026-11", "farm": farm.pk})
    assert by_staff.status_code == 200 and by_staff.json()["closing_balance"] == 33000
    assert api_as(staff).get(LEDGER, {"month": "2026-11", "farm": 999999}).status_code == 404


def test_the_schema_documents_the_ledger_and_payouts(api):
    schema = api.get("/api/schema/?format=json").json()
    ledger = schema["paths"]["/api/v1/ledger/"]["get"]
    assert {p["name"] for p in ledger["parameters"]} >= {"month", "farm"}
    assert set(ledger["responses"]) == {"200", "400", "401", "403", "404"}
    payouts = schema["paths"]["/api/v1/payouts/"]["post"]
    # 404: an unknown household in the body, like `?farm=`; 413: a JSON body too large.
    assert set(payouts["responses"]) == {"201", "400", "401", "403", "404", "409", "413", "415"}
    statement = schema["components"]["schemas"]["LedgerStatement"]["properties"]
    assert set(statement) == {"farm", "month", "opening_balance", "closing_balance", "totals", "results"}


# --- Query counts do not grow with the entries ------------------------------------------------


def _more_entries(part, count: int) -> None:
    """Add refund and payout entries to a delivered part's household (amounts add up)."""
    for index in range(count):
        if index % 2:
            LedgerEntry.objects.create(
                farm_id=part.farm_id, kind="payout", key=f"payout:t{index}", net=-1, reference=f"R{index}"
            )
        else:
            LedgerEntry.objects.create(
                farm_id=part.farm_id,
                farm_order=part,
                kind="refund",
                key=f"refund:t{index}",
                gross=-100,
                commission=-5,
                tax=0,
                net=-95,
            )


def _count(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


# Session, user, household, opening balance, entries with their order numbers; the layout's cart
# badge and unread notices. The list of months: one query for the months instead of the last two.
STATEMENT_QUERIES = 7
MONTHS_QUERIES = 6
LEDGER_API_QUERIES = 4  # token and user + household + opening balance + entries with order numbers


def test_statement_page_and_api_queries_do_not_grow(buyer, farm, client, api_as, django_assert_num_queries):
    part = deliver(buyer, [(listing(farm, price=100000), 1)])
    month = LedgerEntry.objects.get().at.astimezone(CAN_THO).strftime("%Y-%m")
    client.force_login(farm.owner)
    api = api_as(farm.owner)
    page, csv_url, months = (
        f"/farmer/statements/{month}/",
        f"/farmer/statements/{month}/",
        "/farmer/statements/",
    )
    one = (_count(client, page), _count(client, csv_url, format="csv"), _count(client, months))
    with django_assert_num_queries(LEDGER_API_QUERIES):
        assert len(api.get(LEDGER, {"month": month}).json()["results"]) == 1
    _more_entries(part, 30)
    many = (_count(client, page), _count(client, csv_url, format="csv"), _count(client, months))
    assert one == many
    assert one == (STATEMENT_QUERIES, STATEMENT_QUERIES - 2, MONTHS_QUERIES)  # CSV: no layout
    with django_assert_num_queries(LEDGER_API_QUERIES):
        assert len(api.get(LEDGER, {"month": month}).json()["results"]) == 31


def test_typed_text_in_the_csv_is_never_a_formula(buyer, farm, staff, client):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    payout_record(farm=farm, amount=1000, reference="=HYPERLINK(1)", note="+84 912", by=staff)
    month = LedgerEntry.objects.get(kind="payout").at.astimezone(CAN_THO).strftime("%Y-%m")
    client.force_login(farm.owner)
    text = client.get(f"/farmer/statements/{month}/", {"format": "csv"}).content.decode("utf-8")
    payout_row = next(row for row in csv.reader(io.StringIO(text[1:])) if row[6] == "-1000")
    assert payout_row[7:] == ["'=HYPERLINK(1)", "'+84 912"]


@pytest.mark.parametrize("month", ["0000-01", "0001-01", "1999-12", "3000-01", "9999-12"])
def test_a_month_out_of_the_books_range_is_a_field_error_or_not_found(month, farm, api_as, client):
    answer = api_as(farm.owner).get(LEDGER, {"month": month})
    assert answer.status_code == 400 and list(answer.json()) == ["month"]
    client.force_login(farm.owner)
    assert client.get(f"/farmer/statements/{month}/").status_code == 404
    assert client.get(f"/farmer/statements/{month}/?format=csv").status_code == 404
