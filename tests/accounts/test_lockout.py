"""Ten wrong passwords for one phone number lock that account for 15 minutes.

The lock is keyed by the normalised phone, not by the address: many people share one
carrier NAT address, and a typo-prone neighbour must not lock them all out.
"""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.utils import translation

from marketplace.accounts.lockout import lockout_message
from tests.conftest import TEST_PASSWORD

TOKEN = "/api/v1/auth/token/"
LOGIN = "/account/login/"
LIMIT = 10
SPELLINGS = ["0912 345 678", "0912345678", "+84 912 345 678", "84912345678", "0912.345.678"]


@pytest.fixture
def owner(make_user):
    return make_user(phone="0912345678")


def api_login(api, phone, password, ip="203.113.0.7"):
    return api.post(TOKEN, {"phone": phone, "password": password}, REMOTE_ADDR=ip)


def page_login(client, phone, password, ip="203.113.0.7"):
    return client.post(LOGIN, {"username": phone, "password": password}, REMOTE_ADDR=ip)


def age_failures(delta):
    """Move the recorded failures into the past, as if `delta` had gone by."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)


# --- API -------------------------------------------------------------------------


def test_nine_wrong_passwords_do_not_lock_the_account(api, owner):
    for _ in range(LIMIT - 1):
        assert api_login(api, "0912345678", "wrong-password").status_code == 400
    response = api_login(api, "0912345678", TEST_PASSWORD)
    assert response.status_code == 200
    assert response.json()["token"]


def test_api_refuses_the_right_password_after_ten_wrong_ones(api, owner):
    for _ in range(LIMIT):
        api_login(api, "0912345678", "wrong-password")
    response = api_login(api, "0912345678", TEST_PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "account_locked"
    assert "token" not in body
    assert body["detail"]
    assert response["Retry-After"] == str(15 * 60)


def test_api_lock_counts_every_spelling_of_the_phone(api, owner):
    for i in range(LIMIT):
        api_login(api, SPELLINGS[i % len(SPELLINGS)], "wrong-password")
    response = api_login(api, "+84912345678", TEST_PASSWORD)
    assert response.status_code == 429
    assert response.json()["code"] == "account_locked"


def test_lock_does_not_stop_another_account_behind_the_same_address(api, owner, make_user):
    neighbour = make_user(phone="0987654321")
    for _ in range(LIMIT):
        api_login(api, "0912345678", "wrong-password", ip="203.113.0.7")
    assert api_login(api, "0912345678", TEST_PASSWORD, ip="203.113.0.7").status_code == 429

    response = api_login(api, neighbour.phone, TEST_PASSWORD, ip="203.113.0.7")
    assert response.status_code == 200
    assert response.json()["token"]


def test_lock_lasts_the_whole_cool_off(api, owner):
    for _ in range(LIMIT):
        api_login(api, "0912345678", "wrong-password")
    age_failures(timedelta(minutes=14))
    assert api_login(api, "0912345678", TEST_PASSWORD).status_code == 429


def test_lock_ends_after_fifteen_minutes(api, owner):
    for _ in range(LIMIT):
        api_login(api, "0912345678", "wrong-password")
    age_failures(timedelta(minutes=15, seconds=1))
    response = api_login(api, "0912345678", TEST_PASSWORD)
    assert response.status_code == 200
    assert response.json()["token"]


def test_a_successful_token_login_resets_the_failure_count(api, owner):
    for _ in range(LIMIT - 1):
        api_login(api, "0912345678", "wrong-password")
    assert api_login(api, "0912345678", TEST_PASSWORD).status_code == 200
    for _ in range(LIMIT - 1):
        api_login(api, "0912345678", "wrong-password")
    assert api_login(api, "0912345678", TEST_PASSWORD).status_code == 200


# --- Login page ----------------------------------------------------------------------


def test_login_page_logs_in_with_the_right_password(client, owner):
    response = page_login(client, "0912 345 678", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_the_tenth_wrong_password_already_says_the_account_is_locked(api, owner):
    for _ in range(LIMIT - 1):
        assert api_login(api, "0912345678", "wrong-password").status_code == 400
    assert api_login(api, "0912345678", "wrong-password").status_code == 429


def test_login_page_refuses_the_right_password_after_ten_wrong_ones(client, owner):
    for _ in range(LIMIT - 1):
        assert page_login(client, "0912345678", "wrong-password").status_code == 200
    assert page_login(client, "0912345678", "wrong-password").status_code == 429
    response = page_login(client, "0912345678", TEST_PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert response["Retry-After"] == str(15 * 60)


def test_login_page_lock_message_is_vietnamese(client, owner):
    for _ in range(LIMIT):
        page_login(client, "0912345678", "wrong-password")
    response = page_login(client, "0912345678", TEST_PASSWORD)
    with translation.override("vi"):
        vietnamese = lockout_message()
    with translation.override("en"):
        english = lockout_message()
    assert vietnamese != english, "the lock message has no Vietnamese translation"
    assert "15" in vietnamese
    html = response.content.decode()
    assert '<html lang="vi">' in html
    assert vietnamese in html


def test_login_page_lock_counts_every_spelling_and_the_api(client, api, owner):
    for i in range(LIMIT // 2):
        page_login(client, SPELLINGS[i % len(SPELLINGS)], "wrong-password")
    for i in range(LIMIT // 2):
        api_login(api, SPELLINGS[(i + 2) % len(SPELLINGS)], "wrong-password")
    assert page_login(client, "+84 912 345 678", TEST_PASSWORD).status_code == 429
    assert api_login(api, "0912345678", TEST_PASSWORD).status_code == 429


def test_a_successful_page_login_resets_the_failure_count(client, owner):
    for _ in range(LIMIT - 1):
        page_login(client, "0912345678", "wrong-password")
    assert page_login(client, "0912345678", TEST_PASSWORD).status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        page_login(client, "0912345678", "wrong-password")
    assert page_login(client, "0912345678", TEST_PASSWORD).status_code == 302


def test_login_page_lock_does_not_stop_another_account(client, owner, make_user):
    neighbour = make_user(phone="0987654321")
    for _ in range(LIMIT):
        page_login(client, "0912345678", "wrong-password")
    response = page_login(client, "0987 654 321", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(neighbour.pk)


def test_login_page_lock_ends_after_fifteen_minutes(client, owner):
    for _ in range(LIMIT):
        page_login(client, "0912345678", "wrong-password")
    age_failures(timedelta(minutes=15, seconds=1))
    response = page_login(client, "0912345678", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)
