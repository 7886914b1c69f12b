"""The cart: add, change and remove lines, merge a visitor's cart at login, record prices shown.

A cart never fixes a price: every read prices the lines from the listings (see
`orders.selectors.cart_detail`); `seen_price` only remembers what the buyer was last shown.
Checkout (#5) takes stock; here stock is only compared with, never changed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, OuterRef, Subquery, Value, When
from django.utils import formats
from django.utils.translation import gettext as _

from farms import units as farm_units
from farms.models import Product
from farms.selectors import products_public
from farms.units import Unit, is_fractional, weight_kg
from marketplace import limits
from marketplace.errors import Conflict

from ..models import Cart, CartLine
from ..selectors import CartDetail, cart_detail, line_total

QUANTITY_PLACES = Decimal("0.001")


# --- Quantities as people read them -------------------------------------------------


def unit_name(unit: str) -> str:
    """Return the unit's label for a sentence, without its explanation: `yến`, not `yến (10 kg)`."""
    try:
        label = str(Unit(unit).label)
    except ValueError:
        return unit
    return label.split(" (", 1)[0]


def quantity_text(quantity, unit: str) -> str:
    """Return `3 kg`, `1,5 kg` (English: `1.5 kg`): no trailing zeros, the language's separator."""
    value = Decimal(quantity)
    plain = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return f"{formats.number_format(plain)} {unit_name(unit)}"


def quantity_wire(quantity: Decimal) -> str:
    """Return a quantity as the API answers it: a string with 3 places ("3.000")."""
    return str(Decimal(quantity).quantize(QUANTITY_PLACES))


def parse_quantity(value) -> Decimal:
    """Return `value` (number or string) as a quantity with at most 3 decimals, more than 0."""
    try:
        number = farm_units.parse_quantity(value, maximum=limits.MAX_QUANTITY)
    except ValidationError as exc:
        raise ValidationError({"quantity": exc.messages}) from None
    if number <= 0:
        raise ValidationError({"quantity": [_("Enter a quantity more than 0.")]})
    return number


# --- Rules --------------------------------------------------------------------------


def _orderable(product: Product) -> Product:
    """Return the listing as it is now, or refuse it: it must be on the public catalogue."""
    current = products_public().prefetch_related(None).filter(pk=product.pk).first()
    if current is None:
        raise Conflict(
            _("%(product)s is not on sale right now.") % {"product": product.name},
            code="product_unavailable",
            product=product.pk,
        )
    return current


def _check(product: Product, *, added: Decimal, total: Decimal) -> None:
    """Check a line's new quantity against the unit, the minimum order and the stock."""
    if not is_fractional(product.unit) and added != added.to_integral_value():
        raise ValidationError({"quantity": [_("This unit is counted: use a whole number.")]})
    if total < product.min_order:
        raise ValidationError(
            {
                "quantity": [
                    _("Order at least %(minimum)s.")
                    % {"minimum": quantity_text(product.min_order, product.unit)}
                ]
            }
        )
    if total > product.stock:
        raise Conflict(
            _("Only %(available)s left — you asked for %(quantity)s.")
            % {
                "available": quantity_text(product.stock, product.unit),
                "quantity": quantity_text(total, product.unit),
            },
            code="insufficient_stock",
            available=quantity_wire(product.stock),
            product=product.pk,
        )


def limits_check(product: Product, quantity: Decimal, *, others=()) -> None:
    """Refuse (409) a line whose total or weight is over its bound, or a cart that would be.

    `others` are the cart's other lines (`CartLine` with their listing): all of them count,
    those off sale too, since they may come back on sale before checkout.
    """
    total = line_total(product.price, quantity)
    weight = weight_kg(quantity, product.unit, product.unit_weight_kg)
    limits.line_check(
        product=product.pk,
        name=product.name,
        unit=unit_name(product.unit),
        quantity=quantity,
        line_total=total,
        weight_kg=weight,
    )
    for line in others:
        total += line_total(line.product.price, line.quantity)
        weight += weight_kg(line.quantity, line.product.unit, line.product.unit_weight_kg)
    limits.order_check(total=total, weight_kg=weight)


def _other_lines(cart_id: int, product: Product):
    return CartLine.objects.filter(cart_id=cart_id).exclude(product=product).select_related("product")


def _lock(cart_id: int) -> None:
    # One writer per cart at a time: two tabs adding the same product add up, never collide.
    Cart.objects.select_for_update().filter(pk=cart_id).first()


# --- Services -----------------------------------------------------------------------


def cart_get_or_create(*, user=None, session_key: str | None = None) -> Cart:
    """Return the account's cart, or the anonymous cart of a session key, creating it once."""
    if user is not None and not user.is_authenticated:
        user = None
    if (user is None) == (not session_key):
        raise ValueError("Give exactly one of user or session_key.")
    if user is not None:
        cart, _created = Cart.objects.get_or_create(user=user)
    else:
        cart, _created = Cart.objects.get_or_create(session_key=session_key)
    return cart


@transaction.atomic
def cart_add(*, cart: Cart, product: Product, quantity) -> CartLine:
    """Put `quantity` of a listing in the cart; a listing already there adds to its line."""
    quantity = parse_quantity(quantity)
    product = _orderable(product)
    _lock(cart.pk)
    line = CartLine.objects.filter(cart=cart, product=product).first()
    total = quantity + (line.quantity if line else 0)
    _check(product, added=quantity, total=total)
    limits_check(product, total, others=_other_lines(cart.pk, product))
    if line is None:
        # The buyer just saw this price on the listing: it is the price last shown.
        return CartLine.objects.create(cart=cart, product=product, quantity=total, seen_price=product.price)
    line.quantity = total
    line.save(update_fields=["quantity", "updated_at"])
    return line


@transaction.atomic
def cart_line_set_quantity(*, line: CartLine, quantity) -> CartLine:
    """Change a line's quantity, checked like an addition."""
    quantity = parse_quantity(quantity)
    product = _orderable(line.product)
    _lock(line.cart_id)
    if not CartLine.objects.filter(pk=line.pk).exists():
        # A checkout (or another tab) took the line while this change waited for the cart.
        raise Conflict(_("This item is no longer in your cart."), code="line_gone")
    _check(product, added=quantity, total=quantity)
    limits_check(product, quantity, others=_other_lines(line.cart_id, product))
    line.quantity = quantity
    line.save(update_fields=["quantity", "updated_at"])
    return line


def cart_line_remove(*, line: CartLine) -> None:
    """Take a line out of its cart (a listing no longer on sale can always be removed)."""
    CartLine.objects.filter(pk=line.pk).delete()


@dataclass(frozen=True)
class MergeCap:
    """A line the merge held to the stock left instead of the quantities added up."""

    product: Product
    requested: Decimal
    kept: Decimal

    @property
    def message(self) -> str:
        return _("%(product)s: only %(kept)s left, so your cart holds %(kept)s instead of %(requested)s.") % {
            "product": self.product.name,
            "kept": quantity_text(self.kept, self.product.unit),
            "requested": quantity_text(self.requested, self.product.unit),
        }


@transaction.atomic
def cart_merge(*, source: Cart, target: Cart) -> list[MergeCap]:
    """Move an anonymous cart's lines into the account's cart, then delete the anonymous cart.

    Quantities of the same listing add up. A total over the stock of a listing on sale is cut
    to the stock and reported (never refused: the buyer did nothing wrong). Lines of listings
    no longer on sale move as they are; the cart shows them as unavailable.
    """
    if source.pk == target.pk:
        return []
    list(Cart.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk"))
    incoming = list(CartLine.objects.filter(cart=source).select_related("product"))
    on_sale = set(
        products_public()
        .prefetch_related(None)
        .filter(pk__in=[line.product_id for line in incoming])
        .values_list("pk", flat=True)
    )
    existing = {line.product_id: line for line in CartLine.objects.filter(cart=target)}
    caps = []
    for line in incoming:
        product = line.product
        current = existing.get(product.pk)
        wanted = line.quantity + (current.quantity if current else 0)
        kept = wanted
        if product.pk in on_sale and 0 < product.stock < wanted:
            kept = product.stock
        # Two lines within the bound add up to one that may not be (checkout judges totals).
        kept = min(kept, limits.MAX_QUANTITY)
        if kept != wanted:
            caps.append(MergeCap(product=product, requested=wanted, kept=kept))
        if current is not None:
            current.quantity = kept
            current.save(update_fields=["quantity", "updated_at"])
        else:
            # Move the row itself: it keeps the price the visitor was last shown.
            line.cart = target
            line.quantity = kept
            line.save(update_fields=["cart", "quantity", "updated_at"])
    source.delete()
    return caps


def cart_mark_seen(*, cart: Cart, prices: Mapping[int, int] | None = None) -> int:
    """Record prices as shown: `prices` maps line ids to the prices shown, else the current ones.

    Return the number of lines changed. Pass what was actually shown when you can: a price
    that changes between showing and recording must still be reported next time.
    """
    lines = CartLine.objects.filter(cart=cart)
    if prices is None:
        current = Product.objects.filter(pk=OuterRef("product_id")).values("price")[:1]
        return lines.update(seen_price=Subquery(current))
    if not prices:
        return 0
    return lines.filter(pk__in=list(prices)).update(
        seen_price=Case(
            *(When(pk=pk, then=Value(price)) for pk, price in prices.items()),
            output_field=IntegerField(),
        )
    )


def cart_show(*, cart: Cart) -> CartDetail:
    """Return the cart as it is shown now (see `cart_detail`) and record its prices as seen.

    A changed price is therefore reported once: on the next showing it is the price seen.
    """
    detail = cart_detail(cart=cart)
    cart_mark_seen(
        cart=cart, prices={line.id: line.unit_price for line in detail.lines if line.price_changed}
    )
    return detail


def carts_purge_abandoned(*, now=None) -> int:
    """Delete anonymous carts nobody can reach any more: untouched longer than a session lives.

    The session that held such a cart has expired (SESSION_COOKIE_AGE), so no visitor can
    see or merge it again. Run daily; deleting nothing is fine.
    """
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    cutoff = (now or timezone.now()) - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    stale = Cart.objects.filter(user__isnull=True, updated_at__lt=cutoff).exclude(
        lines__updated_at__gte=cutoff
    )
    deleted, _unused = Cart.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    return deleted
