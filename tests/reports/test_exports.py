"""Exports of the officials' tables: an XLSX read back matches the API; long ranges by a task."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from marketplace.accounts.models import Role
from tests.reports.conftest import official
from tests.reports.test_sales_api import SALES

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/stats/export/"


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def _workbook(response):
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return load_workbook(io.BytesIO(body)).active


def test_an_xlsx_export_reads_back_as_the_api_answers(world, make_user, api_as):
    client = api_as(official(make_user))
    api = client.get(SALES, {"group_by": "household"}).json()
    sheet = _workbook(client.get(EXPORT, {"kind": "sales", "file": "xlsx", "group_by": "household"}))
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Nhóm",
        "Đơn hàng",
        "Khối lượng (kg)",
        "Doanh số (đồng)",
        "Đã hủy (đồng)",
        "Đã hoàn tiền (đồng)",
        "Đã giao (đồng)",
        "Nông hộ",
        "Người mua",
    )
    by_label = {row[0]: row for row in rows[1:-1]}
    for item in api["rows"]:
        row = by_label[item["label"]]
        assert row[1:] == (
            item["orders"],
            float(item["quantity_kg"]),
            item["gross"],
            item["cancelled"],
            item["refunded"],
            item["delivered"],
            item["households"],
            item["buyers"],
        )
    total = rows[-1]
    assert total[0] == "Tổng cộng" and total[3] == api["totals"]["gross"] == 279000
    assert "<3" in [row[8] for row in rows[1:-1]]  # suppressed in the file as in the API
    assert sheet.cell(row=2, column=4).number_format == '#,##0 "₫"'


def test_a_csv_export_has_vietnamese_headers_and_no_buyer(world, make_user, api_as):
    response = api_as(official(make_user)).get(EXPORT, {"kind": "sales", "file": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Nhóm", "Đơn hàng"] and rows[-1][0] == "Tổng cộng"
    assert rows[-1][3] == "279000"
    text = response.content.decode("utf-8-sig")
    assert "Test buyer" not in text and "+84" not in text and "12 đường 30/4" not in text


def test_a_price_export_and_its_scope(world, make_user, api_as):
    client = api_as(official(make_user, world["a"].farm.ward))
    rows = list(
        _workbook(client.get(EXPORT, {"kind": "prices", "product": world["a"].pk})).iter_rows(
            values_only=True
        )
    )
    assert rows[1][1:] == (48000, 48000, 48000, 3.0)
    assert client.get(EXPORT, {"kind": "prices", "product": world["b"].pk}).status_code == 404
    assert client.get(EXPORT, {"kind": "sales", "ward": world["b"].farm.ward_id}).status_code == 404


def test_a_long_range_is_prepared_by_a_task_for_the_official_who_asked(
    world, make_user, api_as, django_capture_on_commit_callbacks
):
    mine = official(make_user)
    client = api_as(mine)
    today = timezone.localdate()
    params = {"kind": "sales", "file": "xlsx", "from": (today - timedelta(days=400)).isoformat()}
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.get(EXPORT, params)
    assert answer.status_code == 202
    job = answer.json()
    status = client.get(f"/api/v1/stats/exports/{job['id']}/").json()
    assert (status["status"], status["progress"]) == ("done", 100) and status["url"]
    sheet = _workbook(client.get(status["url"]))
    assert list(sheet.iter_rows(values_only=True))[-1][3] == 279000
    other = api_as(official(make_user))
    assert other.get(f"/api/v1/stats/exports/{job['id']}/").status_code == 404
    assert other.get(status["url"]).status_code == 404
    assert api_as(make_user(Role.BUYER)).get(status["url"]).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "orders"}, "kind"), ({"file": "pdf"}, "file"), ({"group_by": "x"}, "group_by")],
)
def test_bad_export_parameters_are_field_errors(world, make_user, api_as, params, field):
    answer = api_as(official(make_user)).get(EXPORT, params)
    assert answer.status_code == 400 and list(answer.json()) == [field]
