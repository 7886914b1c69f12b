"""Exports of the officials' tables as CSV or XLSX (openpyxl): Vietnamese headers, money as đồng.

A short range is answered at once; a long one (more than EXPORT_SYNC_DAYS) is prepared by the
`reports.build_export` task, whose progress the official follows, and the file is kept in the
private storage for the official who asked. Exports hold what the API shows, nothing more: the
"<3" suppression included, no buyer's name, phone or address.
"""

import csv
import io
from datetime import date

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from marketplace.outbox.services import enqueue
from marketplace.spreadsheets import text_cell

from .selectors import Filters, price_watch, sales_report

#: Money columns get the đồng number format; quantities three decimals.
VND_FORMAT = '#,##0 "₫"'
KG_FORMAT = "#,##0.000"
KINDS = ("sales", "prices")
FORMATS = ("csv", "xlsx")


def _sales_table(params: dict, filters: Filters) -> tuple[list[str], list[list], dict[int, str]]:
    report = sales_report(filters=filters, group_by=params["group_by"])
    headers = [
        _("Group"),
        _("Orders"),
        _("Quantity (kg)"),
        _("Gross (đồng)"),
        _("Cancelled (đồng)"),
        _("Refunded (đồng)"),
        _("Delivered (đồng)"),
        _("Households"),
        _("Buyers"),
    ]
    fields = ("orders", "quantity_kg", "gross", "cancelled", "refunded", "delivered", "households", "buyers")
    rows = [[row["label"], *(row[f] for f in fields)] for row in report["rows"]]
    rows.append([_("Total"), *(report["totals"][f] for f in fields)])
    return headers, rows, {2: KG_FORMAT, 3: VND_FORMAT, 4: VND_FORMAT, 5: VND_FORMAT, 6: VND_FORMAT}


def _prices_table(params: dict, filters: Filters) -> tuple[list[str], list[list], dict[int, str]]:
    headers = [_("Date"), _("Average price per kg (đồng)"), _("Lowest"), _("Highest"), _("Quantity (kg)")]
    rows = [
        [row["date"], row["avg_price_per_kg"], row["min"], row["max"], row["quantity_kg"]]
        for row in price_watch(filters=filters)
    ]
    return headers, rows, {1: VND_FORMAT, 2: VND_FORMAT, 3: VND_FORMAT, 4: KG_FORMAT}


def export_table(kind: str, params: dict, filters: Filters) -> tuple[list[str], list[list], dict[int, str]]:
    """Return the headers, rows and column formats of an export, in Vietnamese."""
    with translation.override("vi"):
        return (_sales_table if kind == "sales" else _prices_table)(params, filters)


def _number(value):
    """Numbers stay numbers in a workbook ("1.500" kg → 1.5); "<3" and labels stay text."""
    if isinstance(value, str):
        try:
            return float(value) if value.replace(".", "", 1).isdigit() else text_cell(value)
        except ValueError:
            return text_cell(value)
    return value


def _fill_sheet(sheet, title: str, headers: list[str], rows: list[list], formats: dict[int, str]) -> None:
    sheet.title = title[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_number(value) for value in row])
    for column, number_format in formats.items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
            cell.number_format = number_format
    sheet.freeze_panes = "A2"


def workbook_bytes(sheets: list[tuple[str, list[str], list[list], dict[int, str]]]) -> bytes:
    """A workbook of several sheets, each (title, headers, rows, column formats)."""
    book = Workbook()
    for index, (title, headers, rows, formats) in enumerate(sheets):
        _fill_sheet(book.active if index == 0 else book.create_sheet(), title, headers, rows, formats)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_xlsx(title: str, headers: list[str], rows: list[list], formats: dict[int, str]) -> bytes:
    return workbook_bytes([(title, headers, rows, formats)])


def to_csv(headers: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")  # spreadsheet programs then read the Vietnamese letters as UTF-8
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([text_cell(v) if isinstance(v, str) else v for v in row])
    return out.getvalue().encode("utf-8")


def export_bytes(kind: str, file_format: str, params: dict, filters: Filters) -> bytes:
    headers, rows, formats = export_table(kind, params, filters)
    if file_format == "xlsx":
        return to_xlsx(kind, headers, rows, formats)
    return to_csv(headers, rows)


def export_filename(kind: str, file_format: str, first: date, last: date) -> str:
    return f"cho-noi-{kind}-{first.isoformat()}-{last.isoformat()}.{file_format}"


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def filters_from_params(params: dict) -> Filters:
    """Rebuild the filters a job was asked with (stored as JSON in the job)."""
    return Filters(
        first=date.fromisoformat(params["from"]),
        last=date.fromisoformat(params["to"]),
        wards=None if params.get("wards") is None else frozenset(params["wards"]),
        categories=None if params.get("categories") is None else frozenset(params["categories"]),
        certified=params.get("certified"),
        payment_method=params.get("payment_method"),
        product=params.get("product"),
    )


def params_from_filters(filters: Filters, **extra) -> dict:
    return {
        "from": filters.first.isoformat(),
        "to": filters.last.isoformat(),
        "wards": None if filters.wards is None else sorted(filters.wards),
        "categories": None if filters.categories is None else sorted(filters.categories),
        "certified": filters.certified,
        "payment_method": filters.payment_method,
        "product": filters.product,
        **extra,
    }


def export_job_run(*, job) -> None:
    """Prepare a job's file (the task's body): progress as it goes, the file kept privately."""
    from django.core.files.base import ContentFile

    from .models import ExportStatus

    job.status, job.progress = ExportStatus.RUNNING, 10
    job.save(update_fields=["status", "progress"])
    filters = filters_from_params(job.params)
    content = export_bytes(job.kind, job.file_format, job.params, filters)
    job.progress = 90
    job.save(update_fields=["progress"])
    job.file.save(
        export_filename(job.kind, job.file_format, filters.first, filters.last),
        ContentFile(content),
        save=False,
    )
    job.status, job.progress, job.finished_at = ExportStatus.DONE, 100, timezone.now()
    job.save(update_fields=["file", "status", "progress", "finished_at"])


def export_start(*, user, kind: str, file_format: str, params: dict, filters: Filters):
    """Answer a short range with the file at once; for a long one, queue a job and return it."""
    from django.conf import settings
    from django.http import HttpResponse

    from .models import ExportJob
    from .tasks import build_export

    if (filters.last - filters.first).days < settings.EXPORT_SYNC_DAYS:
        response = HttpResponse(
            export_bytes(kind, file_format, params, filters), content_type=CONTENT_TYPES[file_format]
        )
        filename = export_filename(kind, file_format, filters.first, filters.last)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    job = ExportJob.objects.create(user=user, kind=kind, file_format=file_format, params=params)
    enqueue(build_export, job.pk)
    return job
