"""The dashboard's long tables, their rows written here.

A year's dashboard has ~3,000 table cells (wards, weeks, fulfilment by ward); as template
variables with filters they were a quarter of the page's time. The rows are the same HTML the
loops made: every value escaped, money as `format_vnd`, kilograms as `floatformat:"-3g"`.
"""

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import conditional_escape as esc
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from marketplace.money import format_vnd

register = template.Library()


def _rows(rows, columns: int, empty: str, row_html) -> str:
    """The `<tr>`s `row_html` makes of `rows` (its values escaped), or one row saying `empty`."""
    if not rows:
        return format_html('<tr><td colspan="{}" class="muted">{}</td></tr>', columns, empty)
    return mark_safe("".join(map(row_html, rows)))  # noqa: S308 - row_html escapes every value


@register.simple_tag
def sales_rows(rows, show_household=False) -> str:
    """The `<tr>`s of a sales table: label (and household), orders, kg, sales, buyers."""

    def html(row) -> str:
        household = f' <span class="muted small">{esc(row["household"])}</span>' if show_household else ""
        return (
            f'<tr data-key="{esc(row["key"])}"><td>{esc(row["label"])}{household}</td>'
            f'<td class="num">{esc(row["orders"])}</td>'
            f'<td class="num">{floatformat(row["quantity_kg"], "-3g")}</td>'
            f'<td class="num money">{esc(format_vnd(row["gross"]))}</td>'
            f'<td class="num">{esc(row["buyers"])}</td></tr>'
        )

    return _rows(rows, 5, _("No sales in this period."), html)


@register.simple_tag
def fulfilment_rows(rows) -> str:
    """The `<tr>`s of fulfilment by ward: parts, delivered, rate, hours to delivery, late, failed."""

    def html(row) -> str:
        return (
            f'<tr data-key="{esc(row["key"])}"><td>{esc(row["label"])}</td>'
            f'<td class="num">{esc(row["parts"])}</td><td class="num">{esc(row["delivered"])}</td>'
            f'<td class="num">{esc(row["fulfilment_rate"] or "—")}</td>'
            f'<td class="num">{esc(row["lead_time_hours"] or "—")}</td>'
            f'<td class="num">{esc(row["late"])}</td><td class="num">{esc(row["failed"])}</td></tr>'
        )

    return _rows(rows, 7, _("No orders in this period."), html)
