"""Reads of orders data: carts priced from the listings as they are now (#4), orders (#5).

Every read of an order takes the user: a buyer reaches only their own orders, a household
only its own farm orders from `new` on; anything else is not found.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from farms.models import Farm, ImageStatus, Product, ProductImage
from farms.selectors import products_public, products_visible_to
from logistics.models import ShipmentEvent
from marketplace.accounts.models import Role

from .models import (
    Cart,
    CartLine,
    FarmOrder,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderLine,
    Payment,
    Problem,
    StatusChange,
)
from .states import HOUSEHOLD_VISIBLE_STATUSES


class LineProblem:
    """Why a line cannot be ordered as it stands (None when it can)."""

    UNAVAILABLE = "unavailable"  # off sale: paused, sold out, archived, household suspended
    INSUFFICIENT_STOCK = "insufficient_stock"  # less stock left than the line asks
    BELOW_MINIMUM = "below_minimum"  # the household raised its minimum order since

    choices = [UNAVAILABLE, INSUFFICIENT_STOCK, BELOW_MINIMUM]


@dataclass
class CartLineDetail:
    """A line priced now: `unit_price` is the listing's current price, never a stored one."""

    line: CartLine
    unit_price: int
    line_total: int
    price_changed: bool
    previous_price: int | None
    problem: str | None
    thumbnail: ProductImage | None

    @property
    def id(self) -> int:
        return self.line.pk

    @property
    def product(self):
        return self.line.product

    @property
    def quantity(self) -> Decimal:
        return self.line.quantity

    @property
    def available(self) -> bool:
        return self.problem is None


@dataclass
class CartFarmGroup:
    """The lines of one household: each household fulfils its own part of an order."""

    farm: Farm
    lines: list[CartLineDetail] = field(default_factory=list)

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines if line.available)

    @property
    def line_ids(self) -> list[int]:
        return [line.id for line in self.lines]


@dataclass
class CartDetail:
    """A cart as the buyer sees it: lines in the order added, grouped by household."""

    cart: Cart
    lines: list[CartLineDetail]
    farms: list[CartFarmGroup]
    version: str

    @property
    def id(self) -> int:
        return self.cart.pk

    @property
    def subtotal(self) -> int:
        """Sum of the lines that can be ordered as they stand (unavailable lines are left out)."""
        return sum(line.line_total for line in self.lines if line.available)

    @property
    def is_empty(self) -> bool:
        return not self.lines


def line_total(price: int, quantity: Decimal) -> int:
    """Return price × quantity in whole đồng, rounded half up."""
    return int((Decimal(price) * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class VersionedLine:
    """What a cart version says of one listing: the quantity, the price and whether it could be ordered."""

    quantity: Decimal
    price: int
    available: bool


def cart_version(lines: list[CartLineDetail]) -> str:
    """Return what the cart would order, as a token: each listing, quantity, price and availability.

    `12-1.5-45000-1_31-3-20000-1`: plain, so checkout can say which lines changed since the
    buyer saw a version (`cart_version_read`). Computed, never stored: a farmer's price change
    (in farms, which cannot call orders) changes it without any hook.
    """
    parts = sorted(
        (
            line.line.product_id,
            f"{format(line.quantity.normalize(), 'f')}-{line.unit_price}-{int(line.available)}",
        )
        for line in lines
    )
    return "_".join(f"{product}-{rest}" for product, rest in parts)


def cart_version_read(version: str) -> dict[int, VersionedLine] | None:
    """Return {listing id: what the version said of it}, or None for a token that is not a version."""
    lines = {}
    for token in (version or "").split("_"):
        try:
            product, quantity, price, available = token.split("-")
            quantity = Decimal(quantity)
            # The client sends it: "sNaN" or "1e30" would raise when compared or shown.
            if not quantity.is_finite() or quantity.adjusted() > 9 or quantity.adjusted() < -3:
                return None
            lines[int(product)] = VersionedLine(quantity, int(price), available == "1")
        except (ValueError, ArithmeticError):
            return None
    return lines


def cart_for(*, user=None, session_key: str | None = None) -> Cart | None:
    """Return the account's cart or a session key's anonymous cart, if there is one."""
    if user is not None and user.is_authenticated:
        return Cart.objects.filter(user=user).first()
    if session_key:
        return Cart.objects.filter(session_key=session_key, user__isnull=True).first()
    return None


def cart_anonymous(*, pk) -> Cart | None:
    """Return the anonymous cart with this id (an id a session holds), or None."""
    try:
        return Cart.objects.filter(pk=int(pk), user__isnull=True).first()
    except (TypeError, ValueError):
        return None


def cart_lines_of(*, user) -> QuerySet[CartLine]:
    """Return the lines of the account's own cart: anyone else's line is not found."""
    if not (user and user.is_authenticated):
        return CartLine.objects.none()
    return CartLine.objects.filter(cart__user=user).select_related("product", "cart")


def products_for_cart(*, user) -> QuerySet[Product]:
    """Return the listings `user` may name to the cart: those they may open, and those their cart
    already holds (its lines show them, on sale or not). Any other id is not found (404)."""
    visible = Q(pk__in=products_visible_to(user=user).values("pk"))
    if user is not None and user.is_authenticated:
        visible |= Q(pk__in=CartLine.objects.filter(cart__user=user).values("product_id"))
    return Product.objects.filter(visible).select_related("farm")


def cart_lines_in(*, cart: Cart | None) -> QuerySet[CartLine]:
    """Return the lines of a cart the caller already holds (pages: the session's cart)."""
    if cart is None:
        return CartLine.objects.none()
    return CartLine.objects.filter(cart=cart).select_related("product", "cart")


def cart_line_count(*, cart: Cart | None) -> int:
    """Return how many lines the cart holds (for a header badge)."""
    return 0 if cart is None else CartLine.objects.filter(cart=cart).count()


def _lines(cart: Cart) -> QuerySet[CartLine]:
    photos = ProductImage.objects.filter(status=ImageStatus.READY).order_by("position", "id")
    return (
        CartLine.objects.filter(cart=cart)
        .select_related("product__farm")
        .annotate(orderable=Exists(products_public().filter(pk=OuterRef("product_id"))))
        .prefetch_related(Prefetch("product__images", queryset=photos, to_attr="cart_photos"))
        .order_by("created_at", "id")
    )


def _problem(line: CartLine) -> str | None:
    product = line.product
    if not line.orderable:
        return LineProblem.UNAVAILABLE
    if line.quantity > product.stock:
        return LineProblem.INSUFFICIENT_STOCK
    if line.quantity < product.min_order:
        return LineProblem.BELOW_MINIMUM
    return None


def cart_detail(*, cart: Cart) -> CartDetail:
    """Return the cart priced now, grouped by household, with its version (two queries)."""
    lines = []
    groups: dict[int, CartFarmGroup] = {}
    for line in _lines(cart):
        product = line.product
        price = product.price
        changed = price != line.seen_price
        photos = product.cart_photos
        detail = CartLineDetail(
            line=line,
            unit_price=price,
            line_total=line_total(price, line.quantity),
            price_changed=changed,
            previous_price=line.seen_price if changed else None,
            problem=_problem(line),
            thumbnail=photos[0] if photos else None,
        )
        lines.append(detail)
        groups.setdefault(product.farm_id, CartFarmGroup(farm=product.farm)).lines.append(detail)
    return CartDetail(cart=cart, lines=lines, farms=list(groups.values()), version=cart_version(lines))


def cart_export(user) -> dict | None:
    """Return the account's cart for their data export."""
    cart = Cart.objects.filter(user=user).first()
    if cart is None:
        return None
    return {
        "created_at": cart.created_at.isoformat(),
        "lines": [
            {
                "product": line.product_id,
                "name": line.product.name,
                "quantity": str(line.quantity),
                "added_at": line.created_at.isoformat(),
            }
            for line in cart.lines.select_related("product").order_by("created_at", "id")
        ],
    }


# --- Orders (issue #5) ------------------------------------------------------------------


def orders_of_buyer(*, user) -> QuerySet[Order]:
    """Return the buyer's own orders, newest first, for a list (one query a page)."""
    if not (user and user.is_authenticated):
        return Order.objects.none()
    return Order.objects.filter(buyer=user).select_related("delivery_ward").order_by("-created_at", "-id")


def _order_detail_qs(qs: QuerySet[Order]) -> QuerySet[Order]:
    lines = OrderLine.objects.order_by("pk")
    return qs.select_related("delivery_ward").prefetch_related(
        Prefetch(
            "farm_orders",
            queryset=FarmOrder.objects.select_related("farm__ward", "shipment").prefetch_related(
                Prefetch("lines", queryset=lines),
                # Reports after delivery (issue #7): newest first, on the order page and in the API.
                Prefetch("problems", queryset=Problem.objects.order_by("-created_at", "-pk")),
                # The carrier's steps, shown to the buyer on the order's timeline (issue #7).
                Prefetch("shipment__events", queryset=ShipmentEvent.objects.order_by("at", "pk")),
            ),
        ),
        Prefetch("status_changes", queryset=StatusChange.objects.order_by("at", "pk")),
        Prefetch("payments", queryset=Payment.objects.order_by("-created_at", "-pk")),
    )


def order_of_buyer(*, user, pk=None, number: str | None = None) -> Order | None:
    """Return one of the buyer's orders with its parts, lines, timeline and payments, or None."""
    qs = orders_of_buyer(user=user)
    qs = qs.filter(pk=pk) if pk is not None else qs.filter(number=number or "")
    return _order_detail_qs(qs).first()


def farm_orders_of_household(*, user) -> QuerySet[FarmOrder]:
    """Return the farm orders of the user's household it may see (from `new` on), newest first."""
    if not (user and user.is_authenticated):
        return FarmOrder.objects.none()
    return (
        FarmOrder.objects.filter(
            farm__owner=user, status__in=HOUSEHOLD_VISIBLE_STATUSES, released_at__isnull=False
        )
        .select_related("order__delivery_ward", "farm", "shipment")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("pk")))
        .order_by("-created_at", "-id")
    )


def orders_export(user) -> list[dict]:
    """Return the account's orders for their data export: what, from whom, where, when, how much."""
    orders = _order_detail_qs(Order.objects.filter(buyer=user).order_by("created_at", "pk"))
    return [
        {
            "number": order.number,
            "created_at": order.created_at.isoformat(),
            "status": order.status,
            "payment_method": order.payment_method,
            "payment_status": order.payment_status,
            "total": order.total,
            "delivery": {
                "name": order.delivery_name,
                "phone": order.delivery_phone,
                "address": order.delivery_address,
                "ward": order.delivery_ward_id,
            },
            "note": order.note,
            "households": [
                {
                    "farm": part.farm.name,
                    "status": part.status,
                    "lines": [
                        {
                            "product": line.product_name,
                            "quantity": str(line.quantity),
                            "line_total": line.line_total,
                        }
                        for line in part.lines.all()
                    ],
                }
                for part in order.farm_orders.all()
            ],
        }
        for order in orders
    ]


# --- The settlement ledger (issue #7) ---------------------------------------------------

#: The money columns of a ledger entry, in the order a statement shows them.
LEDGER_COLUMNS = ("gross", "commission", "tax", "net")


def ledger_farm_for(*, user, farm_id: int | None = None) -> Farm | None:
    """Return the household whose ledger `user` may read, or None (not found).

    A household reads its own (naming another farm is not found); staff read any, by id.
    """
    if not (user and user.is_authenticated):
        return None
    if user.role == Role.STAFF:
        return None if farm_id is None else Farm.objects.select_related("ward").filter(pk=farm_id).first()
    if user.role != Role.FARMER:
        return None
    farm = Farm.objects.select_related("ward").filter(owner=user).first()
    if farm is None or (farm_id is not None and farm_id != farm.pk):
        return None
    return farm


#: Statements exist for these years: enough for the books, and far from datetime's limits
#: (year 1 cannot be moved to UTC, year 9999 has no "month after").
STATEMENT_YEARS = range(2000, 3000)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """Return the first moment of the month in Cần Thơ and of the month after."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return start, end


@dataclass
class LedgerStatement:
    """A household's month: the balance before, each entry, the totals and the balance after."""

    farm: Farm
    year: int
    month: int
    opening_balance: int
    entries: list[LedgerEntry]
    totals: dict[str, int]

    @property
    def closing_balance(self) -> int:
        return self.opening_balance + self.totals["net"]

    @property
    def month_label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return month_bounds(self.year, self.month)[1].date() - timedelta(days=1)

    @property
    def summary(self) -> dict[str, int]:
        """The month in the household's words, every amount as a positive number of đồng.

        `sales` (delivered orders) less `refunds`, `commission` and `tax` is `earned`; `paid` went
        to the household's bank. Opening balance + earned − paid = closing balance. Commission and
        tax are net of what refunds gave back, so either may be negative in a month of refunds only.
        """
        sales = sum(entry.gross for entry in self.entries if entry.kind == LedgerKind.SALE)
        refunds = -sum(entry.gross for entry in self.entries if entry.kind == LedgerKind.REFUND)
        paid = -sum(entry.net for entry in self.entries if entry.kind == LedgerKind.PAYOUT)
        return {
            "sales": sales,
            "refunds": refunds,
            "commission": self.totals["commission"],
            "tax": self.totals["tax"],
            "earned": self.totals["net"] + paid,
            "paid": paid,
        }


def ledger_statement(*, farm: Farm, year: int, month: int) -> LedgerStatement:
    """Return the household's statement of a month (two queries, whatever the number of entries).

    Each entry carries `order_number` (the order of its farm order; None for a payout).
    """
    start, end = month_bounds(year, month)
    opening = LedgerEntry.objects.filter(farm=farm, at__lt=start).aggregate(balance=Sum("net"))["balance"]
    entries = list(
        LedgerEntry.objects.filter(farm=farm, at__gte=start, at__lt=end)
        .annotate(order_number=F("farm_order__order__number"))
        .order_by("at", "id")
    )
    totals = {column: sum(getattr(entry, column) for entry in entries) for column in LEDGER_COLUMNS}
    return LedgerStatement(
        farm=farm, year=year, month=month, opening_balance=opening or 0, entries=entries, totals=totals
    )


def ledger_months(*, farm: Farm) -> list[dict]:
    """Return the months with entries, newest first (one query).

    Each is `{month, entries, net, earned, paid}`: `net` changes the balance; `earned` is the
    month's sales less refunds, commission and tax; `paid` (positive) went to the bank; so
    net = earned − paid.
    """
    zone = ZoneInfo(settings.TIME_ZONE)
    payout = Q(kind=LedgerKind.PAYOUT)
    rows = (
        LedgerEntry.objects.filter(farm=farm)
        .annotate(month=TruncMonth("at", tzinfo=zone))
        .values("month")
        .annotate(
            # Before `net=`, which from there on names the aggregate rather than the column.
            earned=Sum("net", filter=~payout, default=0),
            paid=Sum("net", filter=payout, default=0),
            entries=Count("id"),
            net=Sum("net"),
        )
        .order_by("-month")
    )
    return [
        {
            "month": row["month"].date(),
            "entries": row["entries"],
            "net": row["net"],
            "earned": row["earned"],
            "paid": -row["paid"],
        }
        for row in rows
    ]
