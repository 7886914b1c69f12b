"""Fulfilment and registration facts for officials (issue #8): built from orders and farms, read as facts.

Fulfilment, per (Cần Thơ day the order was placed, household's ward), over the parts (farm
orders) that reached a household (`released_at` set; a part cancelled while its order waited
for payment never did):
- `parts`, `delivered`, `returned`; `cancelled` = cancelled or rejected after release, of which
  `unanswered` were cancelled by the deadline sweep (their status change carries `NO_ANSWER_NOTE`);
- `failed`: parts with at least one failed delivery attempt (a status change to `failed_delivery`),
  whatever came of them;
- lead time: for each delivered part, the seconds from the order being placed to the part's
  status change to `delivered`; `lead_seconds` sums them (whole seconds, exact over any range) and
  `lead_count` counts them;
- `late`: delivered after the end of the buyer's `delivery_date` in Cần Thơ time when a date was
  asked, else more than `DELIVERY_LATE_HOURS` after the part was released. A part still on its
  way is not late yet: it counts when it is delivered.

Registrations, per (Cần Thơ day, household's current ward): `new` households (created that day),
`verified` and `rejected` (households with an approval / a rejection among `FarmDecision` rows that
day), and `backlog`: households waiting for verification at the end of the day. A household's
status at a moment is the `to_status` of its last decision before it, or, before its first
decision, the status it started in (that decision's `from_status`, pending for a registration);
a household with no decisions at all is taken at its current status. The backlog of a range is
the backlog when the range starts plus, day by day, the households that entered the queue less
those that left it, so a rebuild of a past day gives that day's backlog, not today's.

A range is rebuilt whole (rows deleted and inserted in one transaction), so running it twice gives
the same rows. farms sends no signal on a decision, so registration facts are rebuilt by the
nightly `reports.reconcile_recent_days` task (and `rebuild_sales_stats`), not after each decision;
fulfilment facts are also refreshed for an order's day and wards after each order event.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf, TruncDate

from farms.models import Farm, FarmAction, FarmDecision, FarmStatus
from marketplace.geo.models import Ward
from orders.models import FarmOrder, FarmOrderStatus, Order, StatusChange
from orders.services.fulfilment import NO_ANSWER_NOTE

from .cube import StartOf
from .models import FulfilmentFact, RegistrationFact
from .rollups import day_bounds

BATCH = 2000
GROUPS = ("day", "week", "month", "ward")
PENDING = FarmStatus.PENDING


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- Fulfilment ---------------------------------------------------------------------------------


def _fulfilment_rows(farm_orders) -> list[FulfilmentFact]:
    """Aggregate released parts by (order day, household ward) in one query."""
    zone = _zone()
    changes = StatusChange.objects.filter(farm_order=OuterRef("pk"))
    delivered = Q(status=FarmOrderStatus.DELIVERED, delivered_at__isnull=False)
    late = delivered & (
        Q(order__delivery_date__isnull=False, delivered_on__gt=F("order__delivery_date"))
        | Q(
            order__delivery_date__isnull=True,
            delivered_at__gt=F("released_at") + timedelta(hours=settings.DELIVERY_LATE_HOURS),
        )
    )
    left = (FarmOrderStatus.CANCELLED, FarmOrderStatus.REJECTED)
    rows = (
        farm_orders.filter(released_at__isnull=False)
        .annotate(
            day=TruncDate("order__created_at", tzinfo=zone),
            cell_ward=F("farm__ward_id"),
            delivered_at=Subquery(
                changes.filter(to_status=FarmOrderStatus.DELIVERED).order_by("at", "id").values("at")[:1]
            ),
            failed_once=Exists(changes.filter(to_status=FarmOrderStatus.FAILED_DELIVERY)),
            no_answer=Exists(changes.filter(to_status=FarmOrderStatus.CANCELLED, note=NO_ANSWER_NOTE)),
        )
        .annotate(
            delivered_on=TruncDate("delivered_at", tzinfo=zone),
            lead=ExpressionWrapper(F("delivered_at") - F("order__created_at"), output_field=DurationField()),
        )
        .order_by()
        .values("day", "cell_ward")
        .annotate(
            parts_n=Count("pk"),
            delivered_n=Count("pk", filter=delivered),
            lead_sum=Sum("lead", filter=delivered),
            late_n=Count("pk", filter=late),
            failed_n=Count("pk", filter=Q(failed_once=True)),
            returned_n=Count("pk", filter=Q(status=FarmOrderStatus.RETURNED)),
            cancelled_n=Count("pk", filter=Q(status__in=left)),
            unanswered_n=Count("pk", filter=Q(status=FarmOrderStatus.CANCELLED, no_answer=True)),
        )
    )
    return [
        FulfilmentFact(
            day=row["day"],
            ward_id=row["cell_ward"],
            parts=row["parts_n"],
            delivered=row["delivered_n"],
            lead_seconds=int(row["lead_sum"].total_seconds()) if row["lead_sum"] is not None else 0,
            lead_count=row["delivered_n"],
            late=row["late_n"],
            failed=row["failed_n"],
            returned=row["returned_n"],
            cancelled=row["cancelled_n"],
            unanswered=row["unanswered_n"],
        )
        for row in rows
    ]


@transaction.atomic
def fulfilment_rebuild(*, first: date, last: date) -> int:
    """Recompute the fulfilment facts of the days `first`..`last` (inclusive); return the rows written."""
    start, end = day_bounds(first, last)
    parts = FarmOrder.objects.filter(order__created_at__gte=start, order__created_at__lt=end)
    FulfilmentFact.objects.filter(day__gte=first, day__lte=last).delete()
    return len(FulfilmentFact.objects.bulk_create(_fulfilment_rows(parts), batch_size=BATCH))


@transaction.atomic
def fulfilment_refresh_order(order_id: int) -> None:
    """Recompute the fulfilment cells an order touches: its day, its households' wards."""
    order = Order.objects.filter(pk=order_id).only("created_at").first()
    if order is None:
        return
    day = order.created_at.astimezone(_zone()).date()
    start, end = day_bounds(day, day)
    wards = set(order.farm_orders.values_list("farm__ward_id", flat=True))
    parts = FarmOrder.objects.filter(
        farm__ward_id__in=wards, order__created_at__gte=start, order__created_at__lt=end
    )
    FulfilmentFact.objects.filter(day=day, ward_id__in=wards).delete()
    FulfilmentFact.objects.bulk_create(_fulfilment_rows(parts), batch_size=BATCH)


# --- Registrations ------------------------------------------------------------------------------


def _started_as():
    """A household's status before its first decision: that decision's `from_status` (pending for
    the registration itself, which has none); with no decisions at all, its current status."""
    decisions = FarmDecision.objects.filter(farm=OuterRef("pk"))
    first_from = Subquery(decisions.order_by("at", "id").values("from_status")[:1])
    return Case(
        When(Exists(decisions), then=Coalesce(NullIf(first_from, Value("")), Value(PENDING))),
        default=F("status"),
    )


def _pending_at(moment) -> dict[str, int]:
    """Count households waiting for verification at `moment`, by ward (one query)."""
    decisions = FarmDecision.objects.filter(farm=OuterRef("pk"), at__lt=moment)
    last_before = Subquery(decisions.order_by("-at", "-id").values("to_status")[:1])
    rows = (
        Farm.objects.filter(created_at__lt=moment)
        .annotate(status_then=Coalesce(last_before, _started_as()))
        .filter(status_then=PENDING)
        .order_by()
        .values("ward_id")
        .annotate(n=Count("pk"))
    )
    return {row["ward_id"]: row["n"] for row in rows}


def _registration_rows(first: date, last: date) -> list[RegistrationFact]:
    zone = _zone()
    start, end = day_bounds(first, last)
    backlog = defaultdict(int, _pending_at(start))
    # Per (day, ward): new households, and the queue's moves. A registration enters the queue when
    # the household is created (in the status it started in); later decisions move it in or out.
    events: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        Farm.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=zone), started_as=_started_as())
        .order_by()
        .values("day", "ward_id")
        .annotate(new_n=Count("pk"), queued_n=Count("pk", filter=Q(started_as=PENDING)))
    ):
        cell = events[(row["day"], row["ward_id"])]
        cell["new"] += row["new_n"]
        cell["move"] += row["queued_n"]
    # A decision with an empty `from_status` is the registration itself, counted above.
    entered = Q(to_status=PENDING) & ~Q(from_status=PENDING) & ~Q(from_status="")
    left = Q(from_status=PENDING) & ~Q(to_status=PENDING)
    for row in (
        FarmDecision.objects.filter(at__gte=start, at__lt=end)
        .annotate(day=TruncDate("at", tzinfo=zone), cell_ward=F("farm__ward_id"))
        .order_by()
        .values("day", "cell_ward")
        .annotate(
            verified_n=Count("farm_id", filter=Q(action=FarmAction.APPROVED), distinct=True),
            rejected_n=Count("farm_id", filter=Q(action=FarmAction.REJECTED), distinct=True),
            entered_n=Count("pk", filter=entered),
            left_n=Count("pk", filter=left),
        )
    ):
        cell = events[(row["day"], row["cell_ward"])]
        cell["verified"] += row["verified_n"]
        cell["rejected"] += row["rejected_n"]
        cell["move"] += row["entered_n"] - row["left_n"]
    wards = sorted(set(backlog) | {ward for _day, ward in events})
    facts = []
    day = first
    while day <= last:
        for ward in wards:
            cell = events.get((day, ward), {})
            backlog[ward] += cell.get("move", 0)
            fact = RegistrationFact(
                day=day,
                ward_id=ward,
                new=cell.get("new", 0),
                verified=cell.get("verified", 0),
                rejected=cell.get("rejected", 0),
                backlog=max(backlog[ward], 0),
            )
            if fact.new or fact.verified or fact.rejected or fact.backlog:
                facts.append(fact)
        day += timedelta(days=1)
    return facts


@transaction.atomic
def registrations_rebuild(*, first: date, last: date) -> int:
    """Recompute the registration facts of the days `first`..`last` (inclusive); return the rows written."""
    RegistrationFact.objects.filter(day__gte=first, day__lte=last).delete()
    rows = _registration_rows(first, last)
    return len(RegistrationFact.objects.bulk_create(rows, batch_size=BATCH))


# --- Reading (the stats API): facts only, never orders or farms ---------------------------------

FULFILMENT_SUMS = (
    "parts",
    "delivered",
    "lead_seconds",
    "lead_count",
    "late",
    "failed",
    "returned",
    "cancelled",
    "unanswered",
)
REGISTRATION_SUMS = ("new", "verified", "rejected")


def _key(group_by: str):
    return {
        "day": F("day"),
        "week": StartOf("week", "day"),
        "month": StartOf("month", "day"),
        "ward": F("ward_id"),
    }[group_by]


def _in_scope(qs, *, first: date, last: date, wards):
    qs = qs.filter(day__gte=first, day__lte=last)
    return qs if wards is None else qs.filter(ward_id__in=wards)


def _labels(group_by: str, keys) -> dict:
    if group_by == "day":
        return {k: k.strftime("%d/%m/%Y") for k in keys}
    if group_by == "week":
        return {k: "{}-W{:02d}".format(*k.isocalendar()[:2]) for k in keys}
    if group_by == "month":
        return {k: k.strftime("%m/%Y") for k in keys}
    return dict(Ward.objects.filter(pk__in=keys).values_list("code", "name"))


def _wire(key) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def _ratio(part: int, whole: int, *, scale: int, places: str) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) * scale / Decimal(whole)).quantize(Decimal(places), ROUND_HALF_UP))


def _fulfilment_figures(sums: dict) -> dict:
    sums = {name: sums.get(name) or 0 for name in FULFILMENT_SUMS}
    return {
        "parts": sums["parts"],
        "delivered": sums["delivered"],
        # Percent of the parts that reached a household which were delivered (parts still on their
        # way count as not delivered yet).
        "fulfilment_rate": _ratio(sums["delivered"], sums["parts"], scale=100, places="0.1"),
        "lead_time_hours": _ratio(sums["lead_seconds"], sums["lead_count"] * 3600, scale=1, places="0.1"),
        **{name: sums[name] for name in ("late", "failed", "returned", "cancelled", "unanswered")},
    }


def fulfilment_report(*, first: date, last: date, wards: frozenset[str] | None, group_by: str) -> dict:
    """Return {totals, rows} of fulfilment in `first`..`last` within `wards` (None: the whole city)."""
    facts = _in_scope(FulfilmentFact.objects.all(), first=first, last=last, wards=wards)
    sums = {name: Sum(name) for name in FULFILMENT_SUMS}
    grouped = list(facts.annotate(key=_key(group_by)).values("key").annotate(**sums).order_by("key"))
    # Every grouping splits the facts in parts: the totals are the groups' sums.
    totals = _fulfilment_figures({name: sum(row[name] or 0 for row in grouped) for name in FULFILMENT_SUMS})
    labels = _labels(group_by, [row["key"] for row in grouped])
    rows = [
        {
            "key": _wire(row["key"]),
            "label": labels.get(row["key"], str(row["key"])),
            **_fulfilment_figures(row),
        }
        for row in grouped
    ]
    return {"totals": totals, "rows": rows}


def _closing_day(group_by: str, key, last: date) -> date:
    """The day whose end gives a group's backlog: its last day within the range."""
    if group_by == "day":
        return key
    if group_by == "week":
        return min(key + timedelta(days=6), last)
    if group_by == "month":
        following = (key.replace(day=28) + timedelta(days=4)).replace(day=1)
        return min(following - timedelta(days=1), last)
    return last


def registrations_report(*, first: date, last: date, wards: frozenset[str] | None, group_by: str) -> dict:
    """Return {totals, rows} of registrations in `first`..`last`; backlogs at the end of each group."""
    facts = _in_scope(RegistrationFact.objects.all(), first=first, last=last, wards=wards)
    sums = {name: Sum(name) for name in REGISTRATION_SUMS}
    totals = {name: value or 0 for name, value in facts.aggregate(**sums).items()}
    totals["backlog"] = facts.filter(day=last).aggregate(n=Sum("backlog"))["n"] or 0
    grouped = list(facts.annotate(key=_key(group_by)).values("key").annotate(**sums).order_by("key"))
    closing = {row["key"]: _closing_day(group_by, row["key"], last) for row in grouped}
    backlogs = {
        (row["key"], row["day"]): row["n"]
        for row in facts.filter(day__in=set(closing.values()))
        .annotate(key=_key(group_by))
        .values("key", "day")
        .annotate(n=Sum("backlog"))
        .order_by()
    }
    labels = _labels(group_by, list(closing))
    rows = [
        {
            "key": _wire(row["key"]),
            "label": labels.get(row["key"], str(row["key"])),
            **{name: row[name] or 0 for name in REGISTRATION_SUMS},
            "backlog": backlogs.get((row["key"], closing[row["key"]]), 0),
        }
        for row in grouped
    ]
    return {"totals": totals, "rows": rows}
