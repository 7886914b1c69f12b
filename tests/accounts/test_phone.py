"""Vietnamese mobile numbers: every way people write one is a single login."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from marketplace.accounts.models import User
from marketplace.accounts.phone import format_phone, normalize_phone, normalize_phone_or_none
from tests.conftest import TEST_PASSWORD
from tests.signup import after_commit, api_sign_up

CANONICAL = "+84912345678"


@pytest.mark.parametrize(
    "raw",
    [
        "0912 345 678",
        "0912345678",
        "+84 912 345 678",
        "84912345678",
        "0912.345.678",
        "0912-345-678",
        "  0912345678  ",
    ],
)
def test_normalize_phone_accepts_the_usual_spellings(raw):
    assert normalize_phone(raw) == CANONICAL


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("0292 3812 345", "Cần Thơ landline, not a mobile"),
        ("091234567", "one digit too short"),
        ("09123456789", "one digit too long"),
        ("0912abc678", "letters"),
        ("không có số", "only letters"),
        ("+1 202 555 0143", "a US number"),
        ("", "empty"),
        ("   ", "only spaces"),
    ],
)
def test_normalize_phone_rejects_what_is_not_a_vietnamese_mobile(raw, why):
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(raw)
    assert excinfo.value.code == "invalid_phone", why


def test_invalid_phone_message_says_what_to_type():
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            normalize_phone("0292 3812 345")
        message = excinfo.value.messages[0]
    assert "Vietnamese mobile number" in message
    assert "0912 345 678" in message


def test_normalize_phone_or_none_returns_none_for_garbage():
    assert normalize_phone_or_none("hello") is None
    assert normalize_phone_or_none("0912 345 678") == CANONICAL


def test_format_phone_shows_the_national_form():
    assert format_phone(CANONICAL) == "0912 345 678"


def test_register_twice_with_two_spellings_of_one_number_makes_one_account(
    api, db, sms_outbox
):
    first = api_sign_up(
        api,
        sms_outbox,
        {"phone": "0912 345 678", "password": TEST_PASSWORD, "full_name": "Nguyễn Văn A", "role": "buyer"},
    )
    assert first.status_code == 201
    assert first.json()["phone"] == CANONICAL

    with after_commit(execute=True):
        second = api.post(
            "/api/v1/auth/register/",
            {"phone": "+84 912.345.678", "password": TEST_PASSWORD, "full_name": "Trần B", "role": "farmer"},
        )
    assert second.status_code == 202  # the same answer: whether a number is taken is not told
    _code_text, warning = sms_outbox.messages()  # the first sign-up's code, then the owner told
    assert warning["to"] == CANONICAL
    assert not re.search(r"\d{6}", warning["body"])
    assert User.objects.filter(phone=CANONICAL).count() == 1


@pytest.mark.parametrize(
    "spelling", ["0912 345 678", "0912345678", "+84 912 345 678", "84912345678", "0912.345.678"]
)
def test_token_login_works_with_any_spelling(api, make_user, spelling):
    make_user(phone="0912345678")
    response = api.post("/api/v1/auth/token/", {"phone": spelling, "password": TEST_PASSWORD})
    assert response.status_code == 200, response.content
    assert response.json()["token"]


@pytest.mark.parametrize("spelling", ["+84 912 345 678", "0912.345.678"])
def test_login_page_works_with_any_spelling(client, make_user, spelling):
    user = make_user(phone="0912345678")
    response = client.post("/account/login/", {"username": spelling, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
