"""The sales cube: sums and exact sets of orders, buyers and households per period and cuboid.

`SalesFact` and `OrderLineFact` hold a year of sales at 1 million order lines in ~1.7 million
rows, and a distinct count over them reads every line of the range: a year took seconds. The
cube keeps, per day, ISO week or month (`period`) and per combination of dimensions
(`CUBOIDS`), the sums and the sets of live orders, buyers and households as compressed bitmaps
(Roaring, `pyroaring`). Sets of whole periods are unioned exactly, so a year by ward reads
12 × 92 cells instead of a million lines, and the answer is the same number to the unit.

Cells are computed from the two facts (never from orders) by `cube_cells`, the one function
used by the rebuild, the refresh of an order and the reader (for days a cuboid does not store).
Readers choose the smallest cuboid that has every dimension a question filters or groups by
(`choose`), cut the range into whole months, whole weeks and days (`pieces`), and add and
union the cells (`cube_report`); a question no cuboid answers returns None and is answered
from the facts.
"""

from collections import defaultdict, namedtuple
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import connections, models
from django.db.models import Count, F, Q, Sum, Value
from pyroaring import BitMap

from .models import OrderLineFact, SalesCube, SalesFact

SUMS = ("quantity_kg", "gross", "cancelled", "refunded", "delivered")
SETS = ("orders", "buyers", "farms")
#: The fact's column holding each set's ids.
SET_COLUMNS = {"orders": "order_id", "buyers": "buyer_id", "farms": "farm_id"}
#: The cell's column holding each set's size.
SIZES = {"orders": "orders_n", "buyers": "buyers_n", "farms": "farms_n"}
#: The fact readers' name of each set's count.
COUNT_NAMES = {"orders": "orders_n", "buyers": "buyers_n", "farms": "households_n"}


@dataclass(frozen=True)
class Cuboid:
    code: int
    dims: tuple[str, ...]
    periods: str  # "d" day, "w" ISO week (from Monday), "m" month


#: Smallest first: a question is answered by the first cuboid holding every dimension it needs.
#: Cuboids of households and products also carry what a household or product implies (its ward,
#: a product's category), so a scope or a category filter needs no larger cuboid. Days are
#: stored for the small cuboids only, and the largest keeps months only: what a cuboid does not
#: store (the edges of a range) is computed from the facts when asked.
CUBOIDS = (
    Cuboid(1, (), "dwm"),
    Cuboid(2, ("ward_id",), "dwm"),
    Cuboid(3, ("category_id",), "dwm"),
    Cuboid(4, ("payment_method",), "dwm"),
    Cuboid(5, ("ward_id", "payment_method"), "dwm"),
    Cuboid(6, ("ward_id", "category_id"), "wm"),
    Cuboid(7, ("farm_id", "ward_id"), "wm"),
    Cuboid(8, ("farm_id", "ward_id", "payment_method"), "wm"),
    Cuboid(9, ("product_id", "farm_id", "ward_id", "category_id"), "wm"),
    Cuboid(10, ("ward_id", "category_id", "payment_method", "certified"), "m"),
)
BY_CODE = {cuboid.code: cuboid for cuboid in CUBOIDS}
PRODUCT_CUBOID = 9
#: The value a cell stores for a dimension its cuboid does not have.
ABSENT = {
    "ward_id": "",
    "category_id": 0,
    "payment_method": "",
    "certified": None,
    "farm_id": 0,
    "product_id": 0,
}
DIMENSIONS = tuple(ABSENT)


def period_start(period: str, day: date) -> date:
    if period == "w":
        return day - timedelta(days=day.weekday())
    if period == "m":
        return day.replace(day=1)
    return day


def period_end(period: str, start: date) -> date:
    if period == "w":
        return start + timedelta(days=6)
    if period == "m":
        following = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return following - timedelta(days=1)
    return start


class StartOf(models.Func):
    """The first day of a date's ISO week or month, as a date.

    Django's TruncWeek of a date is a timestamp with time zone on PostgreSQL, loaded and
    converted back to a date row by row in Python: a third of a rebuild's time at 10k lines.
    """

    output_field = models.DateField()

    def __init__(self, kind: str, expression):
        if kind not in ("week", "month"):
            raise ValueError(kind)
        super().__init__(expression)
        self.kind = kind

    def as_sql(self, compiler, connection, **extra_context):
        template = f"(DATE_TRUNC('{self.kind}', %(expressions)s))::date"
        return super().as_sql(compiler, connection, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        template = f"django_date_trunc('{self.kind}', %(expressions)s, NULL, NULL)"
        return super().as_sql(compiler, connection, template=template, **extra_context)


def _start(period: str):
    return {"d": F("day"), "w": StartOf("week", "day"), "m": StartOf("month", "day")}[period]


class IdList(models.Aggregate):
    """The distinct ids of a group: an array on PostgreSQL, "1,5,9" from SQLite's `group_concat`."""

    function = "ARRAY_AGG"
    template = "%(function)s(DISTINCT %(expressions)s)"
    output_field = models.TextField()  # no converter: psycopg's list (or SQLite's text) as it comes
    allow_distinct = True

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def _bitmap(ids) -> BitMap:
    if not ids:
        return BitMap()
    if isinstance(ids, str):
        ids = map(int, ids.split(","))
    return BitMap(ids)


#: A cell as read or computed: the model's columns, the sets as bytes (stored) or bitmaps, or
#: None where a reader did not ask for them.
CELL_FIELDS = ("cuboid", "period", "start", *DIMENSIONS, *SUMS, *SIZES.values(), *SETS)
Cell = namedtuple("Cell", CELL_FIELDS)


def cube_cells(
    cuboid: Cuboid,
    period: str,
    first: date,
    last: date,
    where: Q | None = None,
    *,
    days: list[date] | None = None,
    wanted: tuple[str, ...] = SETS,
) -> list[Cell]:
    """Compute the cells of `cuboid` for the periods starting from `first` to `last` (inclusive).

    `first` and `last` are period starts (Mondays for weeks, firsts for months); `where`
    narrows the facts read (the cells of some keys only). With `days`, the cells are of those
    days taken together (`period` "r", starting on `first`): the edges of a range. Not saved.
    The sets named in `wanted` are computed as bitmaps, the others as their sizes only (None
    for the set).
    """
    if days is None:
        in_range = Q(day__gte=first, day__lte=period_end(period, last))
        start = _start(period)
    else:
        in_range, start = Q(day__in=days), Value(first, output_field=models.DateField())
    sales = SalesFact.objects.filter(in_range)
    lines = OrderLineFact.objects.filter(in_range, live=True)
    if where is not None:
        sales, lines = sales.filter(where), lines.filter(where)
    dims = cuboid.dims
    sums = (
        sales.annotate(start=start)
        .values_list("start", *dims)
        .annotate(**{f"{name}_sum": Sum(name) for name in SUMS})
        .order_by()
    )
    width = 1 + len(dims)  # a row's key: its start and dimensions
    found = {
        row[:width]: row[width:]
        for row in lines.annotate(start=start)
        .values_list("start", *dims)
        .annotate(
            **{
                name: IdList(column) if name in wanted else Count(column, distinct=True)
                for name, column in SET_COLUMNS.items()
            }
        )
        .order_by()
    }
    absent = [ABSENT[dim] for dim in DIMENSIONS]
    positions = [dims.index(dim) + 1 if dim in dims else None for dim in DIMENSIONS]
    nothing = (0,) * len(SETS)
    as_bitmap = [name in wanted for name in SETS]
    cells = []
    for row in sums:
        ids = found.get(row[:width], nothing)
        sets = [_bitmap(one) if bitmap else None for bitmap, one in zip(as_bitmap, ids, strict=True)]
        sizes = [len(one) if one is not None else (size or 0) for one, size in zip(sets, ids, strict=True)]
        cells.append(
            Cell._make(
                (
                    cuboid.code,
                    period,
                    row[0],
                    *[row[at] if at else absent[n] for n, at in enumerate(positions)],
                    *[value or 0 for value in row[width:]],
                    *sizes,
                    *sets,
                )
            )
        )
    return cells


#: The PostgreSQL type of each cell field, for a binary `COPY`.
COPY_TYPES = {
    "cuboid": "int2",
    "period": "varchar",
    "start": "date",
    "ward_id": "varchar",
    "category_id": "int8",
    "payment_method": "varchar",
    "certified": "bool",
    "farm_id": "int8",
    "product_id": "int8",
    "quantity_kg": "numeric",
    **dict.fromkeys(SUMS[1:], "int8"),
    **dict.fromkeys(SIZES.values(), "int4"),
    **dict.fromkeys(SETS, "bytea"),
}


def _write(cells: list[Cell]) -> int:
    """Insert the cells: `COPY` on PostgreSQL (hundreds of thousands at a rebuild), else in batches."""
    connection = connections[SalesCube.objects.db]
    rows = ((*cell[: -len(SETS)], *(bitmap.serialize() for bitmap in cell[-len(SETS) :])) for cell in cells)
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        columns = ", ".join(quote(SalesCube._meta.get_field(name).column) for name in CELL_FIELDS)
        # Binary: no text escaping of the bitmaps' bytes on either side.
        statement = f"COPY {quote(SalesCube._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            copy.set_types([COPY_TYPES[name] for name in CELL_FIELDS])
            for row in rows:
                copy.write_row(row)
        return len(cells)
    objects = (SalesCube(**dict(zip(CELL_FIELDS, row, strict=True))) for row in rows)
    return len(SalesCube.objects.bulk_create(objects, batch_size=2000))


def rolled_up(cells: list[Cell], period: str) -> list[Cell]:
    """The cells of `period` made of day cells: sums added, sets unioned (exact, no query)."""
    groups = defaultdict(list)
    for cell in cells:
        groups[(period_start(period, cell.start), cell[3 : 3 + len(DIMENSIONS)])].append(cell)
    sums_at = range(3 + len(DIMENSIONS), 3 + len(DIMENSIONS) + len(SUMS))
    result = []
    for (start, dims), members in groups.items():
        bitmaps = [BitMap.union(*(getattr(member, name) for member in members)) for name in SETS]
        result.append(
            Cell(
                members[0].cuboid,
                period,
                start,
                *dims,
                *(sum(member[at] for member in members) for at in sums_at),
                *map(len, bitmaps),
                *bitmaps,
            )
        )
    return result


def cube_rebuild(*, first: date, last: date) -> int:
    """Recompute every cell of the days, weeks and months that `first`..`last` touch.

    Call it in a transaction, after the facts of those days were rebuilt. A cuboid that stores
    days computes them over the whole weeks and months touched, and makes its weeks and months
    of them; the others compute weeks and months from the facts."""
    written = 0
    for cuboid in CUBOIDS:
        spans = {
            period: (period_start(period, first), period_start(period, last)) for period in cuboid.periods
        }
        if "d" in cuboid.periods:
            spans["d"] = (
                min(low for low, _high in spans.values()),
                max(period_end(period, high) for period, (_low, high) in spans.items()),
            )
            days = cube_cells(cuboid, "d", *spans["d"])
        for period, (low, high) in spans.items():
            SalesCube.objects.filter(
                cuboid=cuboid.code, period=period, start__gte=low, start__lte=high
            ).delete()
            if "d" not in cuboid.periods:
                cells = cube_cells(cuboid, period, low, high)
            elif period == "d":
                cells = days
            else:  # whole weeks and months only: the days read cover them
                cells = [cell for cell in rolled_up(days, period) if low <= cell.start <= high]
            written += _write(cells)
    return written


def cube_refresh(*, day: date, keys: list[dict]) -> None:
    """Recompute the cells of `day`'s day, week and month that hold any of `keys` (call in a transaction).

    `keys` are the dimensions of an order's lines; both certified values of a key are
    recomputed, so a household certified since the last refresh leaves no stale cell. Each
    cuboid reads the keys' facts once, by day over the days its periods span, and makes its
    day, week and month of them; the stale cells go in one delete, the new in one write.
    """
    stale, cells = Q(pk__in=[]), []
    for cuboid in CUBOIDS:
        projected = {tuple((dim, key[dim]) for dim in cuboid.dims if dim != "certified") for key in keys}
        if not projected:
            continue
        where = Q()
        for key in projected:
            where |= Q(**dict(key))
        starts = {period: period_start(period, day) for period in cuboid.periods}
        days = cube_cells(
            cuboid,
            "d",
            min(starts.values()),
            max(period_end(period, start) for period, start in starts.items()),
            where if cuboid.dims else None,
        )
        for period, start in starts.items():
            stale |= Q(where, cuboid=cuboid.code, period=period, start=start)
            members = [cell for cell in days if period_start(period, cell.start) == start]
            cells += members if period == "d" else rolled_up(members, period)
    SalesCube.objects.filter(stale).delete()
    if cells:
        _write(cells)


# --- Reading ----------------------------------------------------------------------------------------


def needed_dims(filters, group_by: str) -> set[str]:
    """The dimensions a question filters or groups by (the ward whenever the scope is not the city)."""
    dims = set()
    if filters.wards is not None or group_by == "ward":
        dims.add("ward_id")
    if filters.categories is not None or group_by == "category":
        dims.add("category_id")
    if filters.payment_method or group_by == "payment":
        dims.add("payment_method")
    if filters.certified is not None:
        dims.add("certified")
    if group_by == "household":
        dims.add("farm_id")
    if group_by == "product" or filters.product is not None:
        dims.add("product_id")
    return dims


def choose(filters, group_by: str) -> Cuboid | None:
    dims = needed_dims(filters, group_by)
    return next((cuboid for cuboid in CUBOIDS if dims <= set(cuboid.dims)), None)


def pieces(first: date, last: date, group_by: str, latest: date | None) -> list[tuple[str, date]]:
    """Cut `first`..`last` into whole months, whole weeks and days, as (period, start).

    A period counts as whole when the range covers it, or covers it up to the last day with any
    sales (`latest`: no cell holds a later day). Grouped by day, only days; by week, weeks and
    days; otherwise months, then weeks inside what is left of a month, then days.
    """

    def whole(period: str, start: date, low: date, high: date) -> bool:
        end = period_end(period, start)
        return start >= low and (end <= high or (latest is not None and high >= latest and start <= latest))

    result = []
    if group_by == "day":
        return [("d", first + timedelta(days=n)) for n in range((last - first).days + 1)]
    outer = "w" if group_by == "week" else "m"
    start = period_start(outer, first)
    while start <= last:
        low, high = max(start, first), min(period_end(outer, start), last)
        if whole(outer, start, first, last):
            result.append((outer, start))
        else:
            day = low
            while day <= high:
                monday = period_start("w", day)
                if outer == "m" and day == monday and whole("w", monday, low, high):
                    result.append(("w", monday))
                    day = monday + timedelta(days=7)
                else:
                    result.append(("d", day))
                    day += timedelta(days=1)
        start = period_end(outer, start) + timedelta(days=1)
    return result


def filters_q(filters) -> Q:
    """The filters but the range, as a condition on the facts or the cube (same column names)."""
    q = Q()
    if filters.wards is not None:
        q &= Q(ward_id__in=filters.wards)
    if filters.categories is not None:
        q &= Q(category_id__in=filters.categories)
    if filters.certified is not None:
        q &= Q(certified=filters.certified)
    if filters.payment_method:
        q &= Q(payment_method=filters.payment_method)
    if filters.product is not None:
        q &= Q(product_id=filters.product)
    return q


KEY_OF = {
    "ward": lambda cell: cell.ward_id,
    "category": lambda cell: cell.category_id,
    "household": lambda cell: cell.farm_id,
    "product": lambda cell: cell.product_id,
    "payment": lambda cell: cell.payment_method,
    "day": lambda cell: cell.start,
    "week": lambda cell: period_start("w", cell.start),
    "month": lambda cell: period_start("m", cell.start),
    "total": lambda cell: (),
}
#: The dimension a grouping's keys are.
KEY_DIM = {
    "ward": "ward_id",
    "category": "category_id",
    "household": "farm_id",
    "product": "product_id",
    "payment": "payment_method",
}
#: The dimensions one key fixes: a household has one ward; a product one household, ward and
#: category. The cells of one key differ only in the cuboid's other dimensions.
FIXES = {
    "ward": {"ward_id"},
    "category": {"category_id"},
    "payment": {"payment_method"},
    "household": {"farm_id", "ward_id"},
    "product": {"product_id", "farm_id", "ward_id", "category_id"},
}
#: Dimensions with one value per order (an order is paid one way).
PER_ORDER = {"payment_method"}


def count_rules(cuboid: Cuboid, group_by: str) -> dict[str, str]:
    """How each set is counted over the cells of one group: "add" the cells' sizes, "one"
    (1 if any cell has a member), or "union" the bitmaps.

    The cells of a group are of disjoint days, and an order is placed on one day: when they
    differ in nothing else than a dimension fixed per order, they hold different orders, whose
    number adds up. A key that fixes the household has one household. Buyers come back from day
    to day: always a union.
    """
    fixed = FIXES.get(group_by, set())
    return {
        "orders": "add" if set(cuboid.dims) - fixed <= PER_ORDER else "union",
        "buyers": "union",
        "farms": "one" if "farm_id" in fixed else "union",
    }


_SUMS_AT = slice(CELL_FIELDS.index(SUMS[0]), CELL_FIELDS.index(SUMS[-1]) + 1)
_SIZE_AT = {name: CELL_FIELDS.index(size) for name, size in SIZES.items()}
_SET_AT = {name: CELL_FIELDS.index(name) for name in SETS}


class Group:
    """The cells of one key: their sums added, their sets counted when asked (`count_rules`)."""

    def __init__(self, cells: list[Cell], rules: dict):
        self.cells, self.rules = cells, rules
        columns = zip(*(cell[_SUMS_AT] for cell in cells), strict=True)
        self.sums = dict(zip(SUMS, map(sum, columns), strict=True)) if cells else dict.fromkeys(SUMS, 0)

    def count(self, name: str) -> int:
        cells, rule, at = self.cells, self.rules[name], _SIZE_AT[name]
        if len(cells) == 1 or rule == "add":
            return sum(cell[at] for cell in cells)
        if rule == "one":
            return 1 if any(cell[at] for cell in cells) else 0
        return _union_size([cell[_SET_AT[name]] for cell in cells])

    def counts(self) -> dict:
        return {COUNT_NAMES[name]: self.count(name) for name in SETS}


def _union_size(sets: list) -> int:
    """The size of the union of sets stored (serialized bytes) or computed (bitmaps)."""
    if not sets:
        return 0
    return len(
        BitMap.union(*(one if isinstance(one, BitMap) else BitMap.deserialize(bytes(one)) for one in sets))
    )


@dataclass
class Plan:
    """Where the answer to a question is: the cuboid's stored cells (`stored`, a condition on
    their periods and starts, None when none) and the days to compute from the facts."""

    cuboid: Cuboid
    where: Q  # the filters (and keys) as a condition on the cube and the facts alike
    stored: Q | None
    computed: list[date]


def plan(filters, group_by: str, keys=None) -> Plan | None:
    """How the cube answers `filters` grouped by `group_by` (`keys` only), or None when it cannot."""
    cuboid = choose(filters, group_by)
    if cuboid is None:
        return None
    where = filters_q(filters)
    if keys is not None:
        where &= Q(**{f"{KEY_DIM[group_by]}__in": keys})
    latest = SalesFact.objects.order_by("-day").values_list("day", flat=True).first()
    cut = pieces(filters.first, filters.last, group_by, latest)
    by_period = defaultdict(list)
    for period, start in cut:
        if period in cuboid.periods:
            by_period[period].append(start)
    stored = None
    for period, starts in by_period.items():
        stored = (stored or Q()) | Q(period=period, start__in=starts)
    # Pieces the cuboid does not store are read day by day from the facts.
    computed = sorted(
        start + timedelta(days=n)
        for period, start in cut
        if period not in cuboid.periods
        for n in range((period_end(period, start) - start).days + 1)
        if filters.first <= start + timedelta(days=n) <= filters.last
    )
    return Plan(cuboid, where, stored, computed)


def cube_cells_for(filters, group_by: str, *, keys=None) -> tuple[Cuboid, list[Cell]] | None:
    """The cells answering `filters` grouped by `group_by` (`keys` only), or None when no cuboid can.

    Cells come with their sums and sets' sizes, and with the sets a group needs to union.
    """
    found = plan(filters, group_by, keys)
    if found is None:
        return None
    cuboid, where, computed = found.cuboid, found.where, found.computed
    wanted = tuple(name for name, rule in count_rules(cuboid, group_by).items() if rule == "union")
    cells = []
    if found.stored is not None:
        cells = _read(SalesCube.objects.filter(found.stored, where, cuboid=cuboid.code), wanted)
    if computed:
        # Days a cuboid does not store (the edges of a range), from the facts: day by day when
        # the answer is by day or week, one block per month by month, else all in one block.
        if group_by in ("day", "week"):
            for run_first, run_last in _runs(computed):
                cells += cube_cells(cuboid, "d", run_first, run_last, where, wanted=wanted)
        else:
            blocks = defaultdict(list)
            for day in computed:
                blocks[period_start("m", day) if group_by == "month" else None].append(day)
            for days in blocks.values():
                cells += cube_cells(cuboid, "r", days[0], days[0], where, days=days, wanted=wanted)
    return cuboid, cells


def cube_gross(filters, group_by: str) -> dict | None:
    """{key: gross} of `filters` by household or product, added up in the database (what a top
    ten is ranked by: no sets read), or None when no cuboid answers."""
    found = plan(filters, group_by)
    if found is None:
        return None
    dim, gross = KEY_DIM[group_by], defaultdict(int)
    parts = []
    if found.stored is not None:
        parts.append(SalesCube.objects.filter(found.stored, found.where, cuboid=found.cuboid.code))
    if found.computed:
        parts.append(SalesFact.objects.filter(found.where, day__in=found.computed))
    for part in parts:
        for key, value in part.values_list(dim).annotate(gross_sum=Sum("gross")).order_by():
            gross[key] += value
    return dict(gross)


def _read(cells, wanted: tuple[str, ...]) -> list[Cell]:
    """Stored cells with their sums, sizes and the `wanted` sets (the others come as None)."""
    columns = (
        Value(None, models.BinaryField()) if name in SETS and name not in wanted else name
        for name in CELL_FIELDS
    )
    return [Cell._make(row) for row in cells.values_list(*columns)]


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def cube_report(filters, group_by: str, *, keys=None) -> dict | None:
    """{key: Group} of `filters` grouped by `group_by` ("total" for one group), or None.

    Sets are unioned only when a group's counts are asked for (`Group.counts`), and only where
    the sizes do not tell (`count_rules`). With `keys`, the groups of those keys only.
    """
    found = cube_cells_for(filters, group_by, keys=keys)
    if found is None:
        return None
    cuboid, cells = found
    key_of = KEY_OF[group_by]
    members = defaultdict(list)
    for cell in cells:
        members[key_of(cell)].append(cell)
    rules = count_rules(cuboid, group_by)
    return {key: Group(cells, rules) for key, cells in members.items()}


def cube_total(filters) -> Group | None:
    """The one group of everything within `filters`, from the smallest cuboid that answers."""
    groups = cube_report(filters, "total")
    if groups is None:
        return None
    return groups.get(()) or Group([], dict.fromkeys(SETS, "add"))


def as_sums(group: Group) -> dict:
    """A group's sums named as the fact readers name them (`gross_sum`, …)."""
    return {
        f"{name}_sum": (Decimal(group.sums[name]) if name == "quantity_kg" else group.sums[name])
        for name in SUMS
    }
