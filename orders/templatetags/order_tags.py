from django import template

from marketplace.accounts.phone import format_phone

from ..models import FarmOrderStatus, OrderStatus

register = template.Library()


@register.filter
def order_status(status: str, farm=None) -> str:
    """Return the label of an order status, or of a farm order's when `farm` is given."""
    choices = FarmOrderStatus if farm else OrderStatus
    return str(choices(status).label) if status in choices.values else status


@register.filter
def phone(e164: str) -> str:
    """Return a stored +84 number the way people read it: 0912 345 678."""
    return format_phone(e164)
