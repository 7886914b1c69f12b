"""Personal data: export on request, deletion that wipes the person but keeps the row."""

import json

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
