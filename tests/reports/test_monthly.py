"""The monthly XLSX report by email, and downloads from the dashboard page."""

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from openpyxl import load_workbook

from marketplace.accounts.models import Role
from marketplace.reports.models import ExportJob, ReportSubscription
from marketplace.reports.monthly import monthly_reports_send, previous_month
from marketplace.reports.tasks import send_monthly_reports
from tests.reports.conftest import official

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_previous_month_edges():
    assert previous_month(date(2026, 12, 1)) == (date(2026, 11, 1), date(2026, 11, 30))
    assert previous_month(date(2027, 1, 15)) == (date(2026, 12, 1), date(2026, 12, 31))
    assert previous_month(date(2028, 3, 1)) == (date(2028, 2, 1), date(2028, 2, 29))


def test_subscribed_officials_get_last_months_report_once(world, make_user, api_as):
    city = official(make_user, email="city@so-nn.cantho.gov.vn")
    ward_a = official(make_user, world["a"].farm.ward, email="a@so-nn.cantho.gov.vn")
    official(make_user, email="not-subscribed@so-nn.cantho.gov.vn")
    no_email = official(make_user)
    for user in (city, ward_a, no_email):
        ReportSubscription.objects.create(user=user)
    next_month = (timezone.localdate().replace(day=1) + timedelta(days=32)).replace(day=1)
    with time_machine.travel(next_month, tick=False):
        assert send_monthly_reports.delay().get() == 2
        assert monthly_reports_send() == 0  # the same month again: nothing more
    assert sorted(m.to[0] for m in mail.outbox) == ["a@so-nn.cantho.gov.vn", "city@so-nn.cantho.gov.vn"]
    this_month = timezone.localdate().replace(day=1)
    for message in mail.outbox:
        (name, content, mimetype) = message.attachments[0]
        assert name == f"cho-noi-bao-cao-{this_month:%Y-%m}.xlsx" and "spreadsheetml" in mimetype
        book = load_workbook(io.BytesIO(content))
        assert book.sheetnames == ["Theo ngày", "Theo danh mục", "Theo phường, xã", "Theo nông hộ"]
        total = list(book["Theo ngày"].iter_rows(values_only=True))[-1]
        api = api_as(city if message.to[0].startswith("city") else ward_a).get(
            "/api/v1/stats/sales/", {"from": this_month.isoformat(), "to": world["today"]}
        )
        assert total[0] == "Tổng cộng" and total[3] == api.json()["totals"]["gross"]
    gross = {
        m.to[0]: list(
            load_workbook(io.BytesIO(m.attachments[0][1]))["Theo ngày"].iter_rows(values_only=True)
        )[-1][3]
        for m in mail.outbox
    }
    assert gross == {"city@so-nn.cantho.gov.vn": 279000, "a@so-nn.cantho.gov.vn": 144000}  # each their wards


def test_the_dashboard_downloads_and_subscribes(world, make_user, client):
    user = official(make_user, email="c@so-nn.cantho.gov.vn")
    client.force_login(user)
    page = client.get("/official/stats/?preset=month")
    assert page.status_code == 200 and b"/official/stats/export/?" in page.content
    response = client.get("/official/stats/export/?preset=month&group_by=household&file=xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[-1][3] == 279000
    bad = client.get("/official/stats/export/?file=pdf")
    assert bad.status_code == 302 and bad["Location"] == "/official/stats/"
    assert client.post("/official/stats/subscription/", {"monthly": "on"}).status_code == 302
    assert ReportSubscription.objects.filter(user=user).exists()
    client.post("/official/stats/subscription/", {})
    assert not ReportSubscription.objects.filter(user=user).exists()
    no_email = official(make_user)
    client.force_login(no_email)
    refused = client.post("/official/stats/subscription/", {"monthly": "on"}, follow=True)
    assert "Hãy thêm địa chỉ email vào tài khoản trước." in refused.content.decode()
    assert not ReportSubscription.objects.filter(user=no_email).exists()
    client.force_login(user)
    client.force_login(make_user(Role.BUYER))
    assert client.get("/official/stats/export/").status_code == 403
    assert client.post("/official/stats/subscription/", {"monthly": "on"}).status_code == 403


def test_a_long_range_from_the_page_is_followed_until_the_file_is_ready(
    world, make_user, client, django_capture_on_commit_callbacks
):
    user = official(make_user)
    client.force_login(user)
    first = (timezone.localdate() - timedelta(days=200)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            f"/official/stats/export/?preset=custom&from={first}&to={world['today']}&file=csv"
        )
    job = ExportJob.objects.get(user=user)
    assert response.status_code == 302 and response["Location"] == f"/official/stats/exports/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert f"/api/v1/stats/exports/{job.pk}/file/" in page and "http-equiv" not in page  # done: no refresh
    client.force_login(official(make_user))
    assert client.get(response["Location"]).status_code == 404


def test_the_dashboard_shows_fulfilment_and_registrations(world, make_user, client):
    from marketplace.reports.operations import fulfilment_rebuild, registrations_rebuild

    today = timezone.localdate()
    fulfilment_rebuild(first=today, last=today)
    registrations_rebuild(first=today, last=today)
    client.force_login(official(make_user))
    response = client.get("/official/stats/?preset=month")
    f, r = response.context["fulfilment"]["totals"], response.context["registrations"]["totals"]
    # Four cash-on-delivery parts reached their households; one was cancelled; none delivered yet.
    assert (f["parts"], f["delivered"], f["cancelled"], f["fulfilment_rate"]) == (4, 0, 1, "0.0")
    assert r["new"] == 2 and r["backlog"] == 0  # the two households, verified on creation
    html = response.content.decode()
    section = html[html.index('id="operations"') :]
    assert "0 / 4" in section and 'id="fulfilment-by-ward"' in section
    assert {row["label"] for row in response.context["fulfilment"]["rows"]} == {
        world["a"].farm.ward.name,
        world["b"].farm.ward.name,
    }
