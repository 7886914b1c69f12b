"""The bounds of every number a client may send: prices, stock, quantities, totals, weights.

One set, enforced where values enter (listings in `farms.services.products`, the cart in
`orders.services.cart`, checkout in `orders.services.checkout`), so that nothing within them
can overflow a column it later reaches. A single value out of range is a field error (400);
a combination over its bound (a line's total or weight, an order's total or weight) is a
`Conflict` (409) with one of the codes below. The columns they must fit, with room:

- prices, totals, fees, ledger and report sums: 64-bit integers (`BigIntegerField`, at most
  9.2 × 10¹⁸; PostgreSQL's `bigint` overflows past it);
- quantities (stock, minimum order, cart and order lines, lots): `Decimal(12, 3)`, at most
  999 999 999.999; unit weights `Decimal(8, 3)`; an order's and a shipment's weight
  `Decimal(12, 3)` in kg; the statistics' sums of kg `Decimal(18, 3)`.

The bounds are a farmers' market's, not the columns': a typo (an extra 000) is refused long
before anything overflows.
"""

from decimal import Decimal

from django.utils import formats
from django.utils.translation import gettext as _

from .errors import Conflict
from .money import format_vnd

#: Price of one unit, in đồng. A tạ (100 kg) of the dearest durian is a few million; a head of
#: cattle tens of millions. A billion is a typo, and would not fit a card payment either.
MAX_PRICE = 999_999_999

#: Stock of one listing, in its unit: 10 million kg is 10,000 tonnes, a large cooperative's
#: season of rice. 100 times below the column (999,999,999.999), so stock given back by
#: cancellations still fits.
MAX_STOCK = Decimal("10000000")

#: Quantity of one cart or order line (and a listing's minimum order), in its unit: a million
#: counted pieces, or kg (then the weight bound below comes first). Two such lines merged at
#: login still fit the column.
MAX_QUANTITY = Decimal("1000000")

#: Weight of one counted unit (a head, a box, a bunch), in kg: 10 tonnes is a whole truckload.
MAX_UNIT_WEIGHT_KG = Decimal("10000")

#: Weight of one order, in kg: 100 tonnes is several trucks or a barge of the floating market,
#: far more than the collection runs carry. Also bounds one line. The order's weight column
#: holds 10,000 times more; the delivery fee is at most `per_kg_fee` × 100,000.
MAX_WEIGHT_KG = Decimal("100000")

#: One line's total (price × quantity) and one order's total (goods and delivery), in đồng:
#: 10 billion đồng (about 400,000 USD) is generous for a market; sums of a billion such
#: orders still fit a 64-bit column. Card payments are capped lower by `STRIPE_MAX_AMOUNT`.
MAX_LINE_TOTAL = 10_000_000_000
MAX_ORDER_TOTAL = 10_000_000_000

#: Codes of the 409 answers.
LINE_QUANTITY_LIMIT = "line_quantity_limit"
LINE_TOTAL_LIMIT = "line_total_limit"
LINE_WEIGHT_LIMIT = "line_weight_limit"
ORDER_TOTAL_LIMIT = "order_total_limit"
ORDER_WEIGHT_LIMIT = "order_weight_limit"


def format_number(value) -> str:
    """Return a number the reader's way with thousands grouped: `100.000` (vi), `100,000` (en)."""
    value = Decimal(value)
    plain = value.to_integral_value() if value == value.to_integral_value() else value.normalize()
    return formats.number_format(plain, force_grouping=True)


def line_check(
    *, product: int, name: str, unit: str, quantity: Decimal, line_total: int, weight_kg: Decimal
) -> None:
    """Refuse (409) one line whose quantity, total or weight is over its bound.

    `product` is the listing id, `unit` the unit's name in a sentence ("tạ"). A quantity sent
    over `MAX_QUANTITY` is a field error before this; here it is the sum of what a line held
    and what was added.
    """
    quantity_label = f"{format_number(quantity)} {unit}"
    if quantity > MAX_QUANTITY:
        raise Conflict(
            _(
                "%(product)s: one line of an order may hold at most %(max)s — "
                "this one would hold %(quantity)s."
            )
            % {"product": name, "max": f"{format_number(MAX_QUANTITY)} {unit}", "quantity": quantity_label},
            code=LINE_QUANTITY_LIMIT,
            field="quantity",
            product=product,
            limit=f"{MAX_QUANTITY:.3f}",
        )
    if line_total > MAX_LINE_TOTAL:
        raise Conflict(
            _(
                "%(product)s: %(quantity)s would cost %(total)s; "
                "one line of an order may cost at most %(max)s."
            )
            % {
                "product": name,
                "quantity": quantity_label,
                "total": format_vnd(line_total),
                "max": format_vnd(MAX_LINE_TOTAL),
            },
            code=LINE_TOTAL_LIMIT,
            field="quantity",
            product=product,
            limit=MAX_LINE_TOTAL,
        )
    if weight_kg > MAX_WEIGHT_KG:
        raise Conflict(
            _("%(product)s: %(quantity)s would weigh %(weight)s kg; one order may weigh at most %(max)s kg.")
            % {
                "product": name,
                "quantity": quantity_label,
                "weight": format_number(weight_kg),
                "max": format_number(MAX_WEIGHT_KG),
            },
            code=LINE_WEIGHT_LIMIT,
            field="quantity",
            product=product,
            limit=f"{MAX_WEIGHT_KG:.3f}",
        )


def order_check(*, total: int, weight_kg: Decimal) -> None:
    """Refuse (409) a cart or an order whose total (đồng) or weight (kg) is over its bound."""
    if total > MAX_ORDER_TOTAL:
        raise Conflict(
            _(
                "Your order would cost %(total)s; one order may cost at most %(max)s. "
                "Remove some items or order less, and order the rest separately."
            )
            % {"total": format_vnd(total), "max": format_vnd(MAX_ORDER_TOTAL)},
            code=ORDER_TOTAL_LIMIT,
            limit=MAX_ORDER_TOTAL,
        )
    if weight_kg > MAX_WEIGHT_KG:
        raise Conflict(
            _(
                "Your order would weigh %(weight)s kg; one order may weigh at most %(max)s kg. "
                "Remove some items or order less, and order the rest separately."
            )
            % {"weight": format_number(weight_kg), "max": format_number(MAX_WEIGHT_KG)},
            code=ORDER_WEIGHT_LIMIT,
            limit=f"{MAX_WEIGHT_KG:.3f}",
        )
