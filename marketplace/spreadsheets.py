"""CSV downloads people open in a spreadsheet program: UTF-8 with a byte-order mark (so the
Vietnamese letters show), and typed text that can never run as a formula."""

import csv

from django.http import HttpResponse


def text_cell(text) -> str:
    """Keep typed text from being read as a formula by a spreadsheet program."""
    text = "" if text is None else str(text)
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_download(filename: str):
    """Return an attachment response and a csv writer writing into it (the byte-order mark written)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # spreadsheet programs then read the Vietnamese letters as UTF-8
    return response, csv.writer(response)
