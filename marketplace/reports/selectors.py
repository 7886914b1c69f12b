"""Reads of the sales rollups for officials: totals and rows grouped by a key, within a scope.

Everything here reads the sales cube (`cube.py`: sums and exact sets of whole periods) and,
for what the cube does not hold, `SalesFact` (sums) and `OrderLineFact` (distinct counts);
never orders.
An official sees the households of their wards only (all wards when city-wide); a count of
buyers below `SMALL_COUNT` is shown as "<3", so nobody can be picked out of a small cell.
"""

from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum

from farms.models import Category, Farm, Product
from marketplace.geo.models import Ward

from .cube import PRODUCT_CUBOID, StartOf, as_sums, cube_gross, cube_report, cube_total, filters_q
from .models import OrderLineFact, SalesCube, SalesFact

SMALL_COUNT = 3
SUPPRESSED = "<3"
GROUPS = ("day", "week", "month", "category", "ward", "household", "product")
SUMS = ("gross", "cancelled", "refunded", "delivered")


@dataclass(frozen=True)
class Filters:
    first: date
    last: date
    wards: frozenset[str] | None = None  # None: every ward (a city-wide official)
    categories: frozenset[int] | None = None
    certified: bool | None = None
    payment_method: str | None = None
    product: int | None = None


def wards_of(official) -> frozenset[str] | None:
    """The wards an official may see, or None for the whole city."""
    if official.city_wide:
        return None
    return frozenset(official.wards.values_list("code", flat=True))


def category_with_children(category_id: int) -> frozenset[int]:
    """A category and the categories under it (the seeded tree is two levels deep)."""
    return frozenset(
        [category_id, *Category.objects.filter(parent_id=category_id).values_list("pk", flat=True)]
    )


def _filtered(qs: QuerySet, f: Filters) -> QuerySet:
    return qs.filter(filters_q(f), day__gte=f.first, day__lte=f.last)


def _key(group_by: str):
    return {
        "day": F("day"),
        "week": StartOf("week", "day"),
        "month": StartOf("month", "day"),
        "category": F("category_id"),
        "ward": F("ward_id"),
        "household": F("farm_id"),
        "product": F("product_id"),
    }[group_by]


def _distinct() -> dict:
    live = Q(live=True)
    return {
        "orders_n": Count("order_id", filter=live, distinct=True),
        "buyers_n": Count("buyer_id", filter=live, distinct=True),
        "households_n": Count("farm_id", filter=live, distinct=True),
    }


def _sum_fields() -> dict:
    return {"quantity_kg_sum": Sum("quantity_kg"), **{f"{name}_sum": Sum(name) for name in SUMS}}


def _figures(sums: dict | None, counts: dict | None) -> dict:
    sums, counts = sums or {}, counts or {}
    buyers = counts.get("buyers_n") or 0
    return {
        "orders": counts.get("orders_n") or 0,
        "quantity_kg": f"{(sums.get('quantity_kg_sum') or Decimal(0)):.3f}",
        **{name: sums.get(f"{name}_sum") or 0 for name in SUMS},
        "households": counts.get("households_n") or 0,
        "buyers": SUPPRESSED if 0 < buyers < SMALL_COUNT else buyers,
    }


def sales_report(*, filters: Filters, group_by: str, with_totals: bool = True) -> dict:
    """Return {totals, rows} of sales within `filters`, one row per `group_by` key (sorted).

    From the cube when a cuboid answers (`cube.cube_report`), else from the facts: there the
    totals' sums are the rows' and only the distinct counts of the totals need a pass of their
    own, skipped when `with_totals` is False (totals are then None).
    """
    groups = cube_report(filters, group_by)
    if groups is not None:
        by_key_sums = {key: as_sums(group) for key, group in groups.items()}
        by_key_counts = {key: group.counts() for key, group in groups.items()}
        totals = None
        if with_totals:  # from the smallest cuboid that answers, not the groups' cells
            total = cube_total(filters)
            totals = _figures(as_sums(total), total.counts())
        return {"totals": totals, "rows": _rows(group_by, by_key_sums, by_key_counts)}
    return facts_report(filters=filters, group_by=group_by, with_totals=with_totals)


def facts_report(*, filters: Filters, group_by: str, with_totals: bool = True) -> dict:
    """`sales_report` read from the facts (`SalesFact`, `OrderLineFact`) whatever the question."""
    sales = _filtered(SalesFact.objects.all(), filters)
    lines = _filtered(OrderLineFact.objects.all(), filters)
    key = _key(group_by)
    by_key_sums = {
        row["key"]: row for row in sales.annotate(key=key).values("key").annotate(**_sum_fields()).order_by()
    }
    by_key_counts = {
        row["key"]: row for row in lines.annotate(key=key).values("key").annotate(**_distinct()).order_by()
    }
    totals = None
    if with_totals:
        totals = _figures(_added(by_key_sums.values()), lines.aggregate(**_distinct()))
    return {"totals": totals, "rows": _rows(group_by, by_key_sums, by_key_counts)}


def _rows(group_by: str, by_key_sums: dict, by_key_counts: dict) -> list[dict]:
    keys = sorted(set(by_key_sums) | set(by_key_counts), key=lambda k: (k is None, str(k)))
    labels = _labels(group_by, keys)
    return [
        {
            "key": _wire(k),
            "label": labels.get(k, str(k)),
            **_figures(by_key_sums.get(k), by_key_counts.get(k)),
        }
        for k in keys
    ]


def _added(rows) -> dict:
    """The sums of rows of `_sum_fields()` (a sum over groups is the sum over the whole)."""
    names = list(_sum_fields())
    return {name: sum((row[name] or 0 for row in rows), 0) for name in names}


def sales_top(*, filters: Filters, group_by: str, limit: int) -> list[dict]:
    """The `limit` households or products with the largest gross (then by label), as report rows.

    Every key's gross is added up in the database; the other sums and the distinct counts are
    read for the keys kept only.
    """
    gross = cube_gross(filters, group_by)
    if gross is not None:
        kept, labels = _best(gross, group_by, limit)
        groups = cube_report(filters, group_by, keys=kept)
        return [
            {"key": k, "label": labels.get(k, str(k)), **_figures(as_sums(groups[k]), groups[k].counts())}
            for k in kept
        ]
    sales = _filtered(SalesFact.objects.all(), filters)
    key = _key(group_by)
    sums = {
        row["key"]: row for row in sales.annotate(key=key).values("key").annotate(**_sum_fields()).order_by()
    }
    kept, labels = _best({k: row["gross_sum"] for k, row in sums.items()}, group_by, limit)
    field = "farm_id" if group_by == "household" else "product_id"
    lines = _filtered(OrderLineFact.objects.filter(**{f"{field}__in": kept}), filters)
    counts = {
        row["key"]: row for row in lines.annotate(key=key).values("key").annotate(**_distinct()).order_by()
    }
    return [{"key": k, "label": labels.get(k, str(k)), **_figures(sums[k], counts.get(k))} for k in kept]


def _best(gross: dict, group_by: str, limit: int) -> tuple[list, dict]:
    """The `limit` keys of largest `gross` ({key: gross}), ties by label, and their labels.

    Only the keys that can make the cut (gross at least the limit-th largest) are labelled.
    """
    gross = {key: value or 0 for key, value in gross.items()}
    ranked = sorted(gross.values(), reverse=True)
    cut = ranked[limit - 1] if len(ranked) >= limit else (ranked[-1] if ranked else 0)
    candidates = [key for key, value in gross.items() if value >= cut]
    labels = _labels(group_by, candidates)
    kept = sorted(candidates, key=lambda k: (-gross[k], str(labels.get(k, k))))[:limit]
    return kept, labels


def _wire(key):
    if isinstance(key, date):
        return key.isoformat()
    return key


def _labels(group_by: str, keys) -> dict:
    if group_by == "day":
        return {k: k.strftime("%d/%m/%Y") for k in keys}
    if group_by == "week":
        return {k: f"{k.isocalendar()[0]}-W{k.isocalendar()[1]:02d}" for k in keys}
    if group_by == "month":
        return {k: k.strftime("%m/%Y") for k in keys}
    if group_by == "category":
        return {c.pk: c.label for c in Category.objects.filter(pk__in=keys)}
    if group_by == "ward":
        return dict(Ward.objects.filter(pk__in=keys).values_list("code", "name"))
    if group_by == "household":
        return dict(Farm.objects.filter(pk__in=keys).values_list("pk", "name"))
    return dict(Product.objects.filter(pk__in=keys).values_list("pk", "name"))


def price_watch(*, filters: Filters, step: str = "day") -> list[dict]:
    """Return, per day (or per ISO week, dated by its Monday, when `step` is "week"), a product's
    average price per kg (đồng), the lowest and highest, and the kg sold."""
    rows = (
        _filtered(SalesFact.objects.filter(quantity_kg__gt=0), filters)
        .annotate(start=_key(step))
        .values("start")
        .annotate(
            gross_kg_sum=Sum("gross_kg"),
            kg=Sum("quantity_kg"),
            low=Min("price_min_kg"),
            high=Max("price_max_kg"),
        )
        .order_by("start")
    )
    return [
        {
            "date": row["start"].isoformat(),
            "avg_price_per_kg": int((Decimal(row["gross_kg_sum"]) / row["kg"]).quantize(1, ROUND_HALF_UP)),
            "min": int(row["low"].quantize(1, ROUND_HALF_UP)),
            "max": int(row["high"].quantize(1, ROUND_HALF_UP)),
            "quantity_kg": f"{row['kg']:.3f}",
        }
        for row in rows
    ]


# --- The officials' dashboard (issue #8): totals alone, payment mix, falling prices ------------


def sales_totals(*, filters: Filters) -> dict:
    """Return the totals of sales within `filters` (as `sales_report`'s, without rows)."""
    total = cube_total(filters)
    if total is not None:
        return _figures(as_sums(total), total.counts())
    sales = _filtered(SalesFact.objects.all(), filters)
    lines = _filtered(OrderLineFact.objects.all(), filters)
    return _figures(sales.aggregate(**_sum_fields()), lines.aggregate(**_distinct()))


def payment_mix(*, filters: Filters) -> list[dict]:
    """Return, per payment method, the orders and gross within `filters` (largest gross first)."""
    groups = cube_report(filters, "payment")
    if groups is not None:
        rows = [
            {"payment_method": method, "orders": group.count("orders"), "gross": group.sums["gross"]}
            for method, group in groups.items()
        ]
        return sorted(rows, key=lambda row: (-row["gross"], row["payment_method"]))
    sums = {
        row["payment_method"]: row["gross_sum"]
        for row in _filtered(SalesFact.objects.all(), filters)
        .values("payment_method")
        .annotate(gross_sum=Sum("gross"))
        .order_by()
    }
    counts = {
        row["payment_method"]: row["orders_n"]
        for row in _filtered(OrderLineFact.objects.all(), filters)
        .values("payment_method")
        .annotate(orders_n=Count("order_id", filter=Q(live=True), distinct=True))
        .order_by()
    }
    rows = [
        {"payment_method": method, "orders": counts.get(method, 0), "gross": sums.get(method) or 0}
        for method in set(sums) | set(counts)
    ]
    return sorted(rows, key=lambda row: (-row["gross"], row["payment_method"]))


def price_drops(*, filters: Filters, percent: int) -> list[dict]:
    """Return the products whose average price per kg fell by more than `percent` week on week.

    The week is the 7 days ending on `filters.last`, compared with the 7 days before it (the
    range's start does not matter); both weeks need kilos sold. Largest fall first.
    """
    this_start = filters.last - timedelta(days=6)
    last_start = this_start - timedelta(days=7)
    window = dataclass_replace(filters, first=last_start, last=filters.last)
    this_week = Q(day__gte=this_start)
    rows = (
        _filtered(SalesFact.objects.filter(quantity_kg__gt=0), window)
        .values("product_id")
        .annotate(
            now_gross=Sum("gross_kg", filter=this_week),
            now_kg=Sum("quantity_kg", filter=this_week),
            before_gross=Sum("gross_kg", filter=~this_week),
            before_kg=Sum("quantity_kg", filter=~this_week),
        )
        .order_by()
    )
    drops = []
    for row in rows:
        if not row["now_kg"] or not row["before_kg"]:
            continue
        now = Decimal(row["now_gross"] or 0) / row["now_kg"]
        before = Decimal(row["before_gross"] or 0) / row["before_kg"]
        if before <= 0:
            continue
        change = (now - before) * 100 / before
        if change < -percent:
            drops.append(
                {
                    "product": row["product_id"],
                    "before": int(before.quantize(1, ROUND_HALF_UP)),
                    "now": int(now.quantize(1, ROUND_HALF_UP)),
                    "change_percent": int(change.quantize(1, ROUND_HALF_UP)),
                    "week_start": this_start,
                }
            )
    # Named after the fact: only the few products whose price fell.
    names = dict(Product.objects.filter(pk__in=[d["product"] for d in drops]).values_list("pk", "name"))
    for drop in drops:
        drop["name"] = names.get(drop["product"], "")
    return sorted(drops, key=lambda d: (d["change_percent"], d["name"]))


def product_in_scope(product_id: int | None, wards: frozenset[str] | None) -> Product | None:
    """The product, if its household is in `wards` (None: the whole city); else None."""
    if product_id is None:
        return None
    product = Product.objects.select_related("farm").filter(pk=product_id).first()
    if product is None or (wards is not None and product.farm.ward_id not in wards):
        return None
    return product


def products_sold(*, filters: Filters, wards: frozenset[str] | None) -> list[tuple[int, str]]:
    """(id, "product — household") of the products sold in `wards` in the months of the period, by name.

    Read from the cube's months of products (a year is ~25,000 cells at 1M lines, where the
    sales facts hold ~680,000 rows): a product sold in the first or last month of the period,
    outside its days, is offered too, and choosing it shows no sales.
    """
    sold = SalesCube.objects.filter(
        cuboid=PRODUCT_CUBOID, period="m", start__gte=filters.first.replace(day=1), start__lte=filters.last
    )
    if wards is not None:
        sold = sold.filter(ward_id__in=wards)
    ids = sold.values_list("product_id", flat=True).distinct()
    rows = Product.objects.filter(pk__in=ids).values_list("pk", "name", "farm__name")
    return sorted((pk, f"{name} — {farm}") for pk, name, farm in rows)
