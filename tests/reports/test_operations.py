"""Fulfilment and registration facts (issue #8): known numbers built through the real services.

The clock moves with `time_machine` through a week of November 2026 (Cần Thơ time, UTC+7);
2 November is a Monday.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farms import services as farm_services
from farms.models import Farm
from logistics.services import shipment_step
from marketplace.accounts.models import Role
from marketplace.reports.models import FulfilmentFact, RegistrationFact
from marketplace.reports.operations import fulfilment_rebuild, registrations_rebuild
from marketplace.reports.tasks import reconcile_recent_days
from orders import services
from orders.services.fulfilment import farm_orders_sweep_deadlines
from tests.farms.factories import make_farm, make_product, ward
from tests.orders.factories import place

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MON, TUE, WED = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)
FULFILMENT = "/api/v1/stats/fulfilment/"
REGISTRATIONS = "/api/v1/stats/registrations/"


def at(day: date, hour: int, minute: int = 0):
    return time_machine.travel(datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE), tick=False)


def cells(model) -> list[tuple]:
    fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
    return sorted(model.objects.values_list(*fields))


def official(make_user, *wards):
    if not wards:
        return make_user(Role.OFFICIAL)  # city-wide
    return make_user(Role.OFFICIAL, city_wide=False, wards=list(wards))


# --- Fulfilment -------------------------------------------------------------------------------


def _part(order, farm):
    return order.farm_orders.get(farm=farm)


def _ready(part):
    services.farm_order_accept(farm_order=part, by=part.farm.owner)
    services.farm_order_ready(farm_order=part, by=part.farm.owner)


def _step(part, kind, **fields):
    part.refresh_from_db()
    shipment = part.shipment
    if kind == "delivered":
        shipment.refresh_from_db()
        fields.setdefault("cash_collected", shipment.cash_to_collect)
    shipment_step(shipment=shipment, type=kind, **fields)


@pytest.fixture
def fulfilment_world(make_user, django_capture_on_commit_callbacks, settings):
    """Seven parts placed on Monday, one just after midnight on Wednesday (ward 0: F0, ward 1: F1).

    ward 0: A0 delivered after 30 h (in time), B0 delivered after 46 h but past the asked date
    (late), D0 unanswered (cancelled by the sweep); G0 (Wednesday 00:30) still new.
    ward 1: A1 failed once, delivered after 60 h with no date asked (late), C1 delivered after
    81 h within the asked date (in time), D1 rejected, E1 failed then returned.
    """
    settings.DELIVERY_LATE_HOURS = 48
    settings.FARM_ORDER_ANSWER_HOURS = 12
    with django_capture_on_commit_callbacks(execute=True):
        with at(date(2026, 11, 1), 8):
            f0 = make_farm(make_user, name="Hộ phường 0", ward_index=0)
            f1 = make_farm(make_user, name="Hộ phường 1", ward_index=1)
            p0 = make_product(f0, status="active", stock="100", price=10000)
            p1 = make_product(f1, status="active", stock="100", price=20000)
            buyer = make_user(Role.BUYER)
        with at(MON, 9):
            a = place(buyer, [(p0, 1), (p1, 1)])
            _ready(_part(a, f0))
            _ready(_part(a, f1))
        with at(MON, 10):
            b = place(buyer, [(p0, 2)], delivery_date=TUE)
            _ready(_part(b, f0))
        with at(MON, 11):
            c = place(buyer, [(p1, 2)], delivery_date=date(2026, 11, 5))
            _ready(_part(c, f1))
        with at(MON, 12):
            d = place(buyer, [(p0, 1), (p1, 1)])
            part = _part(d, f1)
            services.farm_order_reject(farm_order=part, by=f1.owner, reason="Hết hàng")
        with at(MON, 13):
            e = place(buyer, [(p1, 1)])
            _ready(_part(e, f1))
            _step(_part(e, f1), "picked_up")
        with at(MON, 14):
            _step(_part(e, f1), "failed_attempt", note="Không có ai ở nhà")
            _step(_part(e, f1), "returned")
        with at(TUE, 1):
            assert farm_orders_sweep_deadlines() == (0, 1)  # D0: released Monday 12:00
        with at(TUE, 8):
            for part in (_part(a, f0), _part(b, f0), _part(a, f1), _part(c, f1)):
                _step(part, "picked_up")
        with at(TUE, 15):
            _step(_part(a, f0), "delivered")  # 30 h after the order
        with at(WED, 0, 30):
            place(buyer, [(p0, 1)])  # G0: Wednesday in Cần Thơ, still Tuesday in UTC
        with at(WED, 8):
            _step(_part(b, f0), "delivered")  # 46 h, but the buyer asked for Tuesday
        with at(WED, 10):
            _step(_part(a, f1), "failed_attempt", note="Sai địa chỉ")
            _step(_part(a, f1), "in_transit")
        with at(WED, 21):
            _step(_part(a, f1), "delivered")  # 60 h, no date asked
        with at(date(2026, 11, 5), 20):
            _step(_part(c, f1), "delivered")  # 81 h, on the asked day
    return {"w0": ward(0).pk, "w1": ward(1).pk, "f0": f0, "f1": f1}


def _fact(day, ward_code) -> dict:
    fact = FulfilmentFact.objects.get(day=day, ward_id=ward_code)
    fields = ("parts", "delivered", "lead_seconds", "lead_count", "late", "failed", "returned")
    return {name: getattr(fact, name) for name in (*fields, "cancelled", "unanswered")}


HOUR = 3600
WARD0_MON = {
    "parts": 3,
    "delivered": 2,
    "lead_seconds": (30 + 46) * HOUR,
    "lead_count": 2,
    "late": 1,
    "failed": 0,
    "returned": 0,
    "cancelled": 1,
    "unanswered": 1,
}
WARD1_MON = {
    "parts": 4,
    "delivered": 2,
    "lead_seconds": (60 + 81) * HOUR,
    "lead_count": 2,
    "late": 1,
    "failed": 2,
    "returned": 1,
    "cancelled": 1,
    "unanswered": 0,
}


def test_order_events_refresh_the_fulfilment_facts_with_known_numbers(fulfilment_world):
    w0, w1 = fulfilment_world["w0"], fulfilment_world["w1"]
    # Built by the `reports.refresh_order` task after each order event, no rebuild run.
    assert _fact(MON, w0) == WARD0_MON
    assert _fact(MON, w1) == WARD1_MON
    assert _fact(WED, w0) == {**dict.fromkeys(WARD0_MON, 0), "parts": 1}
    assert FulfilmentFact.objects.count() == 3


def test_a_rebuild_gives_the_refreshed_rows_and_the_same_rows_twice(fulfilment_world):
    refreshed = cells(FulfilmentFact)
    assert fulfilment_rebuild(first=date(2026, 10, 30), last=date(2026, 11, 6)) == 3
    assert cells(FulfilmentFact) == refreshed
    assert fulfilment_rebuild(first=date(2026, 10, 30), last=date(2026, 11, 6)) == 3
    assert cells(FulfilmentFact) == refreshed
    # A range rebuilds only its own days.
    assert fulfilment_rebuild(first=WED, last=WED) == 1
    assert cells(FulfilmentFact) == refreshed


def test_the_late_rule_follows_the_setting_when_no_date_was_asked(fulfilment_world, settings):
    w0, w1 = fulfilment_world["w0"], fulfilment_world["w1"]
    settings.DELIVERY_LATE_HOURS = 72  # A1 (60 h) is now in time; B0 stays late: its date rules
    fulfilment_rebuild(first=MON, last=MON)
    assert (_fact(MON, w0)["late"], _fact(MON, w1)["late"]) == (1, 0)
    settings.DELIVERY_LATE_HOURS = 24  # A0 (30 h) and A1 late; C1 (81 h) kept its asked date
    fulfilment_rebuild(first=MON, last=MON)
    assert (_fact(MON, w0)["late"], _fact(MON, w1)["late"]) == (2, 1)


def test_the_fulfilment_api_answers_from_the_facts(fulfilment_world, make_user, api_as):
    w0, w1 = fulfilment_world["w0"], fulfilment_world["w1"]
    client = api_as(official(make_user))
    params = {"from": "2026-11-02", "to": "2026-11-08", "group_by": "day"}
    with CaptureQueriesContext(connection) as queries:
        data = client.get(FULFILMENT, params).json()
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "orders_" not in sql and "farms_farm" not in sql  # facts only
    assert (data["from"], data["to"], data["group_by"]) == ("2026-11-02", "2026-11-08", "day")
    assert data["totals"] == {
        "parts": 8,
        "delivered": 4,
        "fulfilment_rate": "50.0",
        "lead_time_hours": "54.3",  # (30 + 46 + 60 + 81) / 4 = 54.25
        "late": 2,
        "failed": 2,
        "returned": 1,
        "cancelled": 2,
        "unanswered": 1,
    }
    assert [(r["key"], r["label"], r["parts"], r["delivered"]) for r in data["rows"]] == [
        ("2026-11-02", "02/11/2026", 7, 4),
        ("2026-11-04", "04/11/2026", 1, 0),
    ]
    assert data["rows"][1]["fulfilment_rate"] == "0.0" and data["rows"][1]["lead_time_hours"] is None
    by_ward = client.get(FULFILMENT, {**params, "group_by": "ward"}).json()["rows"]
    assert [(r["key"], r["parts"], r["lead_time_hours"], r["late"]) for r in by_ward] == [
        (w0, 4, "38.0", 1),
        (w1, 4, "70.5", 1),
    ]
    week = client.get(FULFILMENT, {**params, "group_by": "week"}).json()["rows"]
    assert [(r["key"], r["label"], r["parts"]) for r in week] == [("2026-11-02", "2026-W45", 8)]
    month = client.get(FULFILMENT, {**params, "group_by": "month"}).json()["rows"]
    assert [(r["key"], r["label"], r["parts"]) for r in month] == [("2026-11-01", "11/2026", 8)]


def test_a_ward_official_sees_only_their_wards(fulfilment_world, make_user, api_as):
    w0, w1 = fulfilment_world["w0"], fulfilment_world["w1"]
    client = api_as(official(make_user, ward(0)))
    params = {"from": "2026-11-02", "to": "2026-11-04"}
    data = client.get(FULFILMENT, params).json()
    assert (data["totals"]["parts"], data["totals"]["delivered"], data["totals"]["unanswered"]) == (4, 2, 1)
    assert client.get(FULFILMENT, {**params, "ward": w0}).json()["totals"] == data["totals"]
    outside = client.get(FULFILMENT, {**params, "ward": w1})
    assert outside.status_code == 404 and outside.json()["code"] == "not_found"
    assert client.get(REGISTRATIONS, {**params, "ward": w1}).status_code == 404


@pytest.mark.parametrize("role", [Role.BUYER, Role.FARMER, Role.COURIER, Role.STAFF])
def test_other_roles_are_refused(make_user, api_as, api, role):
    client = api_as(make_user(role))
    for url in (FULFILMENT, REGISTRATIONS):
        answer = client.get(url)
        assert answer.status_code == 403 and answer.json()["code"] == "permission_denied"
        assert api.get(url).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01"}, "from"),
        ({"to": "02/11/2026"}, "to"),
        ({"from": "2026-11-05", "to": "2026-11-04"}, "from"),
        ({"from": "2023-01-01", "to": "2026-11-04"}, "from"),
        ({"group_by": "household"}, "group_by"),
    ],
)
def test_bad_parameters_are_field_errors(make_user, api_as, params, field):
    client = api_as(official(make_user))
    for url in (FULFILMENT, REGISTRATIONS):
        answer = client.get(url, params)
        assert answer.status_code == 400 and list(answer.json()) == [field]


def test_the_default_range_is_the_last_thirty_days(make_user, api_as):
    client = api_as(official(make_user))
    with at(WED, 9):
        data = client.get(REGISTRATIONS).json()
    assert (data["from"], data["to"], data["group_by"]) == ("2026-10-06", "2026-11-04", "day")
    assert data["totals"] == {"new": 0, "verified": 0, "rejected": 0, "backlog": 0} and data["rows"] == []


# --- Registrations ----------------------------------------------------------------------------


@pytest.fixture
def registrations_world(make_user):
    """Households registered and decided on from Friday 30 October to Wednesday 4 November.

    R1 (ward 0) waits from Friday and is approved on Tuesday; R2 (ward 1) is rejected on Saturday,
    resubmitted on Tuesday and rejected again on Wednesday; R3 (ward 0) registers and is approved
    on Monday, then changes its name on Wednesday (back to review); R4 (ward 1) registers on
    Monday and waits; R5 (ward 0) registers on Wednesday at 23:30 (Wednesday in Cần Thơ).
    """
    officer = official(make_user)
    with at(date(2026, 10, 30), 10):
        r1 = make_farm(make_user, verified=False, ward_index=0)
    with at(date(2026, 10, 31), 10):
        r2 = make_farm(make_user, verified=False, ward_index=1)
    with at(date(2026, 10, 31), 15):
        farm_services.farm_decide(farm=r2, by=officer, decision="reject", reason="Thiếu giấy tờ")
    with at(MON, 9):
        r3 = make_farm(make_user, verified=False, ward_index=0)
    with at(MON, 10):
        make_farm(make_user, verified=False, ward_index=1)
    with at(MON, 16):
        farm_services.farm_decide(farm=r3, by=officer, decision="approve")
    with at(TUE, 9):
        farm_services.farm_decide(farm=r1, by=officer, decision="approve")
    with at(TUE, 10):
        farm_services.farm_resubmit(farm=r2, by=r2.owner)
    with at(WED, 9):
        farm_services.farm_decide(farm=r2, by=officer, decision="reject", reason="Sai số CCCD")
    with at(WED, 12):
        farm_services.farm_update(farm=r3, by=r3.owner, name="Hộ ông Tư (mới)")
    with at(WED, 23, 30):
        make_farm(make_user, verified=False, ward_index=0)
    return {"w0": ward(0).pk, "w1": ward(1).pk, "officer": officer}


REGISTRATIONS_MON_WED = [
    # (day, ward index, new, verified, rejected, backlog at the end of the day)
    (MON, 0, 1, 1, 0, 1),
    (MON, 1, 1, 0, 0, 1),
    (TUE, 0, 0, 1, 0, 0),
    (TUE, 1, 0, 0, 0, 2),
    (WED, 0, 1, 0, 0, 2),
    (WED, 1, 0, 0, 1, 1),
]


def _registrations():
    codes = {ward(0).pk: 0, ward(1).pk: 1}
    return sorted(
        (f.day, codes[f.ward_id], f.new, f.verified, f.rejected, f.backlog)
        for f in RegistrationFact.objects.all()
    )


def test_registration_facts_with_known_numbers_and_the_backlog_of_each_day(registrations_world):
    assert registrations_rebuild(first=MON, last=WED) == 6
    assert _registrations() == REGISTRATIONS_MON_WED
    assert registrations_rebuild(first=MON, last=WED) == 6  # the same rows twice
    assert _registrations() == REGISTRATIONS_MON_WED
    # One day alone starts from the backlog at its beginning, not from the range's.
    assert registrations_rebuild(first=TUE, last=TUE) == 2
    assert _registrations() == REGISTRATIONS_MON_WED


def test_a_past_day_keeps_its_backlog_after_later_decisions(registrations_world, make_user):
    officer = registrations_world["officer"]
    with at(date(2026, 11, 6), 9):
        for farm in Farm.objects.filter(status="pending"):
            farm_services.farm_decide(farm=farm, by=officer, decision="approve")
    registrations_rebuild(first=MON, last=date(2026, 11, 6))
    assert [row for row in _registrations() if row[0] <= WED] == REGISTRATIONS_MON_WED
    assert [row for row in _registrations() if row[0] > WED] == [
        (date(2026, 11, 5), 0, 0, 0, 0, 2),
        (date(2026, 11, 5), 1, 0, 0, 0, 1),
        (date(2026, 11, 6), 0, 0, 2, 0, 0),
        (date(2026, 11, 6), 1, 0, 1, 0, 0),
    ]


def test_the_registrations_api(registrations_world, make_user, api_as):
    w0, w1 = registrations_world["w0"], registrations_world["w1"]
    registrations_rebuild(first=date(2026, 10, 26), last=WED)
    client = api_as(official(make_user))
    params = {"from": "2026-11-02", "to": "2026-11-04"}
    data = client.get(REGISTRATIONS, params).json()
    assert data["totals"] == {"new": 3, "verified": 2, "rejected": 1, "backlog": 3}
    assert [(r["key"], r["new"], r["verified"], r["rejected"], r["backlog"]) for r in data["rows"]] == [
        ("2026-11-02", 2, 1, 0, 2),
        ("2026-11-03", 0, 1, 0, 2),
        ("2026-11-04", 1, 0, 1, 3),
    ]
    by_ward = client.get(REGISTRATIONS, {**params, "group_by": "ward"}).json()["rows"]
    assert [(r["key"], r["new"], r["backlog"]) for r in by_ward] == [(w0, 2, 2), (w1, 1, 1)]
    # A week's backlog is the one at the end of its last day within the range.
    weeks = client.get(REGISTRATIONS, {"from": "2026-10-26", "to": "2026-11-03", "group_by": "week"}).json()
    assert [(r["key"], r["label"], r["new"], r["rejected"], r["backlog"]) for r in weeks["rows"]] == [
        ("2026-10-26", "2026-W44", 2, 1, 1),
        ("2026-11-02", "2026-W45", 2, 0, 2),
    ]
    assert weeks["totals"]["backlog"] == 2
    mine = api_as(official(make_user, ward(1))).get(REGISTRATIONS, params).json()
    assert mine["totals"] == {"new": 1, "verified": 0, "rejected": 1, "backlog": 1}


def test_the_nightly_task_and_the_command_rebuild_both_facts(registrations_world, fulfilment_world, capsys):
    with at(WED, 2, 30):
        written = reconcile_recent_days(days=3)
    assert (written["fulfilment"], written["registrations"]) == (3, 2 + 2 + 2 + 2)
    assert len(_registrations()) == 8  # Sunday 1 November: F0 and F1 registered and verified
    before = (cells(FulfilmentFact), cells(RegistrationFact))
    call_command("rebuild_sales_stats", "--from", "2026-10-30", "--to", "2026-11-04")
    assert "3 fulfilment rows, 11 registration rows" in capsys.readouterr().out
    assert cells(FulfilmentFact) == before[0]
