"""Sales rollups (issue #8) against a direct aggregation of the orders they come from.

Random scenarios (hypothesis) of orders placed through the real checkout at chosen Cần Thơ
times, just before and after local midnight included, then moved through the real services:
the buyer cancels a part, the household rejects one, cancels an accepted one, weighs a line
lighter or heavier when packing, the courier delivers (collecting the cash) or brings a part
back, the buyer reports a problem and the household refunds part of the line. The rollups are
then compared with an oracle written here in plain Python over OrderLine, FarmOrder, Order,
Problem and Certification rows (never through `marketplace.reports.rollups`): sums, distinct
orders, buyers and households, and the price per kg.

The same scenario refreshed after every commit (as the `reports.refresh_order` task does)
gives the rows of a full rebuild; a rebuild run twice gives the same rows.
"""

import io
from collections import Counter, defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Max, Min, Sum
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from farms.models import Certification, Product
from farms.services import certification_decide, certifications_expire
from logistics.services import shipment_step
from marketplace.accounts.models import Role
from marketplace.reports.models import OrderLineFact, SalesCube, SalesFact
from marketplace.reports.rollups import rollups_rebuild
from orders import services
from orders.models import FarmOrder, Order, OrderLine, Problem
from orders.services.problems import problem_decline, problem_report, problem_resolve
from tests.farms.factories import make_certification, make_farm, make_product
from tests.orders import conftest as orders_fixtures
from tests.orders.factories import fill_cart, place

pytestmark = pytest.mark.django_db

# Media (certificate scans) in a temporary folder, as in the orders tests.
_media_in_tmp = orders_fixtures._media_in_tmp

CAN_THO = ZoneInfo("Asia/Ho_Chi_Minh")
D0 = date(2026, 3, 9)
# Orders are placed on D-1 … D3; the property's range is D0 … D2, so the days on either side
# check that a rebuild takes exactly its days.
DAYS = {offset: D0 + timedelta(days=offset) for offset in range(-1, 4)}
FIRST, LAST = DAYS[0], DAYS[2]
# 23:59:59 is 16:59:59 UTC and 00:00 is 17:00 UTC the day before: either side of local midnight.
LOCAL_TIMES = (time(0, 0), time(0, 0, 1), time(7, 30), time(12, 0), time(23, 59), time(23, 59, 59))
KG_PER_UNIT = {"kg": Decimal(1), "yen": Decimal(10), "ta": Decimal(100)}
LEFT = {"cancelled", "rejected", "returned"}
QTY = Decimal("0.001")


def at(offset: int, clock: time) -> datetime:
    return datetime.combine(DAYS[offset], clock, CAN_THO)


# --- The market: three households, nine listings, three buyers ------------------------------------


@dataclass
class Market:
    farms: list
    products: list  # product ids
    buyers: list
    staff: object
    courier: object


# (household index, name, category, unit, unit price, unit weight). Category 603 (honey and tea)
# and 602 (fermented and dried) are processed goods.
LISTINGS = [
    (0, "Măng cụt Phong Điền", 203, "kg", 45000, None),
    (0, "Gạo ST25", 101, "yen", 300000, None),
    (0, "Bưởi da xanh", 202, "trai", 55000, "1.2"),
    (1, "Sầu riêng Ri6", 201, "trai", 250000, "3"),  # its weight is taken away below
    (1, "Mật ong rừng tràm", 603, "hop", 120000, "0.5"),
    (1, "Cá tra", 401, "kg", 30000, None),
    (2, "Gạo Jasmine", 101, "ta", 2300000, None),
    (2, "Khô cá lóc", 602, "kg", 380000, None),
    (2, "Dâu Hạ Châu", 210, "kg", 90000, None),
]
NO_WEIGHT = 3  # the durian: a counted unit whose weight is not known (an old listing)


@pytest.fixture
def market(make_user, settings):
    # Every scenario's buyers order far more than a first cash-on-delivery order may come to.
    settings.COD_FIRST_ORDERS_CAP = 10**12
    with time_machine.travel(at(1, time(12)), tick=False):
        official = make_user(Role.OFFICIAL)
        farms = [
            make_farm(make_user, name=f"Hộ số {index + 1}", ward_index=index, official=official)
            for index in range(3)
        ]
        # Household 0: VietGAP verified, valid until D1 (the sweep below marks it expired).
        first = make_certification(farms[0], issued_on=D0 - timedelta(days=300), expires_on=DAYS[1])
        certification_decide(certification=first, by=official, decision="approve")
        # Household 1: one certificate waiting and one rejected, both covering every day.
        make_certification(farms[1], issued_on=D0 - timedelta(days=30), expires_on=D0 + timedelta(days=700))
        rejected = make_certification(
            farms[1],
            number="VG-092-0002",
            issued_on=D0 - timedelta(days=30),
            expires_on=D0 + timedelta(days=700),
        )
        certification_decide(certification=rejected, by=official, decision="reject", reason="Ảnh mờ")
        # Household 2: OCOP verified from D1 on.
        third = make_certification(
            farms[2], kind="ocop", ocop_stars=4, issued_on=DAYS[1], expires_on=D0 + timedelta(days=700)
        )
        certification_decide(certification=third, by=official, decision="approve")
        products = []
        for farm_index, name, category, unit, price, weight in LISTINGS:
            fields = {"unit_weight_kg": weight} if weight else {}
            product = make_product(
                farms[farm_index],
                name=name,
                category=category,
                unit=unit,
                price=price,
                stock="100000",
                status="active",
                **fields,
            )
            products.append(product.pk)
        Product.objects.filter(pk=products[NO_WEIGHT]).update(unit_weight_kg=None)
        buyers = [make_user(Role.BUYER) for _ in range(3)]
        staff = make_user(Role.STAFF)
        courier = make_user(Role.COURIER)
    with time_machine.travel(at(3, time(6)), tick=False):
        certifications_expire()
    assert Certification.objects.get(pk=first.pk).status == "expired"
    return Market(farms=farms, products=products, buyers=buyers, staff=staff, courier=courier)


# --- Scenarios -------------------------------------------------------------------------------------

FATES = (
    "keep",  # new (or awaiting payment): no answer yet
    "cancel",  # the buyer cancels the part before the household accepts
    "reject",  # the household refuses it
    "accept",
    "drop",  # the household accepts, then cancels (out of stock)
    "ready",  # packed (weighed), waiting for the courier
    "deliver",
    "refund",  # delivered; a problem on a line, part of it refunded
    "refund_twice",  # delivered; two problems on a line, both partly refunded
    "declined",  # delivered; a problem declined: nothing refunded
    "return",  # two failed attempts, back to the household
)

orders_strategy = st.fixed_dictionaries(
    {
        "day": st.sampled_from((-1, 0, 0, 1, 1, 2, 2, 3)),
        "clock": st.sampled_from(LOCAL_TIMES),
        "buyer": st.integers(0, 2),
        "method": st.sampled_from(("cod", "cod", "vietqr")),
        "paid": st.booleans(),  # a VietQR transfer staff saw arrive
        "items": st.lists(
            st.tuples(st.integers(0, len(LISTINGS) - 1), st.sampled_from(("1", "2", "2.5", "3"))),
            min_size=1,
            max_size=4,
            unique_by=lambda item: item[0],
        ),
        # A new price (in đồng, not a round number) for some listings before ordering.
        "prices": st.lists(st.integers(1, 999), min_size=len(LISTINGS), max_size=len(LISTINGS)),
        "fates": st.lists(st.sampled_from(FATES), min_size=3, max_size=3),
        "weigh": st.sampled_from((None, "0.92", "0.95", "1.05")),
        "refund_percent": st.integers(1, 100),
    }
)
scenarios = st.lists(orders_strategy, min_size=1, max_size=5)


def quantity_for(unit: str, text: str) -> Decimal:
    value = Decimal(text)
    return value if unit in KG_PER_UNIT else value.to_integral_value(rounding="ROUND_UP")


def play(market: Market, scenario: list[dict], step) -> list[int]:
    """Place and move the scenario's orders; `step()` wraps each action. Return the order ids."""
    ids = []
    for number, spec in enumerate(scenario):
        with time_machine.travel(at(spec["day"], spec["clock"]), tick=False):
            ids.append(_play_order(market, spec, step, number))
    return ids


def _play_order(market: Market, spec: dict, step, number: int) -> int:
    buyer = market.buyers[spec["buyer"]]
    products = {pk: Product.objects.get(pk=pk) for pk in market.products}
    items = []
    for index, text in spec["items"]:
        product = products[market.products[index]]
        if (spec["prices"][index] + number) % 3 == 0:
            base = LISTINGS[index][4]
            # The household changes its price (straight in the table: the weightless durian is an
            # old listing the listing form would now refuse to save).
            Product.objects.filter(pk=product.pk).update(price=base + spec["prices"][index])
            product.refresh_from_db()
        items.append((product, quantity_for(product.unit, text)))
    with step():
        fill_cart(buyer, items)
    with step():
        order = place(buyer, payment_method=spec["method"])
    if spec["method"] == "vietqr" and spec["paid"]:
        with step():
            services.payment_transfer_received(payment=order.payments.get(), by=market.staff)
    parts = list(FarmOrder.objects.filter(order=order).order_by("farm_id"))
    for part in parts:
        fate = spec["fates"][[f.pk for f in market.farms].index(part.farm_id)]
        _move(market, order, part, fate, spec, step)
    return order.pk


def _move(market, order, part, fate, spec, step) -> None:
    owner = part.farm.owner
    if part.status == "awaiting_payment":
        fate = "cancel" if fate in ("cancel", "reject", "drop") else "keep"
    if fate == "keep":
        return
    if fate == "cancel":
        with step():
            services.order_cancel(order=order, by=order.buyer, farm_order_ids=[part.pk], reason="Đổi ý")
        return
    if fate == "reject":
        with step():
            services.farm_order_reject(farm_order=part, by=owner, reason="Hết hàng")
        return
    with step():
        services.farm_order_accept(farm_order=part, by=owner)
    if fate == "accept":
        return
    if fate == "drop":
        with step():
            services.farm_order_transition(farm_order=part, to="cancelled", by=owner, note="Hàng hỏng")
        return
    weights = None
    if spec["weigh"]:
        factor = Decimal(spec["weigh"])
        weights = {
            line.pk: f"{(line.quantity * factor).quantize(QTY)}"
            for line in part.lines.all()
            if line.unit in KG_PER_UNIT
        }
    with step():
        services.farm_order_ready(farm_order=part, by=owner, actual_quantities=weights or None)
    if fate == "ready":
        return
    shipment = FarmOrder.objects.get(pk=part.pk).shipment
    with step():
        shipment_step(shipment=shipment, type="picked_up", by=market.courier)
    if fate == "return":
        for kind in ("failed_attempt", "in_transit", "failed_attempt", "returned"):
            with step():
                shipment_step(shipment=shipment, type=kind, by=market.courier)
        return
    shipment.refresh_from_db()
    with step():
        shipment_step(
            shipment=shipment,
            type="delivered",
            by=market.courier,
            cash_collected=shipment.cash_to_collect or None,
        )
    if fate == "deliver":
        return
    line = part.lines.order_by("pk").first()
    delivered = line.actual_quantity if line.actual_quantity is not None else line.quantity
    for _round in range(2 if fate == "refund_twice" else 1):
        with step():
            problem = problem_report(
                order=order, line_id=line.pk, by=order.buyer, kind="damaged", quantity=f"{delivered:f}"
            )
        if fate == "declined":
            with step():
                problem_decline(problem=problem, by=owner, answer="Hàng giao đúng")
            continue
        line.refresh_from_db()
        amount = max(1, line.line_total * spec["refund_percent"] // 200)
        with step():
            problem_resolve(problem=problem, by=owner, refund_amount=amount)


# --- The oracle: plain Python over the orders' rows -----------------------------------------------


@dataclass(frozen=True)
class Line:
    day: date
    order: int
    buyer: int
    farm: int
    ward: str
    category: int
    product: int
    method: str
    certified: bool
    unit: str
    live: bool
    status: str
    packed: Decimal
    kg_per_unit: Decimal | None
    unit_price: int
    total: int
    refunded: int

    @property
    def cell(self) -> tuple:
        return (
            self.day,
            self.farm,
            self.ward,
            self.category,
            self.product,
            self.method,
            self.certified,
            self.unit,
        )


def oracle_lines(first: date, last: date) -> list[Line]:
    refunds: dict[int, int] = defaultdict(int)
    for problem in Problem.objects.filter(status="resolved"):
        refunds[problem.line_id] += problem.refund_amount
    certificates = defaultdict(list)
    for cert in Certification.objects.all():
        certificates[cert.farm_id].append(cert)
    found = []
    for line in OrderLine.objects.select_related("farm_order__order", "farm_order__farm", "product"):
        part, order = line.farm_order, line.farm_order.order
        day = order.created_at.astimezone(CAN_THO).date()
        if not first <= day <= last:
            continue
        certified = any(
            c.status in ("verified", "expired") and c.issued_on <= day <= c.expires_on
            for c in certificates[part.farm_id]
        )
        found.append(
            Line(
                day=day,
                order=order.pk,
                buyer=order.buyer_id,
                farm=part.farm_id,
                ward=part.farm.ward_id,
                category=line.product.category_id,
                product=line.product_id,
                method=order.payment_method,
                certified=certified,
                unit=line.unit,
                live=part.status not in LEFT,
                status=part.status,
                packed=line.actual_quantity if line.actual_quantity is not None else line.quantity,
                kg_per_unit=KG_PER_UNIT.get(line.unit, line.product.unit_weight_kg),
                unit_price=line.unit_price,
                total=line.line_total,
                refunded=refunds[line.pk],
            )
        )
    return found


MEASURES = (
    "orders",
    "lines",
    "quantity",
    "quantity_kg",
    "gross",
    "gross_kg",
    "cancelled",
    "refunded",
    "delivered",
)


def measures(lines) -> dict:
    live = [line for line in lines if line.live]
    weighed = [line for line in live if line.kg_per_unit is not None]
    return {
        "orders": len({line.order for line in live}),
        "lines": len(live),
        "quantity": sum((line.packed for line in live), Decimal(0)),
        "quantity_kg": sum((line.packed * line.kg_per_unit for line in weighed), Decimal(0)),
        "gross": sum(line.total for line in live),
        "gross_kg": sum(line.total for line in weighed),
        "cancelled": sum(line.total for line in lines if not line.live),
        "refunded": sum(line.refunded for line in live),
        "delivered": sum(line.total for line in lines if line.status == "delivered"),
    }


def price_per_kg(line: Line) -> Decimal:
    """What the buyer paid per kilogram packed (the basis of the average too)."""
    return (Decimal(line.total) / (line.packed * line.kg_per_unit)).quantize(QTY)


def group(lines, key) -> dict:
    groups = defaultdict(list)
    for line in lines:
        groups[key(line)].append(line)
    return groups


# Groupings a reader asks for: (fields of SalesFact / OrderLineFact, the same key of a Line).
GROUPINGS = {
    "total": ((), lambda line: ()),
    "day": (("day",), lambda line: (line.day,)),
    "day×ward×category×method×certified": (
        ("day", "ward_id", "category_id", "payment_method", "certified"),
        lambda line: (line.day, line.ward, line.category, line.method, line.certified),
    ),
    "ward": (("ward_id",), lambda line: (line.ward,)),
    "category": (("category_id",), lambda line: (line.category,)),
    "method×certified": (("payment_method", "certified"), lambda line: (line.method, line.certified)),
}


def rollup_sums(fields, first, last) -> dict:
    """Sums of SalesFact grouped by `fields` over the days, as a reader of the rollups gets them."""
    rows = SalesFact.objects.filter(day__gte=first, day__lte=last)
    sums = {name: Sum(name) for name in MEASURES if name != "orders"}
    if fields:
        rows = rows.values(*fields).annotate(**{f"s_{k}": v for k, v in sums.items()}).order_by()
    else:
        rows = [rows.aggregate(**{f"s_{k}": v for k, v in sums.items()})]
    return {
        tuple(row[field] for field in fields): {name: row[f"s_{name}"] or 0 for name in sums} for row in rows
    }


def distinct_counts(fields, first, last) -> dict:
    """Distinct orders, buyers and households of live lines, counted over OrderLineFact."""
    rows = OrderLineFact.objects.filter(day__gte=first, day__lte=last, live=True)
    counts = {
        "orders": Count("order_id", distinct=True),
        "buyers": Count("buyer_id", distinct=True),
        "households": Count("farm_id", distinct=True),
    }
    if fields:
        rows = rows.values(*fields).annotate(**counts).order_by()
    else:
        rows = [rows.aggregate(**counts)] if rows.exists() else []
    return {tuple(row[field] for field in fields): {k: row[k] for k in counts} for row in rows}


def assert_same(actual: dict, expected: dict, what: str) -> None:
    """Assert two {key: {measure: value}} maps are equal, naming the keys and measures that differ."""
    differences = [
        (
            key,
            {
                m: (actual.get(key, {}).get(m), expected.get(key, {}).get(m))
                for m in set(actual.get(key, {})) | set(expected.get(key, {}))
                if actual.get(key, {}).get(m) != expected.get(key, {}).get(m)
            },
        )
        for key in set(actual) | set(expected)
        if actual.get(key) != expected.get(key)
    ]
    assert not differences, f"{what}: (rollup, orders) differ: {differences[:5]}"


LINE_FACT_FIELDS = tuple(f.attname for f in OrderLineFact._meta.concrete_fields if f.name != "id")
# The oracle's name of each line fact column (the others are named alike).
LINE_OF_FACT = {
    "order_id": "order",
    "buyer_id": "buyer",
    "farm_id": "farm",
    "ward_id": "ward",
    "category_id": "category",
    "product_id": "product",
    "payment_method": "method",
}


def check_against_oracle(first: date, last: date) -> list[Line]:
    lines = oracle_lines(first, last)

    # Each cell of SalesFact, every measure and the price range.
    expected_cells = {}
    for cell, members in group(lines, lambda line: line.cell).items():
        weighed = [line for line in members if line.live and line.kg_per_unit is not None]
        prices = [price_per_kg(line) for line in weighed]
        expected_cells[cell] = {
            **measures(members),
            "price_min_kg": min(prices) if prices else None,
            "price_max_kg": max(prices) if prices else None,
        }
    actual_cells = {}
    for fact in SalesFact.objects.filter(day__gte=first, day__lte=last):
        cell = (
            fact.day,
            fact.farm_id,
            fact.ward_id,
            fact.category_id,
            fact.product_id,
            fact.payment_method,
            fact.certified,
            fact.unit,
        )
        assert cell not in actual_cells, f"two rows for one cell {cell}"
        actual_cells[cell] = {
            name: getattr(fact, name) for name in (*MEASURES, "price_min_kg", "price_max_kg")
        }
    assert_same(actual_cells, expected_cells, "cells")

    # Totals and groupings, summed over the rollups; distinct counts over the line facts.
    for name, (fields, key) in GROUPINGS.items():
        expected = {k: {**measures(v)} for k, v in group(lines, key).items()}
        for sums in expected.values():
            del sums["orders"]  # not additive over cells: counted over the line facts below
        if not fields and not lines:
            expected = {(): dict.fromkeys(MEASURES[1:], 0)}  # an aggregate of no rows is one row
        assert_same(rollup_sums(fields, first, last), expected, name)
        live_groups = group([line for line in lines if line.live], key)
        expected_distinct = {
            k: {
                "orders": len({line.order for line in v}),
                "buyers": len({line.buyer for line in v}),
                "households": len({line.farm for line in v}),
            }
            for k, v in live_groups.items()
        }
        assert_same(distinct_counts(fields, first, last), expected_distinct, f"distinct, {name}")

    # The line facts are the order lines, one each, with their dimensions and whether they count.
    facts = OrderLineFact.objects.filter(day__gte=first, day__lte=last)
    assert Counter(facts.values_list(*LINE_FACT_FIELDS)) == Counter(
        tuple(getattr(line, LINE_OF_FACT.get(name, name)) for name in LINE_FACT_FIELDS) for line in lines
    )

    # Price watch per product over the range: average (sum gross_kg / sum quantity_kg), min and max.
    by_product = {
        row["product_id"]: row
        for row in SalesFact.objects.filter(day__gte=first, day__lte=last)
        .values("product_id")
        .annotate(g=Sum("gross_kg"), q=Sum("quantity_kg"), low=Min("price_min_kg"), high=Max("price_max_kg"))
        .order_by()
    }
    for product, members in group(lines, lambda line: line.product).items():
        weighed = [line for line in members if line.live and line.kg_per_unit is not None]
        row = by_product.pop(product)
        if not weighed:
            assert (row["low"], row["high"], row["q"]) == (None, None, 0)
            continue
        quantity_kg = sum(line.packed * line.kg_per_unit for line in weighed)
        average = (Decimal(sum(line.total for line in weighed)) / quantity_kg).quantize(Decimal("0.01"))
        assert (Decimal(row["g"]) / row["q"]).quantize(Decimal("0.01")) == average
        assert row["low"] == min(price_per_kg(line) for line in weighed)
        assert row["high"] == max(price_per_kg(line) for line in weighed)
    assert by_product == {}
    return lines


def snapshot() -> tuple[Counter, Counter, Counter]:
    """Every rollup row as a tuple without its id."""
    sales = Counter(
        tuple(row)
        for row in SalesFact.objects.values_list(
            *[f.attname for f in SalesFact._meta.concrete_fields if f.name != "id"]
        )
    )
    lines = Counter(
        tuple(row)
        for row in OrderLineFact.objects.values_list(
            *[f.attname for f in OrderLineFact._meta.concrete_fields if f.name != "id"]
        )
    )
    cube = Counter(
        tuple(
            tuple(BitMap.deserialize(bytes(value))) if isinstance(value, (bytes, memoryview)) else value
            for value in row
        )
        for row in SalesCube.objects.values_list(
            *[f.attname for f in SalesCube._meta.concrete_fields if f.name != "id"]
        )
    )
    return sales, lines, cube


def rolled_back():
    """Run one example in a savepoint that is rolled back, so examples do not see each other."""

    class Rollback(transaction.Atomic):
        def __exit__(self, exc_type, exc_value, traceback):
            if exc_type is None:
                transaction.set_rollback(True)
            return super().__exit__(exc_type, exc_value, traceback)

    return Rollback(None, savepoint=True, durable=False)


def scenario_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,  # no .hypothesis folder in the project
        # Each example places orders through the real services: shrinking a failure would take
        # minutes, so the report shows the example as generated.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# --- Properties -------------------------------------------------------------------------------------


@scenario_settings(60)
@given(scenario=scenarios)
def test_rollups_equal_a_direct_aggregation_of_the_orders(market, scenario):
    with rolled_back():
        play(market, scenario, nullcontext)
        placed = Order.objects.count()
        assert placed == len(scenario)
        rollups_rebuild(first=FIRST, last=LAST)
        lines = check_against_oracle(FIRST, LAST)
        for line in lines:  # what the examples reached (pytest --hypothesis-show-statistics)
            event(f"part {line.status}" + (", refunded" if line.refunded else ""))
            event(f"{line.method}, certified {line.certified}")
        # The days either side were not rolled up; everything of the range was.
        assert not SalesFact.objects.exclude(day__gte=FIRST, day__lte=LAST).exists()
        in_range = [s for s in scenario if 0 <= s["day"] <= 2]
        assert len({line.order for line in lines}) == len(in_range)


@scenario_settings(12)  # every task runs after every commit: slower examples
@given(scenario=scenarios)
def test_refreshing_after_every_commit_gives_the_rows_of_a_full_rebuild(
    market, scenario, django_capture_on_commit_callbacks
):
    def step():
        return django_capture_on_commit_callbacks(execute=True)

    with rolled_back():
        play(market, scenario, step)
        refreshed = snapshot()
        assert sum(refreshed[1].values()) == OrderLine.objects.count()  # every line, refreshed
        rollups_rebuild(first=DAYS[-1], last=DAYS[3])
        assert snapshot() == refreshed
        check_against_oracle(DAYS[-1], DAYS[3])


@scenario_settings(20)
@given(scenario=scenarios)
def test_a_rebuild_run_twice_gives_the_same_rows(market, scenario):
    with rolled_back():
        play(market, scenario, nullcontext)
        # A stale row inside the range goes; one outside it stays.
        stale = {
            "farm": market.farms[0],
            "ward_id": market.farms[0].ward_id,
            "category_id": 203,
            "product_id": market.products[0],
            "payment_method": "cod",
            "certified": False,
            "unit": "kg",
            "gross": 1,
        }
        SalesFact.objects.create(day=DAYS[1], **stale)
        outside = SalesFact.objects.create(day=DAYS[3] + timedelta(days=1), **stale)
        first = rollups_rebuild(first=DAYS[-1], last=DAYS[3])
        once = snapshot()
        second = rollups_rebuild(first=DAYS[-1], last=DAYS[3])
        assert second == first
        assert snapshot() == once
        assert first["lines"] == OrderLine.objects.count()
        assert SalesFact.objects.filter(gross=1).values_list("pk", flat=True).get() == outside.pk


# --- The command ----------------------------------------------------------------------------------


def test_the_command_rebuilds_a_range_and_prints_the_rows_it_wrote(market):
    with time_machine.travel(at(0, time(23, 59, 59)), tick=False):
        order = place(market.buyers[0], [(Product.objects.get(pk=market.products[0]), 2)])
    with time_machine.travel(at(1, time(0)), tick=False):
        place(market.buyers[1], [(Product.objects.get(pk=market.products[5]), 1)])
    out = io.StringIO()
    call_command("rebuild_sales_stats", "--from", str(DAYS[0]), "--to", str(DAYS[0]), stdout=out)
    assert f"{DAYS[0]}..{DAYS[0]}: 1 sales rows, 1 line rows\n" in out.getvalue()
    assert list(OrderLineFact.objects.values_list("order_id", flat=True)) == [order.pk]
    out = io.StringIO()
    call_command("rebuild_sales_stats", "--from", str(DAYS[0]), "--to", str(DAYS[2]), stdout=out)
    assert f"{DAYS[0]}..{DAYS[2]}: 2 sales rows, 2 line rows\n" in out.getvalue()
    assert SalesFact.objects.count() == 2
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("rebuild_sales_stats", "--from", "2026-02-30", "--to", str(DAYS[2]))
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("rebuild_sales_stats", "--from", "9/3/2026")
    with pytest.raises(CommandError, match="before"):
        call_command("rebuild_sales_stats", "--from", str(DAYS[2]), "--to", str(DAYS[0]))
    assert SalesFact.objects.count() == 2  # a refused command changed nothing


# --- Known numbers ----------------------------------------------------------------------------------


def product(market, index) -> Product:
    return Product.objects.get(pk=market.products[index])


def fact(**filters) -> SalesFact:
    return SalesFact.objects.get(**filters)


def test_an_order_at_23_59_cantho_time_counts_on_that_day_and_one_at_midnight_on_the_next(market):
    # 16:59:59 UTC on D0 is 23:59:59 in Cần Thơ; 17:00:00 UTC is already D1 there.
    with time_machine.travel(datetime(2026, 3, 9, 16, 59, 59, tzinfo=ZoneInfo("UTC")), tick=False):
        late = place(market.buyers[0], [(product(market, 0), 2)])
    with time_machine.travel(datetime(2026, 3, 9, 17, 0, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        early = place(market.buyers[0], [(product(market, 0), 3)])
    rollups_rebuild(first=DAYS[0], last=DAYS[1])
    assert fact(day=DAYS[0]).gross == 2 * 45000
    assert fact(day=DAYS[1]).gross == 3 * 45000
    assert OrderLineFact.objects.get(order_id=late.pk).day == DAYS[0]
    assert OrderLineFact.objects.get(order_id=early.pk).day == DAYS[1]
    # Household 0's certificate covers D0 and D1 (it has expired since): certified both days.
    assert fact(day=DAYS[0]).certified and fact(day=DAYS[1]).certified


def test_a_counted_unit_without_a_weight_counts_in_quantity_but_not_in_kg(market):
    with time_machine.travel(at(0, time(9)), tick=False):
        place(market.buyers[0], [(product(market, NO_WEIGHT), 2), (product(market, 2), 3)])
    rollups_rebuild(first=DAYS[0], last=DAYS[0])
    durian = fact(product_id=market.products[NO_WEIGHT])
    assert (durian.unit, durian.quantity, durian.quantity_kg) == ("trai", Decimal(2), Decimal(0))
    assert (durian.gross, durian.gross_kg, durian.lines, durian.orders) == (500000, 0, 1, 1)
    assert (durian.price_min_kg, durian.price_max_kg) == (None, None)
    assert durian.certified is False  # household 1: one certificate waiting, one rejected
    # A pomelo weighs 1.2 kg: 3 of them are 3.6 kg at 55,000 / 1.2 = 45,833.333 đồng a kilo.
    pomelo = fact(product_id=market.products[2])
    assert (pomelo.quantity, pomelo.quantity_kg, pomelo.gross_kg) == (Decimal(3), Decimal("3.6"), 165000)
    assert pomelo.price_min_kg == pomelo.price_max_kg == Decimal("45833.333")
    assert pomelo.certified is True


def test_a_cancelled_part_moves_its_value_from_gross_to_cancelled(market):
    with time_machine.travel(at(2, time(10)), tick=False):
        order = place(market.buyers[2], [(product(market, 5), Decimal("2.5")), (product(market, 8), 1)])
        fish_part = order.farm_orders.get(farm=market.farms[1])
        services.order_cancel(order=order, by=order.buyer, farm_order_ids=[fish_part.pk])
    rollups_rebuild(first=DAYS[2], last=DAYS[2])
    fish = fact(product_id=market.products[5])
    assert (fish.gross, fish.cancelled, fish.lines, fish.orders, fish.quantity) == (0, 75000, 0, 0, 0)
    assert (fish.price_min_kg, fish.delivered) == (None, 0)
    berries = fact(product_id=market.products[8])
    assert (berries.gross, berries.cancelled, berries.lines, berries.orders) == (90000, 0, 1, 1)
    assert berries.certified is True  # household 2's OCOP certificate is valid from D1
    assert list(OrderLineFact.objects.order_by("product_id").values_list("product_id", "live")) == sorted(
        [(market.products[5], False), (market.products[8], True)]
    )


def test_a_refund_on_a_problem_shows_in_refunded_and_the_delivered_value_stays(market):
    with time_machine.travel(at(1, time(8)), tick=False):
        order = place(market.buyers[0], [(product(market, 1), Decimal("1.5"))])  # 1.5 yến of rice
        part = order.farm_orders.get()
        owner = part.farm.owner
        services.farm_order_accept(farm_order=part, by=owner)
        line = part.lines.get()
        services.farm_order_ready(farm_order=part, by=owner, actual_quantities={line.pk: "1.4"})
        shipment = FarmOrder.objects.get(pk=part.pk).shipment
        shipment_step(shipment=shipment, type="picked_up")
        shipment.refresh_from_db()
        shipment_step(shipment=shipment, type="delivered", cash_collected=shipment.cash_to_collect)
        problem = problem_report(order=order, line_id=line.pk, by=order.buyer, kind="damaged", quantity="0.2")
        problem_resolve(problem=problem, by=owner, refund_amount=12345)
    rollups_rebuild(first=DAYS[1], last=DAYS[1])
    rice = fact(product_id=market.products[1])
    # Weighed lighter: 1.4 yến = 14 kg at 300,000 a yến = 420,000 đồng, 30,000 đồng a kilo.
    assert (rice.quantity, rice.quantity_kg, rice.gross, rice.gross_kg) == (
        Decimal("1.4"),
        Decimal(14),
        420000,
        420000,
    )
    assert (rice.refunded, rice.delivered, rice.cancelled) == (12345, 420000, 0)
    assert rice.price_min_kg == rice.price_max_kg == Decimal(30000)


def test_a_price_per_kg_keeps_its_decimals_on_every_database(market):
    # 300,001 đồng a yến is 30,000.1 đồng a kilo (SQLite once divided the whole numbers to 30,000);
    # 2,300,001 đồng a tạ is 23,000.01.
    Product.objects.filter(pk__in=[market.products[1], market.products[6]]).update(price=F("price") + 1)
    with time_machine.travel(at(1, time(9)), tick=False):
        place(market.buyers[1], [(product(market, 1), 1), (product(market, 6), 1)])
    rollups_rebuild(first=DAYS[1], last=DAYS[1])
    rice = fact(product_id=market.products[1])
    assert rice.price_min_kg == rice.price_max_kg == Decimal("30000.1")
    jasmine = fact(product_id=market.products[6])
    assert jasmine.price_min_kg == jasmine.price_max_kg == Decimal("23000.01")
    assert (jasmine.quantity_kg, jasmine.gross, jasmine.gross_kg) == (Decimal(100), 2300001, 2300001)


# --- The cube answers as the facts do -------------------------------------------------------------

MARCH = date(2026, 3, 1)


@st.composite
def questions(draw, market):
    """A question an official may ask: a range in February–March, filters and a grouping."""
    from marketplace.reports.selectors import GROUPS, Filters

    first = MARCH + timedelta(days=draw(st.integers(-10, 30)))
    last = first + timedelta(days=draw(st.integers(0, 35)))
    wards = sorted({farm.ward_id for farm in market.farms})
    return draw(st.sampled_from((*GROUPS, "payment"))), Filters(
        first=first,
        last=last,
        wards=draw(st.none() | st.sets(st.sampled_from(wards), min_size=1).map(frozenset)),
        categories=draw(
            st.none() | st.sampled_from((frozenset([203]), frozenset([101, 203]), frozenset([603])))
        ),
        certified=draw(st.none() | st.booleans()),
        payment_method=draw(st.none() | st.sampled_from(("cod", "vietqr", "card"))),
        product=draw(st.none() | st.sampled_from(market.products)),
    )


@scenario_settings(40)
@given(data=st.data(), scenario=scenarios)
def test_the_cube_answers_every_question_as_the_facts_do(market, data, scenario):
    """Whole months, whole weeks and days at the edges, stored or computed: the same rows and totals."""
    from marketplace.reports.cube import choose, cube_report
    from marketplace.reports.selectors import facts_report, payment_mix, sales_report

    with rolled_back():
        play(market, scenario, nullcontext)
        rollups_rebuild(first=DAYS[-1], last=DAYS[3])
        for _ in range(20):
            group_by, filters = data.draw(questions(market))
            cuboid = choose(filters, group_by)
            event("cube" if cuboid else "facts")
            if group_by == "payment":
                if cuboid is None:
                    continue
                mix = payment_mix(filters=filters)
                expected = {}
                for method in (
                    [filters.payment_method] if filters.payment_method else ["cod", "vietqr", "card"]
                ):
                    one = facts_report(filters=replace(filters, payment_method=method), group_by="day")
                    if one["rows"]:
                        expected[method] = (one["totals"]["orders"], one["totals"]["gross"])
                assert {row["payment_method"]: (row["orders"], row["gross"]) for row in mix} == expected
                continue
            assert sales_report(filters=filters, group_by=group_by) == facts_report(
                filters=filters, group_by=group_by
            ), (group_by, filters, cuboid)
            if cuboid is not None:
                assert cube_report(filters, group_by) is not None


def test_questions_the_cube_answers_and_those_it_leaves_to_the_facts():
    from marketplace.reports.cube import choose
    from marketplace.reports.selectors import Filters

    plain = Filters(first=MARCH, last=MARCH + timedelta(days=30))
    assert choose(plain, "month").dims == ()
    assert choose(replace(plain, wards=frozenset(["31150"])), "category").dims == ("ward_id", "category_id")
    assert choose(replace(plain, payment_method="cod"), "household").dims == (
        "farm_id",
        "ward_id",
        "payment_method",
    )
    assert choose(replace(plain, certified=True), "ward").code == 10
    # A product's sales by payment method: no cuboid has both, the facts answer.
    assert choose(replace(plain, payment_method="cod"), "product") is None
