from django import template

from ..models import FarmOrderStatus, OrderStatus

register = template.Library()


@register.filter
def order_status(status: str, farm=None) -> str:
    """Return the label of an order status, or of a farm order's when `farm` is given."""
    choices = FarmOrderStatus if farm else OrderStatus
    return str(choices(status).label) if status in choices.values else status
