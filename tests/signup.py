"""Signing up in tests as a person does: the details, then the code texted to the number."""
import re

from django.test import TestCase

from marketplace.accounts.phone import normalize_phone

#: Run what a request left for after commit (codes are texted by a task enqueued then).
after_commit = TestCase.captureOnCommitCallbacks

REGISTER = "/api/v1/auth/register/"
REGISTER_CONFIRM = "/api/v1/auth/register/confirm/"
SIGNUP_PAGE = "/account/signup/"
SIGNUP_VERIFY_PAGE = "/account/signup/verify/"
_CODE = re.compile(r"\b(\d{6})\b")


def texted_code(sms_outbox, phone: str) -> str | None:
    """Return the last 6-digit code texted to `phone`, or None."""
    to = normalize_phone(phone)
    for message in reversed(sms_outbox.messages()):
        if message["to"] == to and (match := _CODE.search(message["body"])):
            return match.group(1)
    return None


def api_sign_up(api, sms_outbox, data: dict):
    """Register through the API's two steps; return the confirmation's response."""
    with after_commit(execute=True):
        started = api.post(REGISTER, data)
    assert started.status_code == 202, started.content
    code = texted_code(sms_outbox, data["phone"])
    assert code, "no code was texted"
    return api.post(REGISTER_CONFIRM, {"signup": started.json()["signup"], "code": code})


def page_sign_up(client, sms_outbox, data: dict):
    """Sign up on the pages (form, then the code); return the code page's response."""
    with after_commit(execute=True):
        started = client.post(SIGNUP_PAGE, data)
    assert started.status_code == 302, started.content
    assert started["Location"] == SIGNUP_VERIFY_PAGE
    code = texted_code(sms_outbox, data["phone"])
    assert code, "no code was texted"
    return client.post(SIGNUP_VERIFY_PAGE, {"code": code})
