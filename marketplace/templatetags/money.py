from django import template

from marketplace.money import format_vnd

register = template.Library()


@register.filter(name="vnd")
def vnd(amount) -> str:
    """{{ 125000|vnd }} → 125.000 ₫"""
    return format_vnd(amount)
