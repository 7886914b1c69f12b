"""Password reset: a link by email when the account has one, otherwise a 6-digit code by SMS."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from marketplace.accounts.models import PasswordResetCode
from tests.conftest import TEST_PASSWORD
from tests.signup import after_commit

RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
NEW_PASSWORD = "mangcut-phong-dien-2026"
CODE = re.compile(r"\b(\d{6})\b")


def code_from(message: dict) -> str:
    found = CODE.findall(message["body"])
    assert len(found) == 1, message
    return found[0]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def ask_reset(client, data):
    """Ask for a reset (API or page) and run the task it enqueues, as a worker would."""
    url = RESET if isinstance(client, APIClient) else "/account/password/reset/"
    with after_commit(execute=True):
        return client.post(url, data)


def token_status(api, phone, password) -> int:
    return api.post("/api/v1/auth/token/", {"phone": phone, "password": password}).status_code


@pytest.fixture
def farmer(make_user):
    """An account without email, like most farm households."""
    return make_user(phone="0912345678", email="")


# --- By SMS code ---------------------------------------------------------------------


def test_reset_request_sends_a_six_digit_code_by_sms(api, farmer, sms_outbox, mailoutbox):
    response = ask_reset(api, {"phone": "0912 345 678"})
    assert response.status_code == 202
    messages = sms_outbox.messages()
    assert len(messages) == 1
    assert messages[0]["to"] == "+84912345678"
    code_from(messages[0])
    assert mailoutbox == []


def test_the_code_is_stored_only_as_a_hash(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    stored = PasswordResetCode.objects.get(user=farmer)
    assert code not in stored.code_hash


def test_confirm_with_the_code_sets_the_new_password(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])

    response = api.post(CONFIRM, {"phone": "+84 912 345 678", "code": code, "new_password": NEW_PASSWORD})
    assert response.status_code == 200
    assert token_status(api, "0912345678", NEW_PASSWORD) == 200
    assert token_status(api, "0912345678", TEST_PASSWORD) == 400


def test_a_code_works_only_once(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    assert (
        api.post(CONFIRM, {"phone": "0912345678", "code": code, "new_password": NEW_PASSWORD}).status_code
        == 200
    )
    again = api.post(
        CONFIRM, {"phone": "0912345678", "code": code, "new_password": "another-" + NEW_PASSWORD}
    )
    assert again.status_code == 400
    assert token_status(api, "0912345678", NEW_PASSWORD) == 200


def test_reset_revokes_existing_api_tokens(api, api_as, farmer, sms_outbox):
    old_client = api_as(farmer)
    assert old_client.get("/api/v1/me/").status_code == 200
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    api.post(CONFIRM, {"phone": "0912345678", "code": code, "new_password": NEW_PASSWORD})
    assert old_client.get("/api/v1/me/").status_code == 401


def test_a_wrong_code_is_400_on_the_code_field(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    response = api.post(CONFIRM, {"phone": "0912345678", "code": wrong(code), "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "code" in response.json()
    assert token_status(api, "0912345678", TEST_PASSWORD) == 200


def test_four_wrong_codes_still_leave_the_right_one_usable(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    for _ in range(4):
        api.post(CONFIRM, {"phone": "0912345678", "code": wrong(code), "new_password": NEW_PASSWORD})
    response = api.post(CONFIRM, {"phone": "0912345678", "code": code, "new_password": NEW_PASSWORD})
    assert response.status_code == 200


def test_after_five_wrong_codes_even_the_right_one_fails(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    for _ in range(5):
        bad = api.post(CONFIRM, {"phone": "0912345678", "code": wrong(code), "new_password": NEW_PASSWORD})
        assert bad.status_code == 400
    response = api.post(CONFIRM, {"phone": "0912345678", "code": code, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert "code" in response.json()
    assert token_status(api, "0912345678", NEW_PASSWORD) == 400
    assert token_status(api, "0912345678", TEST_PASSWORD) == 200


def test_an_expired_code_fails(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    PasswordResetCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.post(CONFIRM, {"phone": "0912345678", "code": code, "new_password": NEW_PASSWORD})
    assert response.status_code == 400
    assert token_status(api, "0912345678", TEST_PASSWORD) == 200


def age_codes(minutes: int) -> None:
    PasswordResetCode.objects.update(created_at=timezone.now() - timedelta(minutes=minutes))


def test_a_new_code_replaces_the_earlier_one(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    age_codes(2)
    ask_reset(api, {"phone": "0912345678"})
    first, second = (code_from(m) for m in sms_outbox.messages())
    if first != second:
        stale = api.post(CONFIRM, {"phone": "0912345678", "code": first, "new_password": NEW_PASSWORD})
        assert stale.status_code == 400
    fresh = api.post(CONFIRM, {"phone": "0912345678", "code": second, "new_password": NEW_PASSWORD})
    assert fresh.status_code == 200


def test_confirm_refuses_a_weak_new_password_and_keeps_the_code(api, farmer, sms_outbox):
    ask_reset(api, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    weak = api.post(CONFIRM, {"phone": "0912345678", "code": code, "new_password": "12345678"})
    assert weak.status_code == 400
    assert "new_password" in weak.json()
    strong = api.post(CONFIRM, {"phone": "0912345678", "code": code, "new_password": NEW_PASSWORD})
    assert strong.status_code == 200


def test_unknown_phone_gets_the_same_answer_and_no_message(api, farmer, sms_outbox, mailoutbox):
    known = ask_reset(api, {"phone": "0912345678"})
    sms_before = len(sms_outbox.messages())
    unknown = ask_reset(api, {"phone": "0987 000 999"})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    assert len(sms_outbox.messages()) == sms_before
    assert mailoutbox == []


def test_reset_request_for_a_deleted_account_sends_nothing(api, farmer, sms_outbox):
    farmer.is_active = False
    farmer.save()
    assert ask_reset(api, {"phone": "0912345678"}).status_code == 202
    assert sms_outbox.messages() == []


# --- By email link --------------------------------------------------------------------


def test_account_with_email_gets_a_link_by_email_and_no_sms(api, make_user, sms_outbox, mailoutbox, settings):
    settings.SITE_URL = "https://cho-noi.example"
    make_user(phone="0912345678", email="lan@example.com")
    response = ask_reset(api, {"phone": "0912345678"})
    assert response.status_code == 202
    assert sms_outbox.messages() == []
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["lan@example.com"]
    assert re.search(r"https://cho-noi\.example/account/password/reset/[\w-]+/[\w-]+/", mailoutbox[0].body)


def test_the_emailed_link_sets_a_new_password(api, client, make_user, mailoutbox):
    make_user(phone="0912345678", email="lan@example.com")
    ask_reset(api, {"phone": "0912345678"})
    path = re.search(r"https?://[^/\s]+(/account/password/reset/\S+/)", mailoutbox[0].body).group(1)

    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    set_password_url = form_page.redirect_chain[-1][0]
    done = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == "/account/login/"
    assert token_status(api, "0912345678", NEW_PASSWORD) == 200
    assert token_status(api, "0912345678", TEST_PASSWORD) == 400


# --- Pages -------------------------------------------------------------------------------


def test_reset_pages_work_with_an_sms_code(client, farmer, sms_outbox):
    assert client.get("/account/password/reset/").status_code == 200
    response = ask_reset(client, {"phone": "0912 345 678"})
    assert response.status_code == 302
    assert response["Location"].startswith("/account/password/reset/code/?phone=")
    code = code_from(sms_outbox.messages()[0])

    code_page = client.get(response["Location"])
    assert code_page.status_code == 200
    assert "0912 345 678" in code_page.content.decode()

    done = client.post(
        "/account/password/reset/code/",
        {"phone": "0912 345 678", "code": code, "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert done["Location"] == "/account/login/"
    login = client.post("/account/login/", {"username": "0912345678", "password": NEW_PASSWORD})
    assert login.status_code == 302
    assert client.session["_auth_user_id"] == str(farmer.pk)


def test_reset_code_page_shows_the_error_for_a_wrong_code(client, farmer, sms_outbox):
    ask_reset(client, {"phone": "0912345678"})
    code = code_from(sms_outbox.messages()[0])
    response = client.post(
        "/account/password/reset/code/",
        {"phone": "0912345678", "code": wrong(code), "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert farmer.__class__.objects.get(pk=farmer.pk).check_password(TEST_PASSWORD)


def test_reset_purge_task_deletes_old_codes(api, farmer, sms_outbox):
    from marketplace.accounts.tasks import purge_expired_reset_codes

    ask_reset(api, {"phone": "0912345678"})
    PasswordResetCode.objects.update(expires_at=timezone.now() - timedelta(days=2))
    assert purge_expired_reset_codes.delay().get() == 1
    assert not PasswordResetCode.objects.exists()


def test_a_second_request_within_a_minute_sends_no_second_sms(api, farmer, sms_outbox):
    first = ask_reset(api, {"phone": "0912345678"})
    second = ask_reset(api, {"phone": "0912345678"})
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert len(sms_outbox.messages()) == 1


def test_sms_codes_are_limited_per_hour(api, farmer, sms_outbox, settings):
    settings.PASSWORD_RESET_SMS_PER_HOUR = 3
    for _ in range(5):
        assert ask_reset(api, {"phone": "0912345678"}).status_code == 202
        age_codes(2)
    assert len(sms_outbox.messages()) == 3
    age_codes(61)
    ask_reset(api, {"phone": "0912345678"})
    assert len(sms_outbox.messages()) == 4
