"""Attacks with a stolen session or token: taking the account over, guessing its password.

Changing where recovery goes (email, phone), the password, or deleting the account needs the
current password, counted toward the same lockout as the login, tells the old address, and is
rate-limited.
"""
import ast
import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.accounts.models import Role, User
from tests.conftest import TEST_PASSWORD
from tests.signup import after_commit, texted_code

ME = "/api/v1/me/"
CHANGE_PW_URL = "/api/v1/me/password/"
ME_DELETE = "/api/v1/me/delete/"
ME_PHONE = "/api/v1/me/phone/"
ME_PHONE_CONFIRM = "/api/v1/me/phone/confirm/"
TOKEN = "/api/v1/auth/token/"
RESET = "/api/v1/auth/password-reset/"
LIMIT = 10  # AXES_FAILURE_LIMIT


@pytest.fixture
def lan(make_user):
    return make_user(phone="0912345678", email="lan@example.com", full_name="Nguyễn Thị Lan")


def failures(user) -> int:
    attempts = AccessAttempt.objects.filter(username=user.phone)
    return sum(attempts.values_list("failures_since_start", flat=True))


# --- 1. A stolen token cannot move the account's recovery ---------------------------------


def test_a_stolen_token_cannot_change_the_email_without_the_password(api_as, lan, mailoutbox):
    thief = api_as(lan)
    response = thief.patch(ME, {"email": "thief@example.com"})
    assert response.status_code == 400
    assert "current_password" in response.json()
    lan.refresh_from_db()
    assert lan.email == "lan@example.com"
    assert mailoutbox == []


def test_a_wrong_current_password_changes_nothing_and_counts(api_as, lan):
    response = api_as(lan).patch(ME, {"email": "thief@example.com", "current_password": "guess-1"})
    assert response.status_code == 400
    assert "current_password" in response.json()
    lan.refresh_from_db()
    assert lan.email == "lan@example.com"
    assert failures(lan) == 1


def test_a_new_email_with_the_password_tells_the_old_email_and_the_phone(
    api_as, lan, mailoutbox, sms_outbox
):
    with after_commit(execute=True):
        response = api_as(lan).patch(
            ME, {"email": "lan.moi@example.com", "current_password": TEST_PASSWORD}
        )
    assert response.status_code == 200
    assert response.json()["email"] == "lan.moi@example.com"
    assert [m.to for m in mailoutbox] == [["lan@example.com"]]
    assert "l***@example.com" in mailoutbox[0].body  # the new address, masked
    (text,) = sms_outbox.messages()
    assert text["to"] == "+84912345678"


def test_the_name_alone_needs_no_password(api_as, lan):
    response = api_as(lan).patch(ME, {"full_name": "Nguyễn Thị Lan Anh"})
    assert response.status_code == 200
    assert failures(lan) == 0


def test_the_email_on_the_account_page_needs_the_password(client, lan):
    client.force_login(lan)
    response = client.post("/account/", {"full_name": lan.full_name, "email": "thief@example.com"})
    assert response.status_code == 200
    assert response.context["form"].errors["current_password"]
    lan.refresh_from_db()
    assert lan.email == "lan@example.com"


def test_a_password_change_tells_the_phone_and_ends_other_tokens(api_as, lan, sms_outbox, mailoutbox):
    with after_commit(execute=True):
        response = api_as(lan).post(
            CHANGE_PW_URL, {"old_password": TEST_PASSWORD, "new_password": "mang-cut-phong-dien-9"}
        )
    assert response.status_code == 204
    assert [t["to"] for t in sms_outbox.messages()] == ["+84912345678"]
    assert mailoutbox[0].to == ["lan@example.com"]
    assert api_as(lan).get(ME).status_code == 200  # a new token works; the old one was revoked


def test_deleting_the_account_tells_the_old_phone(api_as, lan, sms_outbox):
    with after_commit(execute=True):
        assert api_as(lan).post(ME_DELETE, {"password": TEST_PASSWORD}).status_code == 204
    assert [t["to"] for t in sms_outbox.messages()] == ["+84912345678"]


# --- The phone number: proven by a code, the old number told ------------------------------


def test_a_stolen_token_cannot_move_the_phone_without_the_password(api_as, lan, sms_outbox):
    response = api_as(lan).post(ME_PHONE, {"phone": "0987 000 111"})
    assert response.status_code == 400
    assert "current_password" in response.json()
    assert sms_outbox.messages() == []


def test_a_new_phone_is_proven_by_a_code_and_the_old_one_told(api_as, lan, sms_outbox):
    owner = api_as(lan)
    with after_commit(execute=True):
        asked = owner.post(ME_PHONE, {"phone": "0987 000 111", "current_password": TEST_PASSWORD})
    assert asked.status_code == 202
    lan.refresh_from_db()
    assert lan.phone == "+84912345678"  # nothing changes before the code
    code = texted_code(sms_outbox, "0987000111")
    assert code
    wrong = owner.post(ME_PHONE_CONFIRM, {"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 400
    with after_commit(execute=True):
        done = owner.post(ME_PHONE_CONFIRM, {"code": code})
    assert done.status_code == 200
    assert done.json()["phone"] == "+84987000111"
    told = sms_outbox.messages()[-1]
    assert told["to"] == "+84912345678"
    assert "0987 *** 111" in told["body"]


def test_a_phone_taken_by_someone_else_gets_no_code_and_its_owner_is_told(
    api_as, lan, make_user, sms_outbox
):
    make_user(phone="0987000111", language="en")
    with after_commit(execute=True):
        asked = api_as(lan).post(ME_PHONE, {"phone": "0987000111", "current_password": TEST_PASSWORD})
    assert asked.status_code == 202
    (told,) = sms_outbox.messages()
    assert told["to"] == "+84987000111"
    assert "someone tried" in told["body"]
    assert not re.search(r"\d{6}", told["body"])
    assert api_as(lan).post(ME_PHONE_CONFIRM, {"code": "123456"}).status_code == 400


def test_the_phone_pages_change_the_number_with_the_code(client, lan, sms_outbox):
    client.force_login(lan)
    assert client.get("/account/phone/").status_code == 200
    with after_commit(execute=True):
        asked = client.post("/account/phone/", {"phone": "0987000111", "current_password": TEST_PASSWORD})
    assert asked.status_code == 302
    assert asked["Location"] == "/account/phone/verify/"
    code = texted_code(sms_outbox, "0987000111")
    done = client.post("/account/phone/verify/", {"code": code})
    assert done.status_code == 302
    lan.refresh_from_db()
    assert lan.phone == "+84987000111"


# --- 4. Every password check counts toward the one lockout --------------------------------


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (CHANGE_PW_URL, lambda guess: {"old_password": guess, "new_password": "mang-cut-phong-dien-9"}),
        (ME_DELETE, lambda guess: {"password": guess}),
        (ME, lambda guess: {"email": "thief@example.com", "current_password": guess}),
        (ME_PHONE, lambda guess: {"phone": "0987000111", "current_password": guess}),
    ],
    ids=["password", "delete", "email", "phone"],
)
def test_guessing_the_password_through_a_security_change_locks_the_account(
    api, api_as, lan, url, body, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "account_security": None}  # the lockout alone
    thief = api_as(lan)
    send = thief.patch if url == ME else thief.post
    answers = [send(url, body(f"guess-{n}")).status_code for n in range(LIMIT)]
    assert answers[:-1] == [400] * (LIMIT - 1)
    assert answers[-1] == 429
    # Locked now: even the right password is refused, here and at the login.
    right = send(url, body(TEST_PASSWORD))
    assert right.status_code == 429
    assert right.json()["code"] == "account_locked"
    assert right["Retry-After"] == str(15 * 60)
    login = api.post(TOKEN, {"phone": "0912345678", "password": TEST_PASSWORD})
    assert login.status_code == 429
    lan.refresh_from_db()
    assert (lan.email, lan.phone, lan.is_active) == ("lan@example.com", "+84912345678", True)


def test_guesses_at_the_login_and_through_the_api_add_up(api, api_as, lan):
    for n in range(LIMIT // 2):
        api.post(TOKEN, {"phone": "0912 345 678", "password": f"login-guess-{n}"})
    thief = api_as(lan)
    for n in range(LIMIT // 2 - 1):
        assert thief.post(ME_DELETE, {"password": f"guess-{n}"}).status_code == 400
    assert thief.post(ME_DELETE, {"password": "last-guess"}).status_code == 429


def test_the_password_page_counts_wrong_passwords_and_locks(client, lan, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "account_security": None}
    client.force_login(lan)
    for n in range(LIMIT - 1):
        guess = {"old_password": f"guess-{n}", "new_password": "x-y-z-123456"}
        page = client.post("/account/password/", guess)
        assert page.status_code == 200
        assert page.context["form"].errors["old_password"]
    locked = client.post("/account/password/", {"old_password": "guess-x", "new_password": "x-y-z-123456"})
    assert locked.status_code == 429
    assert failures(lan) == LIMIT


def test_security_changes_are_rate_limited_per_user(api_as, lan, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "account_security": "3/hour"}
    thief = api_as(lan)
    answers = [
        thief.post(ME_PHONE, {"phone": "0987000111", "current_password": f"guess-{n}"}).status_code
        for n in range(4)
    ]
    assert answers == [400, 400, 400, 429]
    assert failures(lan) == 3  # the refused fourth try never reached the password


def test_only_reauth_checks_a_users_password():
    """The class: a new view cannot check a password without counting it toward the lockout.

    `User.check_password` may be called only in `marketplace/accounts/reauth.py`; everything
    else asks `password_confirm`, or `authenticate` (which django-axes watches).
    """
    root = Path(django_settings.BASE_DIR)
    offenders = []
    for path in root.glob("**/*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "var/", "tests/", "bench/", "node_modules/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "check_password"
                and relative != "marketplace/accounts/reauth.py"
            ):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == []


# --- 6. Password reset: no timing oracle, no flood of messages ----------------------------


def _statements(queries) -> list[str]:
    return [re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"]) for q in queries]


def test_reset_does_the_same_work_for_a_known_and_an_unknown_number(api, lan, sms_outbox, mailoutbox):
    """The request only records a task: it never looks the number up, so its time tells nothing."""
    with CaptureQueriesContext(connection) as known:
        first = api.post(RESET, {"phone": "0912345678"}, REMOTE_ADDR="203.0.113.1")
    with CaptureQueriesContext(connection) as unknown:
        second = api.post(RESET, {"phone": "0987654321"}, REMOTE_ADDR="203.0.113.2")
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert _statements(known.captured_queries) == _statements(unknown.captured_queries)
    assert not any("accounts_user" in q["sql"] for q in known.captured_queries)
    assert sms_outbox.messages() == [] and mailoutbox == []  # sent by the task, after the answer


def test_reset_messages_to_one_number_are_limited_whoever_asks(api, lan, mailoutbox, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": None}  # many addresses
    for n in range(8):
        with after_commit(execute=True):
            api.post(RESET, {"phone": "0912345678"}, REMOTE_ADDR=f"198.51.100.{n}")
    assert len(mailoutbox) == 5  # RATE_LIMITS["phone_messages"]: 5 an hour to one number


def test_user_rows_are_untouched_by_a_reset_request_for_a_stranger(api, db, sms_outbox):
    with after_commit(execute=True):
        assert api.post("/api/v1/auth/password-reset/", {"phone": "0987654321"}).status_code == 202
    assert sms_outbox.messages() == []
    assert not User.objects.exists()


def test_the_admins_password_form_leads_to_the_page_that_counts_wrong_passwords(client, make_user):
    staff = make_user(Role.STAFF)
    client.force_login(staff)
    for n in range(3):
        new = "x-y-z-123456"
        guess = {"old_password": f"guess-{n}", "new_password1": new, "new_password2": new}
        response = client.post("/admin/password_change/", guess)
        assert response.status_code == 302
        assert response["Location"] == "/account/password/"
    assert failures(staff) == 0  # never checked there
    page = client.post("/account/password/", {"old_password": "guess", "new_password": "x-y-z-123456"})
    assert page.status_code == 200
    assert failures(staff) == 1
