"""The settlement ledger: figures per delivered part, booking once, refunds, payouts (issue #7)."""

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from orders.models import LedgerEntry
from orders.services.ledger import (
    farm_balance,
    farm_order_settle,
    ledger_reverse,
    payout_record,
    settlement_figures,
)

from .factories import place
from .ledger_helpers import PROCESSED, deliver, household, listing, resolved_problem, staff_user

pytestmark = pytest.mark.django_db

PAYOUTS = "/api/v1/payouts/"


@pytest.fixture
def farm(make_user):
    return household(make_user)


@pytest.fixture
def staff(make_user):
    return staff_user(make_user)


def booked(part) -> dict[str, int]:
    sums = LedgerEntry.objects.filter(farm_order=part).aggregate(
        gross=Sum("gross"), commission=Sum("commission"), tax=Sum("tax"), net=Sum("net")
    )
    return {name: value or 0 for name, value in sums.items()}


def processed(farm, price):
    return listing(farm, price=price, category=PROCESSED, unit="hop", unit_weight_kg="0.5")


# --- Figures: half-up to the đồng per household order ---------------------------------------


@pytest.mark.parametrize(
    ("percent", "price", "commission"),
    [
        ("5", 10010, 501),  # 500.5: exactly half goes up (banker's rounding would give 500)
        ("5", 10009, 500),  # 500.45
        ("1", 1049, 10),  # 10.49 goes down
        ("1", 1050, 11),  # 10.5 goes up (banker's rounding would give 10)
    ],
)
def test_commission_rounds_half_up_to_the_dong(settings, buyer, farm, percent, price, commission):
    settings.COMMISSION_PERCENT = percent
    part = deliver(buyer, [(listing(farm, price=price), 1)])
    entry = LedgerEntry.objects.get(farm_order=part)
    assert (entry.kind, entry.key) == ("sale", f"sale:{part.pk}")
    assert (entry.gross, entry.commission, entry.tax) == (price, commission, 0)
    assert entry.net == price - commission


@pytest.mark.parametrize(("price", "tax"), [(1100, 17), (1099, 16)])  # 16.5 up, 16.485 down
def test_tax_on_processed_goods_rounds_half_up(buyer, farm, price, tax):
    part = deliver(buyer, [(processed(farm, price), 1)])
    entry = LedgerEntry.objects.get(farm_order=part)
    assert (entry.gross, entry.commission, entry.tax) == (price, 55, tax)  # 55.0 and 54.95 → 55
    assert entry.net == price - 55 - tax


def test_a_mixed_part_is_taxed_on_its_processed_lines_only(buyer, farm):
    fruit = listing(farm, price=45000)
    sweets = processed(farm, 120010)
    part = deliver(buyer, [(fruit, 2), (sweets, 1)])
    entry = LedgerEntry.objects.get(farm_order=part)
    # Commission on the whole part (10,500.5 → 10,501); tax on the 120,010 of sweets (1,800.15 → 1,800).
    assert (entry.gross, entry.commission, entry.tax, entry.net) == (210010, 10501, 1800, 197709)
    assert settlement_figures(part) == {"gross": 210010, "commission": 10501, "tax": 1800, "net": 197709}


def test_own_unprocessed_produce_is_exempt_from_tax(buyer, farm):
    part = deliver(buyer, [(listing(farm, price=48000), 3), (listing(farm, price=30000), 2)])
    entry = LedgerEntry.objects.get(farm_order=part)
    assert (entry.gross, entry.commission, entry.tax, entry.net) == (204000, 10200, 0, 193800)


def test_rates_are_settings(settings, buyer, farm):
    settings.COMMISSION_PERCENT = "8"
    settings.TAX_WITHHELD_PERCENT = "2"
    part = deliver(buyer, [(processed(farm, 50000), 1)])
    entry = LedgerEntry.objects.get(farm_order=part)
    assert (entry.commission, entry.tax, entry.net) == (4000, 1000, 45000)


# --- Booking once --------------------------------------------------------------------------------


def test_delivery_books_the_sale_after_commit(buyer, farm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        part = deliver(buyer, [(listing(farm, price=20000), 1)], settle=False)
    assert list(LedgerEntry.objects.filter(farm_order=part).values_list("key", "net")) == [
        (f"sale:{part.pk}", 19000)
    ]


def test_settling_twice_books_once(buyer, farm):
    part = deliver(buyer, [(listing(farm, price=20000), 1)])
    first = LedgerEntry.objects.get(farm_order=part)
    again = farm_order_settle(farm_order=part)
    assert again.pk == first.pk
    assert LedgerEntry.objects.filter(farm_order=part).count() == 1
    assert farm_balance(farm) == 19000


def test_the_sweep_books_a_delivered_part_whose_task_never_ran(buyer, farm):
    from orders.tasks import settle_missed_farm_orders

    # Delivered outside captured commits: the settlement task was never enqueued (a broker outage).
    part = deliver(buyer, [(listing(farm, price=20000), 1)], settle=False)
    other = deliver(buyer, [(listing(farm, price=30000), 1)])  # settled by its task already
    assert not LedgerEntry.objects.filter(farm_order=part).exists()
    assert settle_missed_farm_orders.delay().get() == 1
    assert list(LedgerEntry.objects.filter(farm_order=part).values_list("key", "net")) == [
        (f"sale:{part.pk}", 19000)
    ]
    assert settle_missed_farm_orders.delay().get() == 0  # twice: nothing more
    assert LedgerEntry.objects.filter(farm_order=other).count() == 1


def test_a_part_not_delivered_books_nothing(buyer, farm):
    order = place(buyer, [(listing(farm, price=20000), 1)])
    part = order.farm_orders.get()
    assert farm_order_settle(farm_order=part) is None
    assert not LedgerEntry.objects.exists()


# --- Refunds: entries always add up to the rule -------------------------------------------------


def test_a_refund_after_the_sale_is_booked_reverses_the_difference(buyer, farm):
    fruit = listing(farm, price=45000)
    sweets = processed(farm, 120010)
    part = deliver(buyer, [(fruit, 2), (sweets, 1)])
    sweets_line = part.lines.get(product=sweets)
    problem = resolved_problem(part, line=sweets_line, refund=20005)
    entry = ledger_reverse(farm_order=part, key=f"refund:{problem.pk}", note="Hộp bị móp")
    # Gross 190,005: commission 9,500.25 → 9,500; tax on 100,005: 1,500.075 → 1,500.
    assert settlement_figures(part) == {"gross": 190005, "commission": 9500, "tax": 1500, "net": 179005}
    assert (entry.kind, entry.gross, entry.commission, entry.tax, entry.net) == (
        "refund",
        -20005,
        -1001,
        -300,
        -18704,
    )
    assert booked(part) == settlement_figures(part)
    # The same refund again books nothing more.
    assert ledger_reverse(farm_order=part, key=f"refund:{problem.pk}").pk == entry.pk
    assert LedgerEntry.objects.filter(farm_order=part).count() == 2
    assert farm_balance(farm) == 179005


def test_a_refund_before_the_sale_is_booked_is_netted_in_the_sale(buyer, farm):
    fruit = listing(farm, price=45000)
    sweets = processed(farm, 120010)
    part = deliver(buyer, [(fruit, 2), (sweets, 1)], settle=False)
    problem = resolved_problem(part, line=part.lines.get(product=sweets), refund=20005)
    assert ledger_reverse(farm_order=part, key=f"refund:{problem.pk}") is None  # nothing to reverse yet
    sale = farm_order_settle(farm_order=part)
    assert (sale.gross, sale.commission, sale.tax, sale.net) == (190005, 9500, 1500, 179005)
    assert booked(part) == settlement_figures(part)
    assert list(LedgerEntry.objects.values_list("kind", flat=True)) == ["sale"]


def test_refunds_in_either_order_end_with_the_same_entries_total(buyer, make_user):
    """Two households, the same part and refund; one booked before the refund, one after."""
    totals = []
    for settle_first in (True, False):
        farm = household(make_user, name=f"Hộ {settle_first}")
        fruit = listing(farm, price=33333)
        part = deliver(buyer, [(fruit, 3)], settle=settle_first)
        problem = resolved_problem(part, refund=33333)
        ledger_reverse(farm_order=part, key=f"refund:{problem.pk}")
        farm_order_settle(farm_order=part)
        totals.append(booked(part))
        assert booked(part) == settlement_figures(part)
    assert totals[0] == totals[1] == {"gross": 66666, "commission": 3333, "tax": 0, "net": 63333}


# --- Payouts -----------------------------------------------------------------------------------


def test_a_payout_takes_the_balance_down(buyer, farm, staff):
    deliver(buyer, [(listing(farm, price=100000), 1)])  # net 95,000
    entry = payout_record(farm=farm, amount=60000, reference=" VCB 123456 ", by=staff, note="Tháng 11")
    assert (entry.kind, entry.gross, entry.commission, entry.tax, entry.net) == ("payout", 0, 0, 0, -60000)
    assert (entry.reference, entry.note, entry.by) == ("VCB 123456", "Tháng 11", staff)
    assert entry.key.startswith("payout:") and len(entry.key) > len("payout:")
    assert farm_balance(farm) == 35000
    # The whole balance may be paid out, not a đồng more.
    payout_record(farm=farm, amount=35000, reference="VCB 123457", by=staff)
    assert farm_balance(farm) == 0


def test_a_payout_over_the_balance_is_refused_and_writes_nothing(buyer, farm, staff):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    with pytest.raises(Conflict) as refused:
        payout_record(farm=farm, amount=95001, reference="VCB 1", by=staff)
    assert refused.value.code == "over_balance"
    assert refused.value.extra == {"balance": 95000}
    assert not LedgerEntry.objects.filter(kind="payout").exists()
    assert farm_balance(farm) == 95000


@pytest.mark.parametrize(
    ("amount", "reference", "field"),
    [
        (50000, "", "reference"),
        (50000, "   ", "reference"),
        (50000, "x" * 65, "reference"),
        (0, "VCB 1", "amount"),
        (-5, "VCB 1", "amount"),
        (1.5, "VCB 1", "amount"),
    ],
)
def test_a_payout_needs_a_reference_and_a_positive_whole_amount(buyer, farm, staff, amount, reference, field):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    with pytest.raises(ValidationError) as invalid:
        payout_record(farm=farm, amount=amount, reference=reference, by=staff)
    assert list(invalid.value.message_dict) == [field]
    assert not LedgerEntry.objects.filter(kind="payout").exists()


def test_an_idempotency_key_records_one_payout(buyer, farm, staff):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    first = payout_record(farm=farm, amount=90000, reference="VCB 9", by=staff, idempotency_key="abc")
    again = payout_record(farm=farm, amount=90000, reference="VCB 9", by=staff, idempotency_key="abc")
    assert again.pk == first.pk and first.key == "payout:abc"
    assert farm_balance(farm) == 5000  # not refused as over the balance, not paid twice
    with pytest.raises(Conflict) as reused:
        payout_record(farm=farm, amount=1000, reference="VCB 10", by=staff, idempotency_key="abc")
    assert reused.value.code == "idempotency_key_reused"
    assert LedgerEntry.objects.filter(kind="payout").count() == 1


# --- Payouts through the API and the admin ----------------------------------------------------


def test_staff_record_a_payout_through_the_api(buyer, farm, staff, api_as):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    client = api_as(staff)
    body = {"farm": farm.pk, "amount": 40000, "reference": "ACB 777", "note": "Đợt 1"}
    response = client.post(PAYOUTS, body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert {k: data[k] for k in ("farm", "kind", "amount", "net", "reference", "note", "balance")} == {
        "farm": farm.pk,
        "kind": "payout",
        "amount": 40000,
        "net": -40000,
        "reference": "ACB 777",
        "note": "Đợt 1",
        "balance": 55000,
    }
    # The same Idempotency-Key twice: one payout.
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-1"}
    one = client.post(PAYOUTS, {**body, "amount": 5000}, format="json", **headers)
    two = client.post(PAYOUTS, {**body, "amount": 5000}, format="json", **headers)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["id"] == two.json()["id"]
    assert farm_balance(farm) == 50000


def test_the_payout_api_answers_409_over_the_balance_and_writes_nothing(buyer, farm, staff, api_as):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    response = api_as(staff).post(
        PAYOUTS, {"farm": farm.pk, "amount": 95001, "reference": "ACB 1"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "over_balance" and response.json()["balance"] == 95000
    assert response.json()["detail"]
    assert not LedgerEntry.objects.filter(kind="payout").exists()


def test_the_payout_api_answers_field_errors(buyer, farm, staff, api_as):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    client = api_as(staff)
    blank = client.post(PAYOUTS, {"farm": farm.pk, "amount": 1000, "reference": ""}, format="json")
    assert blank.status_code == 400 and list(blank.json()) == ["reference"]
    missing = client.post(PAYOUTS, {"farm": farm.pk, "amount": 1000}, format="json")
    assert missing.status_code == 400 and list(missing.json()) == ["reference"]
    zero = client.post(PAYOUTS, {"farm": farm.pk, "amount": 0, "reference": "A"}, format="json")
    assert zero.status_code == 400 and list(zero.json()) == ["amount"]
    nobody = client.post(PAYOUTS, {"farm": 999999, "amount": 10, "reference": "A"}, format="json")
    # An id in the body names an object like one in the URL or `?farm=`: none is a 404.
    assert nobody.status_code == 404 and nobody.json()["code"] == "not_found"
    assert not LedgerEntry.objects.filter(kind="payout").exists()


@pytest.mark.parametrize("role", [Role.FARMER, Role.BUYER, Role.COURIER, Role.OFFICIAL])
def test_only_staff_record_payouts(buyer, farm, make_user, api_as, role):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    user = farm.owner if role == Role.FARMER else make_user(role)
    response = api_as(user).post(PAYOUTS, {"farm": farm.pk, "amount": 1000, "reference": "A"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not LedgerEntry.objects.filter(kind="payout").exists()


def test_anonymous_payouts_are_401(api, farm):
    response = api.post(PAYOUTS, {"farm": farm.pk, "amount": 1000, "reference": "A"}, format="json")
    assert response.status_code == 401


def test_staff_record_a_payout_in_the_admin(buyer, farm, staff, client):
    deliver(buyer, [(listing(farm, price=100000), 1)])
    client.force_login(staff)
    url = "/admin/orders/ledgerentry/payout/"
    page = client.get(url, {"farm": farm.pk})
    assert page.status_code == 200
    assert f'<option value="{farm.pk}" selected>' in page.content.decode()
    key = page.context["form"]["idempotency_key"].value()
    form = {"farm": farm.pk, "amount": "95.001", "reference": "VCB 5", "note": "", "idempotency_key": key}
    over = client.post(url, form)
    assert over.status_code == 400 and over.context["form"].errors["amount"]
    assert not LedgerEntry.objects.filter(kind="payout").exists()
    done = client.post(url, {**form, "amount": "50.000"})  # typed the Vietnamese way
    assert done.status_code == 302
    assert done["Location"] == f"/admin/orders/ledgerentry/?farm__id__exact={farm.pk}"
    # Sending the same form again (back button, double click) records nothing more.
    client.post(url, {**form, "amount": "50.000"})
    payout = LedgerEntry.objects.get(kind="payout")
    assert (payout.net, payout.reference, payout.by) == (-50000, "VCB 5", staff)
    blank = client.post(url, {**form, "reference": "", "idempotency_key": "other"})
    assert blank.status_code == 400 and blank.context["form"].errors["reference"]
    assert LedgerEntry.objects.filter(kind="payout").count() == 1


def test_the_ledger_admin_is_read_only_and_lists_entries(buyer, farm, staff, client):
    part = deliver(buyer, [(listing(farm, price=100000), 1)])
    client.force_login(staff)
    listing_page = client.get("/admin/orders/ledgerentry/", {"q": f"sale:{part.pk}"})
    assert listing_page.status_code == 200
    html = listing_page.content.decode()
    assert part.order.number in html and "/admin/orders/ledgerentry/payout/" in html
    entry = LedgerEntry.objects.get()
    assert client.get(f"/admin/orders/ledgerentry/{entry.pk}/change/").status_code == 200
    assert client.post(f"/admin/orders/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/orders/ledgerentry/add/").status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_the_admin_payout_page_is_for_staff_only(farm, make_user, client):
    client.force_login(farm.owner)
    response = client.get("/admin/orders/ledgerentry/payout/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
