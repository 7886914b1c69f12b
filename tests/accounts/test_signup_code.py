"""Sign-up proves the phone belongs to the person: a one-time code by SMS, as an attacker sees it."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from marketplace.accounts.models import PhoneVerification, Role, User
from tests.conftest import TEST_PASSWORD
from tests.signup import REGISTER, REGISTER_CONFIRM, after_commit, api_sign_up, texted_code

RESEND = "/api/v1/auth/register/resend/"


def registration(**overrides):
    data = {"phone": "0987 654 321", "password": TEST_PASSWORD, "full_name": "Nguyễn Thị Lan"}
    data["role"] = "buyer"
    data.update(overrides)
    return data


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def start(api, **overrides):
    with after_commit(execute=True):
        return api.post(REGISTER, registration(**overrides))


def test_no_account_exists_until_the_code_is_entered(api, db, sms_outbox):
    response = start(api)
    assert response.status_code == 202
    key = response.json()["signup"]
    assert not User.objects.exists()
    (text,) = sms_outbox.messages()
    assert text["to"] == "+84987654321"
    code = texted_code(sms_outbox, "0987654321")
    confirmed = api.post(REGISTER_CONFIRM, {"signup": key, "code": code})
    assert confirmed.status_code == 201
    user = User.objects.get(phone="+84987654321")
    assert user.check_password(TEST_PASSWORD)
    login = api.post("/api/v1/auth/token/", {"phone": "0987654321", "password": TEST_PASSWORD})
    assert login.status_code == 200


def test_the_code_and_the_password_are_stored_only_as_hashes(api, db, sms_outbox):
    key = start(api).json()["signup"]
    code = texted_code(sms_outbox, "0987654321")
    stored = PhoneVerification.objects.get()
    assert code not in stored.code_hash
    assert TEST_PASSWORD not in str(stored.payload)
    api.post(REGISTER_CONFIRM, {"signup": key, "code": code})
    stored.refresh_from_db()
    assert stored.payload == {}  # the details are not kept once the account exists


def test_a_taken_number_gets_the_same_answer_and_its_owner_is_told(api, make_user, sms_outbox):
    make_user(phone="0912345678", language="vi")
    free = start(api, phone="0987654321")
    taken = start(api, phone="+84 912 345 678")
    assert taken.status_code == free.status_code == 202
    assert set(taken.json()) == set(free.json()) == {"detail", "signup"}
    assert taken.json()["detail"] == free.json()["detail"]
    assert len(taken.json()["signup"]) == len(free.json()["signup"])
    told = [t for t in sms_outbox.messages() if t["to"] == "+84912345678"]
    assert len(told) == 1
    assert not re.search(r"\d{6}", told[0]["body"])  # no code for the stranger to use
    # The stranger cannot finish the sign-up with any code.
    for guess in ("000000", "123456", "999999"):
        answer = api.post(REGISTER_CONFIRM, {"signup": taken.json()["signup"], "code": guess})
        assert answer.status_code == 400
        assert list(answer.json()) == ["code"]
    assert User.objects.filter(phone="+84912345678").count() == 1


def test_five_wrong_codes_end_the_code_even_for_the_right_one(api, db, sms_outbox):
    key = start(api).json()["signup"]
    code = texted_code(sms_outbox, "0987654321")
    for _ in range(5):
        assert api.post(REGISTER_CONFIRM, {"signup": key, "code": wrong(code)}).status_code == 400
    assert api.post(REGISTER_CONFIRM, {"signup": key, "code": code}).status_code == 400
    assert not User.objects.exists()


def test_an_expired_code_is_refused(api, db, sms_outbox):
    key = start(api).json()["signup"]
    code = texted_code(sms_outbox, "0987654321")
    PhoneVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.post(REGISTER_CONFIRM, {"signup": key, "code": code}).status_code == 400
    assert not User.objects.exists()


def test_a_new_code_replaces_the_old_one(api, db, sms_outbox):
    key = start(api).json()["signup"]
    first = texted_code(sms_outbox, "0987654321")
    with after_commit(execute=True):
        assert api.post(RESEND, {"signup": key}).status_code == 202
    second = texted_code(sms_outbox, "0987654321")
    assert len(sms_outbox.messages()) == 2
    if first != second:
        assert api.post(REGISTER_CONFIRM, {"signup": key, "code": first}).status_code == 400
    assert api.post(REGISTER_CONFIRM, {"signup": key, "code": second}).status_code == 201


def test_resend_for_a_number_with_no_sign_up_answers_the_same_and_sends_nothing(api, db, sms_outbox):
    with after_commit(execute=True):
        response = api.post(RESEND, {"signup": "no-such-sign-up"})
    assert response.status_code == 202
    assert sms_outbox.messages() == []


def test_codes_to_one_number_are_limited_per_hour(api, db, sms_outbox, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "register": None}
    for n in range(7):
        with after_commit(execute=True):
            api.post(REGISTER, registration(), REMOTE_ADDR=f"198.51.100.{n}")
    assert len(sms_outbox.messages()) == 5


def test_confirming_is_rate_limited(api, db, sms_outbox, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup_confirm": "3/hour"}
    guess = {"signup": "no-such-sign-up", "code": "111111"}
    answers = [api.post(REGISTER_CONFIRM, guess).status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]


def test_details_are_checked_before_any_code_is_sent(api, db, sms_outbox):
    for bad, field in (({"password": "12345678"}, "password"), ({"role": "staff"}, "role")):
        response = start(api, **bad)
        assert response.status_code == 400
        assert field in response.json()
    assert sms_outbox.messages() == []
    assert not PhoneVerification.objects.exists()


def test_a_stranger_asking_for_the_same_number_cannot_take_the_sign_up_over(api, db, sms_outbox):
    """The attack: while the owner signs up, a stranger signs up for the owner's number too.

    The owner receives both codes. Whichever they type on their own sign-up, the account made
    is theirs, with their password; the stranger's sign-up cannot end or finish the owner's.
    """
    owner = start(api, full_name="Chủ số", email="owner@example.vn")
    owner_code = texted_code(sms_outbox, "0987654321")
    stranger = APIClient()
    with after_commit(execute=True):
        taken_over = stranger.post(
            REGISTER, registration(full_name="Kẻ lạ", email="evil@example.test", password="stranger-pass-1")
        )
    stranger_code = texted_code(sms_outbox, "0987654321")
    assert taken_over.status_code == 202
    # The stranger's code typed into the owner's sign-up is wrong there.
    if stranger_code != owner_code:
        mixed = api.post(REGISTER_CONFIRM, {"signup": owner.json()["signup"], "code": stranger_code})
        assert mixed.status_code == 400
    done = api.post(REGISTER_CONFIRM, {"signup": owner.json()["signup"], "code": owner_code})
    assert done.status_code == 201
    user = User.objects.get(phone="+84987654321")
    assert (user.full_name, user.email) == ("Chủ số", "owner@example.vn")
    assert user.check_password(TEST_PASSWORD) and not user.check_password("stranger-pass-1")
    # And the stranger's own sign-up, with the code sent to the owner's phone, cannot make a second.
    late = stranger.post(REGISTER_CONFIRM, {"signup": taken_over.json()["signup"], "code": stranger_code})
    assert late.status_code == 400
    assert User.objects.count() == 1


def test_the_api_two_step_flow_makes_a_farmer(api, db, sms_outbox):
    response = api_sign_up(api, sms_outbox, registration(role="farmer"))
    assert response.status_code == 201
    assert response.json()["role"] == Role.FARMER


@pytest.mark.parametrize(
    ("language", "heading"),
    [("vi", "Xác nhận số điện thoại"), ("en", "Confirm your phone number")],
)
def test_sign_up_pages_work_in_both_languages(client, db, sms_outbox, language, heading):
    client.cookies["cho_noi_language"] = language
    with after_commit(execute=True):
        started = client.post(
            "/account/signup/",
            {
                "role": "farmer",
                "full_name": "Trần Văn Hùng",
                "phone": "0912 345 678",
                "password": TEST_PASSWORD,
                "privacy_consent": "on",
            },
        )
    assert started["Location"] == "/account/signup/verify/"
    page = client.get("/account/signup/verify/")
    assert heading in page.content.decode()
    assert "0912 345 678" in page.content.decode()
    with translation.override(language):
        wrong_answer = client.post("/account/signup/verify/", {"code": "000000"})
    assert wrong_answer.status_code == 200
    assert wrong_answer.context["form"].errors["code"]
    done = client.post("/account/signup/verify/", {"code": texted_code(sms_outbox, "0912345678")})
    assert done.status_code == 302
    assert User.objects.get(phone="+84912345678").language == language


def test_the_code_page_without_a_sign_up_goes_back_to_the_form(client, db):
    response = client.get("/account/signup/verify/")
    assert response.status_code == 302
    assert response["Location"] == "/account/signup/"
