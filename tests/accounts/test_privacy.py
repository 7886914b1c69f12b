"""Personal data: export on request, deletion that wipes the person but keeps the row."""

import json
from datetime import date, timedelta

import pytest
from rest_framework.authtoken.models import Token

from marketplace.accounts.models import PasswordResetCode, Role, User
from marketplace.notifications.models import Channel
from marketplace.notifications.services import notify
from tests.conftest import TEST_PASSWORD
from tests.orders.conftest import reference_data  # noqa: F401 (wards and categories)
from tests.signup import after_commit, api_sign_up

# --- Export ------------------------------------------------------------------------------


def test_api_export_holds_the_account_and_its_notifications(api_as, make_user):
    lan = make_user(phone="0912345678", full_name="Nguyễn Thị Lan", email="lan@example.com")
    notify(user=lan, subject="Đơn hàng đã giao", body="Đơn #12 đã giao.", channels=[Channel.IN_APP])

    response = api_as(lan).get("/api/v1/me/export/")
    assert response.status_code == 200
    data = response.json()
    assert data["account"]["id"] == lan.pk
    assert data["account"]["phone"] == "+84912345678"
    assert data["account"]["full_name"] == "Nguyễn Thị Lan"
    assert data["account"]["email"] == "lan@example.com"
    assert data["account"]["role"] == "buyer"
    assert data["account"]["privacy_consent_at"] is not None
    assert [n["subject"] for n in data["notifications"]] == ["Đơn hàng đã giao"]


def test_api_export_leaves_out_other_users(api_as, make_user):
    lan = make_user(full_name="Nguyễn Thị Lan")
    hung = make_user(full_name="Trần Văn Hùng", email="hung@example.com")
    notify(user=hung, subject="Tin riêng của Hùng", body="bí mật", channels=[Channel.IN_APP])

    response = api_as(lan).get("/api/v1/me/export/")
    text = response.content.decode()
    assert response.json()["notifications"] == []
    assert "Hùng" not in text
    assert hung.phone not in text
    assert "hung@example.com" not in text


def test_api_export_needs_a_login(api, db):
    assert api.get("/api/v1/me/export/").status_code == 401


def test_export_page_downloads_a_json_attachment(client, make_user):
    lan = make_user(full_name="Nguyễn Thị Lan")
    notify(user=lan, subject="Chào mừng", body="Xin chào", channels=[Channel.IN_APP])
    client.force_login(lan)

    response = client.get("/account/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="cho-noi-data-')
    assert response["Content-Disposition"].endswith('.json"')
    data = json.loads(response.content.decode("utf-8"))
    assert data["account"]["full_name"] == "Nguyễn Thị Lan"
    assert [n["subject"] for n in data["notifications"]] == ["Chào mừng"]
    # Vietnamese stays readable in the file, not \\u escapes.
    assert "Nguyễn Thị Lan" in response.content.decode("utf-8")


def test_export_page_sends_anonymous_visitors_to_login(client, db):
    response = client.get("/account/export/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/login/")


# --- Deletion ------------------------------------------------------------------------------


@pytest.fixture
def lan(make_user):
    return make_user(phone="0912345678", full_name="Nguyễn Thị Lan", email="lan@example.com")


def test_delete_with_the_password_is_204(api_as, lan):
    response = api_as(lan).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    assert response.status_code == 204


def test_delete_with_a_wrong_password_is_400_and_changes_nothing(api_as, lan):
    client = api_as(lan)
    response = client.post("/api/v1/me/delete/", {"password": "wrong-password"})
    assert response.status_code == 400
    assert "password" in response.json()
    lan.refresh_from_db()
    assert lan.is_active
    assert lan.phone == "+84912345678"
    assert client.get("/api/v1/me/").status_code == 200


def test_delete_wipes_personal_data_and_keeps_the_row(api_as, lan):
    notify(user=lan, subject="s", body="b", channels=[Channel.IN_APP])
    api_as(lan).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})

    user = User.objects.get(pk=lan.pk)
    assert user.phone != "+84912345678"
    assert "0912345678" not in user.phone and "912345678" not in user.phone
    assert user.full_name != "Nguyễn Thị Lan"
    assert user.email == ""
    assert user.is_active is False
    assert user.anonymised_at is not None
    assert not user.has_usable_password()


def test_delete_revokes_the_token(api_as, lan):
    client = api_as(lan)
    client.post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    assert not Token.objects.filter(user=lan).exists()
    assert client.get("/api/v1/me/").status_code == 401


def test_deleted_account_cannot_log_in_with_the_old_phone(api, api_as, lan):
    api_as(lan).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    response = api.post("/api/v1/auth/token/", {"phone": "0912345678", "password": TEST_PASSWORD})
    assert response.status_code == 400


def test_deleted_account_leaves_no_reset_codes(api, api_as, make_user, sms_outbox):
    hoa = make_user(phone="0912345679")
    with after_commit(execute=True):
        api.post("/api/v1/auth/password-reset/", {"phone": "0912345679"})
    assert PasswordResetCode.objects.filter(user=hoa).exists()
    api_as(hoa).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    assert not PasswordResetCode.objects.filter(user=hoa).exists()


def test_the_phone_of_a_deleted_account_can_sign_up_again(
    api, api_as, lan, sms_outbox
):
    api_as(lan).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    response = api_sign_up(
        api,
        sms_outbox,
        {"phone": "0912 345 678", "password": TEST_PASSWORD, "full_name": "Người mới", "role": "farmer"},
    )
    assert response.status_code == 201
    assert response.json()["id"] != lan.pk
    assert User.objects.filter(pk=lan.pk).exists()
    token = api.post("/api/v1/auth/token/", {"phone": "0912345678", "password": TEST_PASSWORD})
    assert token.status_code == 200


def test_deleting_two_accounts_keeps_both_rows(api_as, make_user):
    first, second = make_user(), make_user()
    api_as(first).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    api_as(second).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    assert User.objects.filter(pk__in=[first.pk, second.pk], is_active=False).count() == 2


def test_deleting_an_official_clears_the_scope(api_as, make_user):
    official = make_user(role=Role.OFFICIAL, city_wide=False, wards=["31120"])
    api_as(official).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    official.refresh_from_db()
    assert official.wards.count() == 0
    assert official.city_wide is False


def test_delete_page_logs_out_and_wipes_the_account(client, lan):
    client.force_login(lan)
    assert client.get("/account/delete/").status_code == 200
    response = client.post("/account/delete/", {"password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session
    lan.refresh_from_db()
    assert lan.is_active is False and lan.email == ""


def test_delete_page_with_a_wrong_password_shows_the_error(client, lan):
    client.force_login(lan)
    response = client.post("/account/delete/", {"password": "wrong-password"})
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    lan.refresh_from_db()
    assert lan.is_active is True


def test_delete_removes_the_accounts_notifications_but_not_others(api_as, lan, make_user):
    other = make_user()
    notify(user=lan, subject="Đơn hàng của Lan", body="giao tới 12 Trần Phú", channels=[Channel.IN_APP])
    notify(user=other, subject="x", body="y", channels=[Channel.IN_APP])
    api_as(lan).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    assert not lan.notifications.exists()
    assert other.notifications.count() == 1


# --- Problem reports (issue #21): in the export, and gone with the account ----------------------


@pytest.fixture
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def reports(make_user, reference_data, _private_media):  # noqa: F811 (the fixture)
    """Two buyers, each with a delivered order and a problem report: Lan's with a photo."""
    from django.utils import timezone

    from tests.orders.test_problems import delivered_order, lines_of, png_upload, report

    at = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    lan = make_user(phone="0912345678", full_name="Nguyễn Thị Lan")
    hung = make_user(phone="0912345699", full_name="Trần Văn Hùng")
    lan_order = delivered_order(lan, make_user, at=at)
    hung_order = delivered_order(hung, make_user, at=at)
    lan_problem = report(
        lan_order,
        lines_of(lan_order)[0],
        description="Xoài dập, gọi chị Lan 0912345678 ở hẻm 7 Trần Phú",
        photo=png_upload(),
    )
    hung_problem = report(
        hung_order,
        lines_of(hung_order)[0],
        description="Thiếu nửa ký, anh Hùng ở Cái Khế",
        photo=png_upload(),
    )
    return lan, lan_problem, hung, hung_problem


def test_the_export_holds_the_buyers_problem_reports_with_their_photo(api_as, reports):
    lan, problem, _hung, hung_problem = reports
    client = api_as(lan)
    export = client.get("/api/v1/me/export/").json()
    [row] = export["personal_data"]["orders.problem"]
    assert row["id"] == problem.pk
    assert row["description"] == "Xoài dập, gọi chị Lan 0912345678 ở hẻm 7 Trần Phú"
    assert row["kind"] == "damaged" and row["status"] == "open"
    # The photo: its name and where to download it; the download is the photo itself.
    assert row["photo"]["name"] == problem.photo.name.rsplit("/", 1)[-1]
    download = client.get(row["photo"]["url"])
    assert download.status_code == 200
    with problem.photo.open("rb") as stored:
        assert b"".join(download.streaming_content) == stored.read()
    # Nothing of the other buyer's report, nor of his account.
    text = json.dumps(export, ensure_ascii=False)
    assert "Thiếu nửa ký" not in text and "Hùng" not in text
    assert hung_problem.photo.name.rsplit("/", 1)[-1] not in text
    assert str(hung_problem.pk) not in [str(r["id"]) for r in export["personal_data"]["orders.problem"]]


def test_the_export_page_holds_the_problem_reports_too(client, reports):
    lan, problem, *_others = reports
    client.force_login(lan)
    data = json.loads(client.get("/account/export/").content.decode("utf-8"))
    assert [row["description"] for row in data["personal_data"]["orders.problem"]] == [problem.description]


def test_deleting_the_account_wipes_the_report_and_deletes_its_photo(
    api_as, reports, django_capture_on_commit_callbacks
):
    from orders.models import Problem

    lan, problem, _hung, hung_problem = reports
    photo, storage = problem.photo.name, problem.photo.storage
    assert storage.exists(photo)
    photo_url = f"/api/v1/problems/{problem.pk}/photo/"
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(lan).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    assert response.status_code == 204
    problem.refresh_from_db()
    assert problem.description == "" and not problem.photo
    assert not storage.exists(photo)  # gone from the disk, not only from the row
    # The report itself stays (the household's refund and ledger rest on it), naming nobody.
    assert problem.kind == "damaged" and problem.quantity
    # Staff asking for the photo now: nothing to stream, and no error.
    staff = User.objects.create_superuser(phone="0912345600", password=TEST_PASSWORD)
    assert api_as(staff).get(photo_url).status_code == 404
    # The other buyer's report and photo are untouched.
    hung_problem.refresh_from_db()
    assert hung_problem.description == "Thiếu nửa ký, anh Hùng ở Cái Khế"
    assert hung_problem.photo.storage.exists(hung_problem.photo.name)
    assert Problem.objects.filter(description__contains="Lan").count() == 0


def test_a_rolled_back_deletion_keeps_the_photo(reports, django_capture_on_commit_callbacks):
    """Files go after the commit: a deletion that fails half-way leaves the report whole."""
    from django.db import transaction

    from marketplace.accounts.services import user_anonymise

    lan, problem, *_others = reports
    photo, storage = problem.photo.name, problem.photo.storage
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        user_anonymise(user=lan)
        raise RuntimeError("the deletion failed after the registry ran")
    problem.refresh_from_db()
    assert problem.description.startswith("Xoài dập") and storage.exists(photo)


def test_deleting_a_household_deletes_its_certificate_files(
    api_as,
    make_user,
    reference_data,  # noqa: F811 (the fixture)
    _private_media,
    django_capture_on_commit_callbacks,
):
    from farms import services as farm_services
    from tests.farms.factories import jpeg_upload

    farmer = make_user(Role.FARMER, full_name="Nguyễn Văn Tư")
    farm = farm_services.farm_register(
        owner=farmer,
        name="Vườn chú Tư",
        representative_name="Nguyễn Văn Tư",
        phone=farmer.phone,
        ward="31120",
        address="Ấp Nhơn Lộc 17",
        area_m2=5000,
        main_crops="xoài",
        cccd="092085731101",
    )
    certificate = farm_services.certification_create(
        farm=farm,
        kind="vietgap",
        number="VG-1",
        issuer="Trung tâm",
        issued_on=date(2025, 1, 1),
        expires_on=date(2027, 1, 1),
        document=jpeg_upload("cert.jpg", size=(64, 48)),
    )
    name, storage = certificate.document.name, certificate.document.storage
    export = api_as(farmer).get("/api/v1/me/export/").json()["personal_data"]
    assert [row["document"]["url"] for row in export["farms.certification"]] == [
        f"/api/v1/certifications/{certificate.pk}/document/"
    ]
    assert export["farms.farm"][0]["representative_name"] == "Nguyễn Văn Tư"
    with django_capture_on_commit_callbacks(execute=True):
        assert api_as(farmer).post("/api/v1/me/delete/", {"password": TEST_PASSWORD}).status_code == 204
    certificate.refresh_from_db()
    farm.refresh_from_db()
    assert not certificate.document and not storage.exists(name)
    assert (farm.representative_name, farm.phone, farm.address, farm.cccd_last4) == ("", "", "", "")


def test_deletion_forgets_the_login_records_kept_by_phone(client, api_as, lan):
    """The login lock keeps each login's phone, address and browser: the export shows them, the
    deletion removes them (found by the phone the account had, which it no longer has)."""
    from axes.models import AccessLog

    login = {"username": "0912 345 678", "password": TEST_PASSWORD}
    assert client.post("/account/login/", login, REMOTE_ADDR="203.0.113.9").status_code == 302
    assert AccessLog.objects.filter(username="+84912345678").exists()
    export = api_as(lan).get("/api/v1/me/export/").json()["personal_data"]
    assert [row["ip_address"] for row in export["axes.accesslog"]] == ["203.0.113.9"]
    api_as(lan).post("/api/v1/me/delete/", {"password": TEST_PASSWORD})
    assert not AccessLog.objects.filter(username="+84912345678").exists()
