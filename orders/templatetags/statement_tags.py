"""Amounts on a household's statement, signed the way the household reads them (issue #22).

`vnd` prints an amount as it is stored; here a deduction (commission, tax, a refund) is shown as
"−2.000 ₫" when it takes money away, "+500 ₫" when a refund gives commission back, and "0 ₫" when
it is nothing. The sign is a true minus (U+2212), which no browser breaks a line after.
"""

from django import template

from marketplace.money import format_vnd

register = template.Library()

MINUS = "\u2212"


@register.filter(name="deduction")
def deduction(amount) -> str:
    """{{ 2000|deduction }} → −2.000 ₫; {{ -500|deduction }} → +500 ₫; {{ 0|deduction }} → 0 ₫."""
    if amount in (None, ""):
        return ""
    value = int(amount)
    if value == 0:
        return format_vnd(0)
    return f"{MINUS if value > 0 else '+'}{format_vnd(abs(value))}"


@register.filter(name="signed_vnd")
def signed_vnd(amount) -> str:
    """{{ -9500|signed_vnd }} → −9.500 ₫; a positive amount or zero has no sign."""
    if amount in (None, ""):
        return ""
    value = int(amount)
    return f"{MINUS}{format_vnd(-value)}" if value < 0 else format_vnd(value)


@register.filter(name="paid_vnd")
def paid_vnd(net) -> str:
    """A payout's `net` (stored negative: it lowers the balance) as the positive sum that was paid."""
    if net in (None, ""):
        return ""
    return format_vnd(-int(net))
