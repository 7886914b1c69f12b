"""Account pages under /account/: sign-up, login, profile, password change, logout."""

import pytest

from marketplace.accounts.models import Role, User
from tests.conftest import TEST_PASSWORD
from tests.signup import after_commit, page_sign_up


def signup_form(**overrides):
    data = {
        "role": "farmer",
        "full_name": "Trần Văn Hùng",
        "phone": "0912 345 678",
        "password": TEST_PASSWORD,
        "privacy_consent": "on",
    }
    data.update(overrides)
    return data


def test_signup_page_creates_and_logs_in_the_user(
    client, db, sms_outbox
):
    assert client.get("/account/signup/").status_code == 200
    response = page_sign_up(client, sms_outbox, signup_form())
    assert response.status_code == 302
    assert response["Location"] == "/account/home/"
    user = User.objects.get(phone="+84912345678")
    assert user.role == Role.FARMER
    assert user.privacy_consent_at is not None
    assert client.session["_auth_user_id"] == str(user.pk)


def test_signup_page_shows_a_bad_phone_next_to_the_phone_field(client, db):
    response = client.post("/account/signup/", signup_form(phone="0292 3812 345"))
    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert not User.objects.exists()


def test_signup_page_refuses_without_privacy_consent(client, db):
    data = signup_form()
    del data["privacy_consent"]
    response = client.post("/account/signup/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["privacy_consent"]
    assert not User.objects.exists()


def test_signup_page_cannot_create_an_official(client, db):
    response = client.post("/account/signup/", signup_form(role="official"))
    assert response.status_code == 200
    assert response.context["form"].errors["role"]
    assert not User.objects.exists()


def test_signup_page_with_a_taken_phone_sends_no_code_and_creates_nothing(
    client, make_user, sms_outbox
):
    make_user(phone="0912345678")
    with after_commit(execute=True):
        response = client.post("/account/signup/", signup_form(phone="+84 912 345 678"))
    # The same answer as for a free number: on to the code page.
    assert response.status_code == 302
    assert response["Location"] == "/account/signup/verify/"
    texts = sms_outbox.messages()
    assert [t["to"] for t in texts] == ["+84912345678"]
    assert not any(ch.isdigit() for ch in texts[0]["body"].split(":", 1)[1])  # no code in it
    guess = client.post("/account/signup/verify/", {"code": "123456"})
    assert guess.status_code == 200
    assert guess.context["form"].errors["code"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "start_page"),
    [
        (Role.BUYER, "/"),
        (Role.FARMER, "/farmer/"),
        (Role.OFFICIAL, "/official/"),
        (Role.COURIER, "/courier/"),
        (Role.STAFF, "/admin/"),
    ],
)
def test_after_login_each_role_lands_on_its_start_page(client, make_user, role, start_page):
    make_user(role=role, phone="0912345678")
    response = client.post(
        "/account/login/", {"username": "0912 345 678", "password": TEST_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == start_page
    assert response.status_code == 200


def test_login_page_with_a_wrong_password_says_so(client, make_user):
    make_user(phone="0912345678")
    response = client.post("/account/login/", {"username": "0912345678", "password": "wrong-password"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session


def test_login_page_refuses_a_deleted_account(client, make_user):
    user = make_user(phone="0912345678")
    user.is_active = False
    user.save()
    response = client.post("/account/login/", {"username": "0912345678", "password": TEST_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_account_page_needs_login(client, db):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response["Location"] == "/account/login/?next=/account/"


def test_account_page_shows_the_phone_and_saves_the_profile(client, make_user):
    user = make_user(phone="0912345678", full_name="Nguyễn Thị Lan")
    client.force_login(user)
    page = client.get("/account/")
    assert page.status_code == 200
    assert "0912 345 678" in page.content.decode()

    response = client.post(
        "/account/",
        {"full_name": "Nguyễn Thị Lan Anh", "email": "LAN@example.com", "current_password": TEST_PASSWORD},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.email) == ("Nguyễn Thị Lan Anh", "lan@example.com")


def test_password_change_page_changes_the_password(client, make_user):
    user = make_user(phone="0912345678")
    client.force_login(user)
    response = client.post(
        "/account/password/",
        {"old_password": TEST_PASSWORD, "new_password": "rau-muong-cai-rang-7"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("rau-muong-cai-rang-7")
    assert client.get("/account/").status_code == 200  # this session stays signed in


def test_logout_needs_post_and_logs_out(client, make_user):
    client.force_login(make_user())
    assert client.get("/account/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/account/logout/")
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("language", "rule"), [("vi", "ít nhất 8 ký tự"), ("en", "at least 8 characters")])
def test_the_signup_page_shows_the_password_rules_before_the_first_try(client, db, language, rule):
    client.cookies["cho_noi_language"] = language
    page = client.get("/account/signup/").content.decode()
    assert rule in page
