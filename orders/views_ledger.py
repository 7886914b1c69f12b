"""Settlement statements: a household's months and each month's entries (issue #7).

A household reads its own ledger under /farmer/statements/; staff read any household's under
/staff/statements/<farm id>/. Anyone else, or another household's id, is not found (404), so a
page never confirms that a household exists; a visitor who is not signed in logs in first.
"""


from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import register_converter, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.accounts.models import Role
from marketplace.spreadsheets import csv_download, text_cell

from .selectors import LedgerStatement, ledger_farm_for, ledger_months, ledger_statement


def _farm(request, farm_id: int | None = None):
    """Return the household the page is about: the user's own, or (staff pages) the one named."""
    if farm_id is not None and request.user.role != Role.STAFF:
        raise Http404  # staff pages: even a household's own id is not its way in
    farm = ledger_farm_for(user=request.user, farm_id=farm_id)
    if farm is None:
        raise Http404
    return farm


def _month_url(farm_id: int | None, year: int, month: int) -> str:
    label = f"{year:04d}-{month:02d}"
    if farm_id is None:
        return reverse("orders:statement", kwargs={"month": label})
    return reverse("orders:staff_statement", kwargs={"farm_id": farm_id, "month": label})


def _months_page(request, farm, *, staff: bool):
    months = ledger_months(farm=farm)
    for row in months:
        row["url"] = _month_url(farm.pk if staff else None, row["month"].year, row["month"].month)
    context = {"farm": farm, "months": months, "balance": sum(row["net"] for row in months), "staff": staff}
    return render(request, "orders/statement_list.html", context)


class MonthConverter:
    """`2026-11` in a URL: a year from 2000 to 2999 and a month from 01 to 12 (else not found)."""

    regex = "2[0-9]{3}-(?:0[1-9]|1[0-2])"  # STATEMENT_YEARS

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(MonthConverter, "month")


def _parse_month(month: str) -> tuple[int, int]:
    year, number = month.split("-")
    return int(year), int(number)


def _statement_page(request, farm, month: str, *, staff: bool):
    year, number = _parse_month(month)
    statement = ledger_statement(farm=farm, year=year, month=number)
    if request.GET.get("format") == "csv":
        return _statement_csv(statement)
    back = (
        reverse("orders:staff_statements", kwargs={"farm_id": farm.pk})
        if staff
        else reverse("orders:statements")
    )
    context = {
        "statement": statement,
        "farm": farm,
        "back": back,
        "staff": staff,
        "printed_at": timezone.now(),
    }
    return render(request, "orders/statement.html", context)


def _statement_csv(statement: LedgerStatement) -> HttpResponse:
    """The statement as CSV: money in whole đồng, dates YYYY-MM-DD in Cần Thơ time."""
    response, writer = csv_download(f"sao-ke-{statement.farm.pk}-{statement.month_label}.csv")
    writer.writerow(
        [
            _("Date"),
            _("Order"),
            _("Kind"),
            _("Gross"),
            _("Commission"),
            _("Tax withheld"),
            _("Net"),
            _("Bank transfer reference"),
            _("Note"),
        ]
    )
    writer.writerow(["", "", _("Opening balance"), "", "", "", statement.opening_balance, "", ""])
    for entry in statement.entries:
        writer.writerow(
            [
                timezone.localtime(entry.at).date().isoformat(),
                entry.order_number or "",
                entry.get_kind_display(),
                entry.gross,
                entry.commission,
                entry.tax,
                entry.net,
                text_cell(entry.reference),
                text_cell(entry.note),
            ]
        )
    totals = statement.totals
    writer.writerow(
        ["", "", _("Totals"), totals["gross"], totals["commission"], totals["tax"], totals["net"], "", ""]
    )
    writer.writerow(["", "", _("Closing balance"), "", "", "", statement.closing_balance, "", ""])
    return response


@login_required
def statement_list(request):
    """The household's months with entries, and what the marketplace owes it now."""
    return _months_page(request, _farm(request), staff=False)


@login_required
def statement_detail(request, month: str):
    """The household's statement of one month; `?format=csv` downloads it."""
    return _statement_page(request, _farm(request), month, staff=False)


@login_required
def staff_statement_list(request, farm_id: int):
    """Staff: any household's months."""
    return _months_page(request, _farm(request, farm_id), staff=True)


@login_required
def staff_statement_detail(request, farm_id: int, month: str):
    """Staff: any household's statement of one month; `?format=csv` downloads it."""
    return _statement_page(request, _farm(request, farm_id), month, staff=True)
