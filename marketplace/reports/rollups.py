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
from django.db import transaction
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


def _sales_rows(lines) -> list[SalesFact]:
    live = ~Q(farm_order__status__in=LEFT)
    weighed = live & Q(kg_per_unit__isnull=False)
    rows = (
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
    return [
        SalesFact(
            day=row["day"],
            farm_id=row["farm_id"],
            ward_id=row["ward_id"],
            category_id=row["category_id"],
            product_id=row["product_id"],
            payment_method=row["payment_method"],
            certified=row["certified"],
            unit=row["unit_any"],
            orders=row["orders_n"],
            lines=row["lines_n"],
            quantity=_qty(row["quantity_sum"]),
            quantity_kg=_qty(row["quantity_kg_sum"]),
            gross=row["gross_sum"],
            gross_kg=row["gross_kg_sum"],
            cancelled=row["cancelled_sum"],
            refunded=row["refunded_sum"],
            delivered=row["delivered_sum"],
            price_min_kg=None if row["price_min"] is None else _qty(row["price_min"]),
            price_max_kg=None if row["price_max"] is None else _qty(row["price_max"]),
        )
        for row in rows
    ]


def _qty(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.001"))


def _line_rows(lines) -> list[OrderLineFact]:
    return [
        OrderLineFact(
            day=row["day"],
            order_id=row["order_id"],
            buyer_id=row["buyer_id"],
            farm_id=row["farm_id"],
            ward_id=row["ward_id"],
            category_id=row["category_id"],
            product_id=row["product_id"],
            payment_method=row["payment_method"],
            certified=row["certified"],
            live=row["is_live"],
        )
        for row in _lines(lines).values(
            "day",
            "order_id",
            "buyer_id",
            "farm_id",
            "ward_id",
            "category_id",
            "product_id",
            "payment_method",
            "certified",
            "is_live",
        )
    ]


BATCH = 2000


@transaction.atomic
def rollups_rebuild(*, first: date, last: date) -> dict[str, int]:
    """Recompute the rollups of the days `first`..`last` (inclusive); return the rows written."""
    start, end = day_bounds(first, last)
    lines = OrderLine.objects.filter(
        farm_order__order__created_at__gte=start, farm_order__order__created_at__lt=end
    )
    SalesFact.objects.filter(day__gte=first, day__lte=last).delete()
    OrderLineFact.objects.filter(day__gte=first, day__lte=last).delete()
    sales = SalesFact.objects.bulk_create(_sales_rows(lines), batch_size=BATCH)
    facts = OrderLineFact.objects.bulk_create(_line_rows(lines), batch_size=BATCH)
    return {"sales": len(sales), "lines": len(facts)}


@transaction.atomic
def rollups_refresh_order(*, order_id: int) -> None:
    """Recompute the rollup cells an order touches: its households' rows of its day."""
    order = Order.objects.filter(pk=order_id).only("created_at").first()
    if order is None:
        return
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
    SalesFact.objects.bulk_create(_sales_rows(lines), batch_size=BATCH)
    OrderLineFact.objects.bulk_create(
        _line_rows(lines.filter(farm_order__order_id=order_id)), batch_size=BATCH
    )
