"""Checkout: the buyer's server-side cart becomes one order, one farm order per household.

Prices come from the listings, the delivery fee from `logistics`, totals from here: nothing
the client sends about money is read. The whole checkout is one transaction that starts by
locking the buyer's cart (a double submit waits, then finds the cart empty) and takes stock
with one conditional UPDATE (`orders.services.stock`). Its number of queries does not grow
with the number of lines or households.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from farms.selectors import products_visible_to
from farms.units import weight_kg
from logistics.fees import FeeQuote, fee_quote
from marketplace import limits
from marketplace.accounts.phone import normalize_phone
from marketplace.errors import Conflict
from marketplace.geo.models import Ward

from ..hooks import order_changed
from ..models import Cart, CartLine, FarmOrder, Order, OrderLine, Payment, PaymentMethod, StatusChange
from ..payments import PaymentStart, available_methods
from ..selectors import CartDetail, CartLineDetail, LineProblem, cart_detail, cart_version_read
from .cart import quantity_wire, unit_name
from .cod import cod_refusal
from .orders import order_number_new
from .payments import payment_check_amount, payment_open, payment_start
from .stock import products_lock, stock_take

PLACED_NOTE = gettext_noop("Order placed.")
NUMBER_RETRIES = 5
LIMITS = {"name": 120, "address": 200, "note": 1000}


# --- Input ------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    name: str
    phone: str  # E.164
    address: str
    ward: Ward


_WARD_CODE = re.compile(r"[0-9]{5}")


def ward_for_code(code) -> Ward | None:
    """Return the ward with this 5-digit code; anything else (letters, NUL bytes, ²) is None."""
    code = str(code or "").strip()
    return Ward.objects.filter(pk=code).first() if _WARD_CODE.fullmatch(code) else None


def delivery_parse(*, name, phone, address, ward) -> Delivery:
    """Check where an order goes; raise ValidationError with a message per field."""
    errors: dict[str, list] = {}
    name = (name or "").strip()
    address = (address or "").strip()
    if not name:
        errors["name"] = [_("Enter the name of the person who receives the order.")]
    elif len(name) > LIMITS["name"]:
        errors["name"] = [_("Use at most %(max)s characters.") % {"max": LIMITS["name"]}]
    try:
        phone = normalize_phone(phone or "")
    except ValidationError as exc:
        errors["phone"] = exc.messages
    if not address:
        errors["address"] = [_("Enter the house number and street, or the hamlet.")]
    elif len(address) > LIMITS["address"]:
        errors["address"] = [_("Use at most %(max)s characters.") % {"max": LIMITS["address"]}]
    if not isinstance(ward, Ward):
        ward = ward_for_code(ward)
        if ward is None:
            errors["ward"] = [_("Choose a ward or commune from the list.")]
    if errors:
        raise ValidationError(errors)
    return Delivery(name=name, phone=phone, address=address, ward=ward)


def _check_options(*, payment_method: str, note: str, delivery_date) -> None:
    errors: dict[str, list] = {}
    if payment_method not in available_methods():
        errors["payment_method"] = [_("Choose a payment method from the list.")]
    if len(note or "") > LIMITS["note"]:
        errors["note"] = [_("Use at most %(max)s characters.") % {"max": LIMITS["note"]}]
    if delivery_date is not None:
        today = timezone.localdate()
        last = today + datetime.timedelta(days=settings.DELIVERY_DATE_MAX_DAYS)
        if not today <= delivery_date <= last:
            errors["delivery_date"] = [
                _("Choose a delivery date from today to %(last)s.") % {"last": last.strftime("%d/%m/%Y")}
            ]
    if errors:
        raise ValidationError(errors)


# --- The quote a buyer sees ------------------------------------------------------------


@dataclass(frozen=True)
class MethodOption:
    method: str
    label: str
    available: bool
    reason: str = ""
    code: str = ""


@dataclass
class CheckoutQuote:
    """The cart priced now with the delivery fee and the payment methods on offer."""

    detail: CartDetail | None
    weight_kg: Decimal
    fee: FeeQuote | None
    methods: list[MethodOption] = field(default_factory=list)
    #: Why this cart cannot be ordered at all (a bound of `marketplace.limits`), else None.
    refusal: Conflict | None = None

    @property
    def subtotal(self) -> int:
        return self.detail.subtotal if self.detail else 0

    @property
    def delivery_fee(self) -> int | None:
        return self.fee.fee if self.fee else None

    @property
    def total(self) -> int | None:
        return None if self.fee is None else self.subtotal + self.fee.fee

    @property
    def problems(self) -> list[CartLineDetail]:
        return [line for line in self.detail.lines if line.problem] if self.detail else []

    @property
    def is_empty(self) -> bool:
        return self.detail is None or self.detail.is_empty


def _weight_kg(lines: list[CartLineDetail]) -> Decimal:
    return sum(
        (weight_kg(line.quantity, line.product.unit, line.product.unit_weight_kg) for line in lines),
        Decimal(0),
    )


def checkout_limits_check(*, lines: list[CartLineDetail], weight: Decimal, total: int) -> None:
    """Refuse (409, `marketplace.limits`) lines or an order over the market's bounds.

    Judged on the lines as priced now, before anything is written, so no total, weight or
    quantity can overflow a column of the order (a cart filled before a price rose is caught
    here too).
    """
    for line in lines:
        product = line.product
        limits.line_check(
            product=product.pk,
            name=product.name,
            unit=unit_name(product.unit),
            quantity=line.quantity,
            line_total=line.line_total,
            weight_kg=weight_kg(line.quantity, product.unit, product.unit_weight_kg),
        )
    limits.order_check(total=total, weight_kg=weight)


def _method_options(*, buyer, total: int) -> list[MethodOption]:
    options = []
    for method in available_methods():
        label = str(PaymentMethod(method).label) if method in PaymentMethod.values else method
        refusal = cod_refusal(buyer=buyer, total=total) if method == PaymentMethod.COD else None
        options.append(
            MethodOption(
                method=method,
                label=label,
                available=refusal is None,
                reason=refusal.message if refusal else "",
                code=refusal.code if refusal else "",
            )
        )
    return options


def checkout_quote(*, buyer, ward=None) -> CheckoutQuote:
    """Return what checking out now would cost: lines, weight, fee for `ward` (if given), methods."""
    cart = Cart.objects.filter(user=buyer).first()
    detail = cart_detail(cart=cart) if cart is not None else None
    if detail is None or detail.is_empty:
        return CheckoutQuote(detail=detail, weight_kg=Decimal(0), fee=None)
    ordered = [line for line in detail.lines if line.available]
    weight = _weight_kg(ordered)
    fee = None
    if ward is not None:
        ward_code = getattr(ward, "pk", ward)
        fee = fee_quote(ward_code=ward_code, weight_kg=weight, goods_value=detail.subtotal)
    total = detail.subtotal + (fee.fee if fee else 0)
    try:
        checkout_limits_check(lines=ordered, weight=weight, total=total)
    except Conflict as exc:
        refusal = exc
    else:
        refusal = None
    return CheckoutQuote(
        detail=detail,
        weight_kg=weight,
        fee=fee,
        methods=_method_options(buyer=buyer, total=total),
        refusal=refusal,
    )


# --- Placing the order ----------------------------------------------------------------


def _line_entry(line: CartLineDetail, problem: str | None = None, available=None) -> dict:
    product = line.product
    return {
        "id": line.id,
        "product": product.pk,
        "name": product.name,
        "problem": problem or line.problem,
        "available": quantity_wire(product.stock if available is None else available),
    }


def _changed_since(version: str, detail: CartDetail) -> list[dict]:
    """Name the lines that differ from what `version` showed the buyer, and say how."""
    seen = cart_version_read(version)
    changed = []
    for line in detail.lines:
        before = seen.get(line.product.pk) if seen is not None else None
        entry = _line_entry(line)
        if seen is None:
            entry["problem"] = line.problem or "changed"  # not a version we made: name every line
        elif before is None:
            entry["problem"] = line.problem or "added"
        elif before.price != line.unit_price:
            entry.update(problem="price_changed", previous_price=before.price)
        elif before.quantity != line.quantity:
            entry.update(problem="quantity_changed", previous_quantity=quantity_wire(before.quantity))
        elif before.available != line.available:
            entry["problem"] = line.problem or "available_again"
        else:
            continue
        changed.append(entry)
    gone = set(seen or ()) - {line.product.pk for line in detail.lines}
    # The version comes from the client: name only listings the buyer may see, so ids made up in
    # it never read another household's draft (issue #21); a hidden id is left out like a missing one.
    visible = products_visible_to(user=detail.cart.user).prefetch_related(None)
    for product in visible.filter(pk__in=gone).order_by("pk").values("pk", "name"):
        changed.append({"id": None, "product": product["pk"], "name": product["name"], "problem": "removed"})
    return changed


def _conflict_lines(lines: list[dict]) -> str:
    return "; ".join(f"{line['name']}" for line in lines)


def _insert_order(**fields) -> Order:
    """Insert the order under a fresh number; two checkouts that draw the same number retry."""
    for attempt in range(NUMBER_RETRIES):
        try:
            with transaction.atomic():
                return Order.objects.create(number=order_number_new(), **fields)
        except IntegrityError:
            if attempt == NUMBER_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


@dataclass
class Placed:
    order: Order
    payment_start: PaymentStart | None
    payment_id: int


def checkout_place(
    *,
    buyer,
    delivery: Delivery,
    payment_method: str,
    note: str = "",
    delivery_date: datetime.date | None = None,
    cart_version: str | None = None,
) -> Placed:
    """Turn the buyer's cart into an order and start its payment; empty the cart.

    The order is written in one transaction; an online payment provider (Stripe) is called
    after it commits, so no listing stays locked while Stripe answers, and an unreachable
    provider leaves the order waiting for payment with no page (`payment_open`).

    Refuse with Conflict (409): an empty cart (`cart_empty`); a cart that changed since
    `cart_version` (`cart_changed`); lines that cannot be ordered as they stand, stock
    included (`cart_conflict`, naming them in `lines`); cash on delivery not allowed
    (`cod_limit`, `cod_suspended`); a line or the order over the market's bounds
    (`line_quantity_limit`, `line_total_limit`, `line_weight_limit`, `order_total_limit`,
    `order_weight_limit`: `marketplace.limits`). A refusal takes nothing.
    """
    _check_options(payment_method=payment_method, note=note, delivery_date=delivery_date)
    with transaction.atomic():
        placed = _place(
            buyer=buyer,
            delivery=delivery,
            payment_method=payment_method,
            note=note,
            delivery_date=delivery_date,
            cart_version=cart_version,
        )
    if placed.payment_start is None:
        payment = Payment.objects.get(pk=placed.payment_id)
        placed.payment_start = payment_open(payment=payment) or PaymentStart(confirms_order=False)
    return placed


def _place(*, buyer, delivery, payment_method, note, delivery_date, cart_version) -> "Placed":
    cart = Cart.objects.select_for_update().filter(user=buyer).first()
    detail = cart_detail(cart=cart) if cart is not None else None
    if detail is None or detail.is_empty:
        raise Conflict(_("Your cart is empty."), code="cart_empty")
    if cart_version and cart_version != detail.version:
        raise Conflict(
            _("Your cart changed since you last saw it: check the prices and quantities, then order again."),
            code="cart_changed",
            version=detail.version,
            lines=_changed_since(cart_version, detail),
        )
    problems = [_line_entry(line) for line in detail.lines if line.problem]
    if problems:
        raise Conflict(
            _("Some items cannot be ordered as they stand: %(lines)s.")
            % {"lines": _conflict_lines(problems)},
            code="cart_conflict",
            lines=problems,
        )

    weight = _weight_kg(detail.lines)
    checkout_limits_check(lines=detail.lines, weight=weight, total=detail.subtotal)

    # Lock the listings (primary-key order) and take the stock before writing anything else.
    locked = products_lock(line.product.pk for line in detail.lines)
    moved = [line for line in detail.lines if locked.get(line.product.pk, {}).get("price") != line.unit_price]
    if moved:
        raise Conflict(
            _("A price changed while you were ordering: check your cart, then order again."),
            code="cart_changed",
            version=cart_detail(cart=cart).version,
            lines=[
                {**_line_entry(line, "price_changed"), "previous_price": line.unit_price} for line in moved
            ],
        )
    wanted: dict[int, Decimal] = defaultdict(Decimal)
    for line in detail.lines:
        wanted[line.product.pk] += line.quantity
    shortfalls = stock_take(wanted=wanted, locked=locked)
    if shortfalls:
        short = {s.product_id: s for s in shortfalls}
        lines = [
            _line_entry(
                line,
                LineProblem.INSUFFICIENT_STOCK if short[line.product.pk].on_sale else LineProblem.UNAVAILABLE,
                available=short[line.product.pk].available,
            )
            for line in detail.lines
            if line.product.pk in short
        ]
        raise Conflict(
            _("Some items cannot be ordered as they stand: %(lines)s.") % {"lines": _conflict_lines(lines)},
            code="cart_conflict",
            lines=lines,
        )

    fee = fee_quote(ward_code=delivery.ward.pk, weight_kg=weight, goods_value=detail.subtotal)
    total = detail.subtotal + fee.fee
    limits.order_check(total=total, weight_kg=weight)  # the fee may take it over
    # Within the bound, so 3 places fit the column (weights of counted units may have 6).
    weight = weight.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    if payment_method == PaymentMethod.COD:
        refusal = cod_refusal(buyer=buyer, total=total)
        if refusal is not None:
            raise Conflict(refusal.message, code=refusal.code)
    payment_check_amount(method=payment_method, amount=total)

    order = _insert_order(
        buyer=buyer,
        payment_method=payment_method,
        subtotal=detail.subtotal,
        delivery_fee=fee.fee,
        total=total,
        delivery_name=delivery.name,
        delivery_phone=delivery.phone,
        delivery_address=delivery.address,
        delivery_ward=delivery.ward,
        note=(note or "").strip(),
        delivery_date=delivery_date,
        weight_kg=weight,
    )
    farm_orders = FarmOrder.objects.bulk_create(
        FarmOrder(order=order, farm=group.farm, subtotal=group.subtotal) for group in detail.farms
    )
    by_farm = {fo.farm_id: fo for fo in farm_orders}
    OrderLine.objects.bulk_create(
        OrderLine(
            farm_order=by_farm[line.product.farm_id],
            product=line.product,
            product_name=line.product.name,
            unit=line.product.unit,
            unit_price=line.unit_price,
            quantity=line.quantity,
            line_total=line.line_total,
        )
        for line in detail.lines
    )
    StatusChange.objects.create(
        order=order, from_status="", to_status=order.status, by=buyer, note=PLACED_NOTE
    )
    order_changed.send(sender=Order, order_id=order.pk)
    CartLine.objects.filter(cart=cart, pk__in=[line.id for line in detail.lines]).delete()
    payment, start = payment_start(order=order)

    from ..tasks import notify_after_commit

    notify_after_commit(order.pk, "placed")
    order.refresh_from_db()
    return Placed(order=order, payment_start=start, payment_id=payment.pk)
