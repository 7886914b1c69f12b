"""Template helpers of the storefront: prices per unit, quantities, cover photos, the cart badge."""

from django import template

from farms.search import is_preorder
from marketplace.money import format_vnd
from orders.selectors import cart_line_count as count_lines
from orders.services import quantity_text
from orders.services.cart import unit_name
from orders.sessions import session_cart

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_line_count(context) -> int:
    """Return how many lines the visitor's cart holds (0 without a cart): {% cart_line_count as n %}."""
    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return 0
    return count_lines(cart=session_cart(request))


@register.filter
def per_unit(product) -> str:
    """{{ product|per_unit }} → 48.000 ₫/kg"""
    return f"{format_vnd(product.price)}/{unit_name(product.unit)}"


@register.filter
def qty(quantity, unit: str) -> str:
    """{{ product.stock|qty:product.unit }} → 120 kg, 1,5 kg"""
    if quantity is None or quantity == "":
        return ""
    return quantity_text(quantity, unit)


@register.filter
def unit_label(unit: str) -> str:
    """{{ product.unit|unit_label }} → yến (without its explanation)"""
    return unit_name(unit)


@register.filter
def cover(product):
    """Return the listing's cover photo (the first), whatever its state, or None."""
    images = product.images.all()  # prefetched by the catalogue selectors
    return images[0] if images else None


@register.filter
def preorder(product) -> bool:
    """Return True while the harvest or the sale is still to come."""
    return is_preorder(product)


@register.filter
def orderable_stock(product) -> bool:
    """Return True when at least the minimum order is in stock."""
    return product.stock > 0 and product.stock >= product.min_order
