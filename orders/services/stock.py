"""Stock taken by orders and given back by cancellations (DESIGN.md house rule 5).

Taking stock locks the listings in primary-key order (so two checkouts that share listings
never deadlock), then takes every line in ONE conditional UPDATE that only touches a row whose
stock still covers its line; the CHECK constraint `farms_product_stock_not_negative` stands
behind it. On SQLite the write transaction is IMMEDIATE (settings), so checkouts queue.
Returning stock marks each line first (`stock_returned_at IS NULL` → now), so a line's stock
comes back once, whatever path cancels it. Both are a constant number of queries.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case, DecimalField, F, Q, Value, When
from django.db.models.functions import Least, Now, Round
from django.utils import timezone
from django.utils.translation import gettext as _

from farms.models import FarmStatus, Product, ProductStatus
from farms.units import QUANTITY_COLUMN_MAX
from marketplace.errors import Conflict

from ..models import OrderLine

_STOCK = DecimalField(max_digits=12, decimal_places=3)


def _exact(expression):
    """Round stock arithmetic to the column's 3 places.

    PostgreSQL's numeric is exact already; SQLite keeps decimals as binary floats, where
    0.3 - 0.1 is 0.19999999999999998: unrounded, `stock >= 0.2` would then fail and a listing
    would never reach exactly 0 (and sold out).
    """
    return Round(expression, 3, output_field=_STOCK)


def _given_back(expression):
    """Stock given back, at most what the column holds. Listings stay under `MAX_STOCK`
    (`marketplace.limits`), but a household may restock to it again and again while orders are
    out; returns piling on top must end in a full listing, never in a numeric overflow."""
    return Least(_exact(expression), Value(QUANTITY_COLUMN_MAX, output_field=_STOCK), output_field=_STOCK)


@dataclass(frozen=True)
class Shortfall:
    """A listing that cannot give what a line asks: off sale, or too little stock left."""

    product_id: int
    wanted: Decimal
    available: Decimal
    on_sale: bool


def _totals(wanted: dict[int, Decimal]) -> dict[int, Decimal]:
    return {pk: Decimal(quantity) for pk, quantity in wanted.items() if quantity > 0}


def products_lock(product_ids) -> dict[int, dict]:
    """Lock listings in primary-key order; return {id: {price, stock, status, farm_status}}."""
    rows = (
        Product.objects.filter(pk__in=list(product_ids))
        .order_by("pk")
        .select_for_update(of=("self",))
        .values("pk", "price", "stock", "status", "farm_id", "farm__status")
    )
    return {row["pk"]: row for row in rows}


def stock_take(*, wanted: dict[int, Decimal], locked: dict[int, dict]) -> list[Shortfall]:
    """Take `wanted` {listing id: quantity} from listings locked by `products_lock`.

    Return the shortfalls and take nothing when there is any: the caller refuses the order.
    A listing whose stock reaches 0 becomes `sold_out`.
    """
    wanted = _totals(wanted)
    shortfalls = []
    for pk, quantity in wanted.items():
        row = locked.get(pk)
        on_sale = (
            bool(row) and row["status"] == ProductStatus.ACTIVE and row["farm__status"] == FarmStatus.VERIFIED
        )
        available = row["stock"] if row else Decimal(0)
        if not on_sale or available < quantity:
            shortfalls.append(Shortfall(pk, quantity, available if on_sale else Decimal(0), on_sale))
    if shortfalls or not wanted:
        return shortfalls
    covered = Q()
    for pk, quantity in wanted.items():
        covered |= Q(pk=pk, stock__gte=quantity, status=ProductStatus.ACTIVE)
    updated = Product.objects.filter(covered).update(
        stock=Case(
            *(When(pk=pk, then=_exact(F("stock") - Value(q))) for pk, q in wanted.items()),
            output_field=_STOCK,
        ),
        status=Case(
            *(When(pk=pk, stock=q, then=Value(ProductStatus.SOLD_OUT)) for pk, q in wanted.items()),
            default=F("status"),
        ),
        updated_at=Now(),
    )
    if updated != len(wanted):
        # Cannot happen while the rows are locked; if it does, the caller's transaction must not commit.
        raise RuntimeError(f"stock changed under a lock: {updated} of {len(wanted)} listings taken")
    return []


def stock_return(*, farm_order_ids=(), line_ids=()) -> int:
    """Give back the stock of these lines, or every line of these farm orders, not yet given back;
    return how many lines.

    Call inside the transaction that cancels the farm orders (their rows locked). A listing
    that was sold out comes back on sale; a paused or archived one keeps its status.
    """
    lines = [
        (pk, product_id, quantity if actual is None else actual)  # what the household weighed out
        for pk, product_id, quantity, actual in OrderLine.objects.filter(
            Q(farm_order_id__in=list(farm_order_ids)) | Q(pk__in=list(line_ids)),
            stock_returned_at__isnull=True,
        )
        .select_for_update()
        .values_list("pk", "product_id", "quantity", "actual_quantity")
    ]
    if not lines:
        return 0
    marked = OrderLine.objects.filter(
        pk__in=[pk for pk, _p, _q in lines], stock_returned_at__isnull=True
    ).update(stock_returned_at=timezone.now())
    if marked != len(lines):
        raise RuntimeError("order lines were returned by another transaction")
    back: dict[int, Decimal] = defaultdict(Decimal)
    for _pk, product_id, quantity in lines:
        back[product_id] += quantity
    products_lock(back)
    Product.objects.filter(pk__in=list(back)).update(
        stock=Case(
            *(When(pk=pk, then=_given_back(F("stock") + Value(q))) for pk, q in back.items()),
            output_field=_STOCK,
        ),
        status=Case(
            When(status=ProductStatus.SOLD_OUT, then=Value(ProductStatus.ACTIVE)), default=F("status")
        ),
        updated_at=Now(),
    )
    return len(lines)


def stock_adjust(*, deltas: dict[int, Decimal]) -> None:
    """Give back (positive) or take more (negative) stock of listings, in one conditional UPDATE.

    Call in a transaction: a listing without the stock to take raises Conflict, which rolls the
    whole change back. A sold-out listing that gets stock back is on sale again; one brought to
    0 is sold out.
    """
    deltas = {pk: Decimal(delta) for pk, delta in deltas.items() if delta}
    if not deltas:
        return
    products_lock(deltas)
    covered = Q()
    for pk, delta in deltas.items():
        covered |= Q(pk=pk, stock__gte=-delta) if delta < 0 else Q(pk=pk)
    updated = Product.objects.filter(covered).update(
        stock=Case(
            *(
                When(pk=pk, then=(_given_back if d > 0 else _exact)(F("stock") + Value(d)))
                for pk, d in deltas.items()
            ),
            output_field=_STOCK,
        ),
        status=Case(
            *(When(pk=pk, stock=-d, then=Value(ProductStatus.SOLD_OUT)) for pk, d in deltas.items() if d < 0),
            *(
                When(pk=pk, status=ProductStatus.SOLD_OUT, then=Value(ProductStatus.ACTIVE))
                for pk, d in deltas.items()
                if d > 0
            ),
            default=F("status"),
        ),
        updated_at=Now(),
    )
    if updated != len(deltas):
        raise Conflict(_("Not enough stock left for the extra weight."), code="insufficient_stock")
