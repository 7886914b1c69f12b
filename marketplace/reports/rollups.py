"""Building the sales rollups from orders: one aggregation in the database, rows replaced per scope.

A line counts on the Cần Thơ day its order was placed, for its household, the household's ward,
the listing's category and the order's payment method; `certified` when the household held a
verified certificate valid that day. Lines of parts that left the order (cancelled, rejected,
returned) count only in `cancelled`; `delivered` is the value of delivered parts; `refunded`
the refunds resolved on problems with a line (a part that left is `cancelled`, not refunded;
a lighter weight already lowered the line). Quantities are as packed (weighed, else ordered);
in kg where the unit is a weight or the listing has `unit_weight_kg`.

Every scope (a range of days, or the households of one order on its day) is rebuilt whole:
its rows are deleted and inserted again in one transaction, so running it twice gives the same
rows and a refresh never adds twice.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from farms.models import Certification, CertificationStatus
from orders.models import FarmOrderStatus, Order, OrderLine, Problem, ProblemStatus

from .cube import DIMENSIONS as CUBE_DIMENSIONS
from .cube import cube_rebuild, cube_refresh
from .models import OrderLineFact, SalesFact

LEFT = (FarmOrderStatus.CANCELLED, FarmOrderStatus.REJECTED, FarmOrderStatus.RETURNED)
QTY = DecimalField(max_digits=18, decimal_places=3)
# Not the unit: a household may change a listing's unit during a day; the cell stays one row
# (its `unit` is the lines' unit, the latest in the alphabet if they differ; `quantity_kg` is exact).
DIMENSIONS = ("day", "farm_id", "ward_id", "category_id", "product_id", "payment_method", "certified")


class PerKg(Func):
    """`amount / kilograms` as a decimal.

    SQLite divides two whole numbers as whole numbers (a price of 300,001 đồng a yến would be
    30,000 đồng a kilo, not 30,000.1), so there the price is made a real number first.
    """

    arg_joiner = " / "
    template = "(%(expressions)s)"
    output_field = QTY

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, arg_joiner=" * 1.0 / ", **extra_context)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Return the first moment of `first` and of the day after `last`, in Cần Thơ time."""
    zone = _zone()
    return datetime.combine(first, time.min, zone), datetime.combine(last + timedelta(days=1), time.min, zone)


def _lines(lines):
    """Annotate order lines with every dimension and measure a rollup needs."""
    live = ~Q(farm_order__status__in=LEFT)
    quantity = Coalesce("actual_quantity", "quantity", output_field=QTY)
    kg_per_unit = Case(
        When(unit="kg", then=Value(Decimal(1))),
        When(unit="yen", then=Value(Decimal(10))),
        When(unit="ta", then=Value(Decimal(100))),
        default=F("product__unit_weight_kg"),
        output_field=QTY,
    )
    refunds = (
        Problem.objects.filter(line=OuterRef("pk"), status=ProblemStatus.RESOLVED)
        .values("line")
        .annotate(total=Sum("refund_amount"))
        .values("total")
    )
    certified = Certification.objects.filter(
        farm=OuterRef("farm_order__farm_id"),
        status__in=(CertificationStatus.VERIFIED, CertificationStatus.EXPIRED),
        issued_on__lte=OuterRef("day"),
        expires_on__gte=OuterRef("day"),
    )
    return (
        lines.annotate(
            day=TruncDate("farm_order__order__created_at", tzinfo=_zone()),
            farm_id=F("farm_order__farm_id"),
            ward_id=F("farm_order__farm__ward_id"),
            category_id=F("product__category_id"),
            payment_method=F("farm_order__order__payment_method"),
            order_id=F("farm_order__order_id"),
            buyer_id=F("farm_order__order__buyer_id"),
            is_live=ExpressionWrapper(live, output_field=BooleanField()),
            packed=quantity,
            kg_per_unit=kg_per_unit,
            line_refund=Coalesce(Subquery(refunds), Value(0)),
        )
        .annotate(certified=Exists(certified))
        .order_by()
    )


#: A line's kilograms as packed. Its price per kg is what the buyer paid for them (`line_total`):
#: the same basis as the average (`gross_kg / quantity_kg`), so the average lies between the lowest
#: and the highest even when a line weighed heavier than ordered was capped at the authorised price.
_KG = ExpressionWrapper(F("packed") * F("kg_per_unit"), output_field=QTY)


def _sales_query(lines):
    """The `SalesFact` cells of `lines`, one row per cell, with the model's column names."""
    live = ~Q(farm_order__status__in=LEFT)
    weighed = live & Q(kg_per_unit__isnull=False)
    return (
        _lines(lines)
        .values(*DIMENSIONS)
        .annotate(
            unit_any=Max("unit"),
            orders_n=Count("order_id", filter=live, distinct=True),
            lines_n=Count("pk", filter=live),
            quantity_sum=Coalesce(Sum("packed", filter=live), Value(Decimal(0)), output_field=QTY),
            quantity_kg_sum=Coalesce(
                Sum(F("packed") * F("kg_per_unit"), filter=weighed), Value(Decimal(0)), output_field=QTY
            ),
            gross_sum=Coalesce(Sum("line_total", filter=live), Value(0)),
            gross_kg_sum=Coalesce(Sum("line_total", filter=weighed), Value(0)),
            cancelled_sum=Coalesce(Sum("line_total", filter=~live), Value(0)),
            refunded_sum=Coalesce(Sum("line_refund", filter=live), Value(0)),
            delivered_sum=Coalesce(
                Sum("line_total", filter=Q(farm_order__status=FarmOrderStatus.DELIVERED)), Value(0)
            ),
            price_min=Min(PerKg("line_total", _KG), filter=weighed, output_field=QTY),
            price_max=Max(PerKg("line_total", _KG), filter=weighed, output_field=QTY),
        )
    )


#: SalesFact's columns and the query's names for them (quantities rounded to the column's 3 places).
SALES_COLUMNS = {
    **{name: name for name in DIMENSIONS},
    "unit": "unit_any",
    "orders": "orders_n",
    "lines": "lines_n",
    "quantity": "ROUND(quantity_sum, 3)",
    "quantity_kg": "ROUND(quantity_kg_sum, 3)",
    "gross": "gross_sum",
    "gross_kg": "gross_kg_sum",
    "cancelled": "cancelled_sum",
    "refunded": "refunded_sum",
    "delivered": "delivered_sum",
    "price_min_kg": "ROUND(price_min, 3)",
    "price_max_kg": "ROUND(price_max, 3)",
}

LINE_COLUMNS = {
    "day": "day",
    "order_id": "order_id",
    "buyer_id": "buyer_id",
    "farm_id": "farm_id",
    "ward_id": "ward_id",
    "category_id": "category_id",
    "product_id": "product_id",
    "payment_method": "payment_method",
    "certified": "certified",
    "live": "is_live",
}


def _insert_select(model, columns: dict[str, str], queryset) -> int:
    """Write the rows of `queryset` into `model`'s table in the database (`INSERT … SELECT`).

    The rows never travel through Python: the query Django builds for the aggregation is the
    `SELECT`, and `columns` maps each column of the table to an expression over its names.
    """
    sql, params = queryset.query.sql_with_params()
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    targets = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    sources = ", ".join(
        expression if "(" in expression else quote(expression) for expression in columns.values()
    )
    # Names come from the model and the constants above, every value is a parameter.
    insert = f"INSERT INTO {quote(model._meta.db_table)} ({targets}) SELECT {sources} FROM ({sql}) AS cells"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(insert, params)
        return cursor.rowcount


def _write(lines, *, line_facts) -> dict[str, int]:
    # Written in the order they are read (a range of days, then wards): a month's rows then lie
    # together on disk instead of across the whole table (at 1M lines a month of line facts took
    # 36,807 pages to read in the order the lines came, a few thousand in this order).
    sales = _insert_select(SalesFact, SALES_COLUMNS, _sales_query(lines).order_by("day", "ward_id"))
    facts = _insert_select(
        OrderLineFact,
        LINE_COLUMNS,
        _lines(line_facts).values(*LINE_COLUMNS.values()).order_by("day", "ward_id"),
    )
    return {"sales": sales, "lines": facts}


#: PostgreSQL advisory lock held by every writer of the rollups until it commits.
ROLLUPS_LOCK = 0x43484F4E


class RollupsBusy(Exception):
    """Another writer holds the rollups: try again later (the refresh task retries with backoff)."""


def _writers_one_at_a_time(*, wait: bool = True) -> None:
    """Wait for any other writer of the rollups to commit, or with `wait=False` raise RollupsBusy.

    Writers replace cells by delete-then-insert; two at once (two workers refreshing two orders
    of one month share the month's city cell) would each insert the cell the other deleted
    before it could see the other's. SQLite already lets one writer in at a time. A refresh does
    not queue behind another (a harvest morning's checkouts would wait in line): it is retried.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUPS_LOCK])
            return
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROLLUPS_LOCK])
        if not cursor.fetchone()[0]:
            raise RollupsBusy()


@transaction.atomic
def rollups_rebuild(*, first: date, last: date) -> dict[str, int]:
    """Recompute the rollups of the days `first`..`last` (inclusive); return the rows written."""
    _writers_one_at_a_time()
    start, end = day_bounds(first, last)
    lines = OrderLine.objects.filter(
        farm_order__order__created_at__gte=start, farm_order__order__created_at__lt=end
    )
    SalesFact.objects.filter(day__gte=first, day__lte=last).delete()
    OrderLineFact.objects.filter(day__gte=first, day__lte=last).delete()
    written = _write(lines, line_facts=lines)
    written["cube"] = cube_rebuild(first=first, last=last)
    return written


@transaction.atomic
def rollups_refresh_order(*, order_id: int) -> None:
    """Recompute the rollup cells an order touches: its households' rows of its day."""
    order = Order.objects.filter(pk=order_id).only("created_at").first()
    if order is None:
        return
    _writers_one_at_a_time(wait=False)
    day = order.created_at.astimezone(_zone()).date()
    start, end = day_bounds(day, day)
    farms = list(order.farm_orders.values_list("farm_id", flat=True))
    lines = OrderLine.objects.filter(
        farm_order__farm_id__in=farms,
        farm_order__order__created_at__gte=start,
        farm_order__order__created_at__lt=end,
    )
    SalesFact.objects.filter(day=day, farm_id__in=farms).delete()
    OrderLineFact.objects.filter(day=day, order_id=order_id).delete()
    _write(lines, line_facts=lines.filter(farm_order__order_id=order_id))
    keys = OrderLineFact.objects.filter(day=day, order_id=order_id).values(*CUBE_DIMENSIONS).distinct()
    cube_refresh(day=day, keys=list(keys))
