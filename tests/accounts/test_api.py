"""Accounts API: sign-up, tokens, /me/, and who may call what (401/403)."""

import pytest
from rest_framework.authtoken.models import Token

from marketplace.accounts.models import Role, User
from tests.conftest import TEST_PASSWORD
from tests.signup import REGISTER, api_sign_up


def registration(**overrides):
    data = {
        "phone": "0987 654 321",
        "password": TEST_PASSWORD,
        "full_name": "Nguyễn Thị Lan",
        "role": "buyer",
    }
    data.update(overrides)
    return data


# --- Registration -----------------------------------------------------------------


@pytest.mark.parametrize("role", ["buyer", "farmer"])
def test_register_creates_a_buyer_or_farmer(
    api, db, role, sms_outbox
):
    data = registration(role=role, email="Lan@Example.com")
    response = api_sign_up(api, sms_outbox, data)
    assert response.status_code == 201
    body = response.json()
    assert body["phone"] == "+84987654321"
    assert body["role"] == role
    assert body["email"] == "lan@example.com"
    assert "password" not in body
    user = User.objects.get(phone="+84987654321")
    assert user.check_password(TEST_PASSWORD)
    assert user.privacy_consent_at is not None
    assert user.privacy_notice_version


def test_register_without_email_is_fine(api, db, sms_outbox):
    response = api_sign_up(api, sms_outbox, registration())
    assert response.status_code == 201
    assert response.json()["email"] == ""


@pytest.mark.parametrize("role", ["official", "courier", "staff"])
def test_register_refuses_roles_only_staff_can_give(api, db, role):
    response = api.post(REGISTER, registration(role=role))
    assert response.status_code == 400
    assert "role" in response.json()
    assert not User.objects.exists()


def test_register_with_a_bad_phone_names_the_phone_field(api, db):
    response = api.post(REGISTER, registration(phone="0292 3812 345"))
    assert response.status_code == 400
    assert list(response.json()) == ["phone"]


def test_register_without_privacy_consent_is_refused(api, db):
    response = api.post(REGISTER, registration(privacy_consent=False))
    assert response.status_code == 400
    assert "privacy_consent" in response.json()
    assert not User.objects.exists()


def test_register_with_a_weak_password_names_the_password_field(api, db):
    response = api.post(REGISTER, registration(password="12345678"))
    assert response.status_code == 400
    assert "password" in response.json()


# --- Tokens and /me/ ------------------------------------------------------------------


def test_token_endpoint_returns_a_token_that_opens_me(api, make_user):
    user = make_user(phone="0912 000 111", full_name="Lê Văn Tám")
    response = api.post("/api/v1/auth/token/", {"phone": "0912000111", "password": TEST_PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=user).key

    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["id"] == user.pk
    assert me.json()["phone"] == "+84912000111"
    assert me.json()["full_name"] == "Lê Văn Tám"


def test_token_endpoint_refuses_a_wrong_password(api, make_user):
    make_user(phone="0912000112")
    response = api.post("/api/v1/auth/token/", {"phone": "0912000112", "password": "wrong-password"})
    assert response.status_code == 400
    assert "token" not in response.json()
    assert "non_field_errors" in response.json()


def test_patch_me_changes_name_and_email(api_as, make_user):
    user = make_user()
    response = api_as(user).patch(
        "/api/v1/me/",
        {"full_name": "  Phạm Thị Hoa ", "email": "HOA@example.com", "current_password": TEST_PASSWORD},
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Phạm Thị Hoa"
    user.refresh_from_db()
    assert (user.full_name, user.email) == ("Phạm Thị Hoa", "hoa@example.com")


def test_patch_me_cannot_change_role_or_phone(api_as, make_user):
    user = make_user(role=Role.BUYER)
    phone = user.phone
    response = api_as(user).patch("/api/v1/me/", {"role": "staff", "phone": "0987000000"})
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.role == Role.BUYER
    assert user.phone == phone


def test_patch_me_refuses_an_empty_name(api_as, make_user):
    user = make_user(full_name="Võ Văn Kiệt")
    response = api_as(user).patch("/api/v1/me/", {"full_name": " "})
    assert response.status_code == 400
    assert "full_name" in response.json()
    user.refresh_from_db()
    assert user.full_name == "Võ Văn Kiệt"


def test_logout_revokes_the_token(api_as, make_user):
    user = make_user()
    client = api_as(user)
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401


# --- 401 and 403 ----------------------------------------------------------------------


def test_me_without_credentials_is_401(api, db):
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_me_with_a_bad_token_is_401(api, db):
    api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert api.get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("role", [Role.BUYER, Role.FARMER, Role.OFFICIAL, Role.COURIER])
def test_user_list_is_403_for_other_roles(api_as, make_user, role):
    client = api_as(make_user(role=role))
    assert client.get("/api/v1/users/").status_code == 403
    response = client.post(
        "/api/v1/users/",
        {"phone": "0987111222", "password": TEST_PASSWORD, "full_name": "X", "role": "staff"},
    )
    assert response.status_code == 403
    assert not User.objects.filter(phone="+84987111222").exists()


def test_user_list_is_401_without_credentials(api, db):
    assert api.get("/api/v1/users/").status_code == 401


def test_staff_get_a_paginated_user_list(api_as, make_user):
    staff = make_user(role=Role.STAFF)
    for _ in range(3):
        make_user()
    response = api_as(staff).get("/api/v1/users/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 4
    assert body["next"] is None and body["previous"] is None
    assert {"id", "phone", "full_name", "role"} <= set(body["results"][0])


def test_staff_filter_the_user_list_by_role(api_as, make_user):
    staff = make_user(role=Role.STAFF)
    farmer = make_user(role=Role.FARMER)
    make_user(role=Role.BUYER)
    response = api_as(staff).get("/api/v1/users/", {"role": "farmer"})
    assert [u["id"] for u in response.json()["results"]] == [farmer.pk]


def test_staff_user_list_query_count_does_not_grow_with_users(
    api_as, make_user, django_assert_max_num_queries, django_assert_num_queries
):
    staff = make_user(role=Role.STAFF)
    client = api_as(staff)
    for _ in range(2):
        make_user(role=Role.OFFICIAL, city_wide=False, wards=["31120", "31135"])
    # token, count, page, wards prefetch
    with django_assert_max_num_queries(4) as few:
        client.get("/api/v1/users/")
    for _ in range(10):
        make_user(role=Role.OFFICIAL, city_wide=False, wards=["31120", "31135"])
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get("/api/v1/users/")
    assert response.json()["count"] == 13
    assert all(
        sorted(u["wards"]) == ["31120", "31135"]
        for u in response.json()["results"]
        if u["role"] == "official"
    )


def test_staff_create_an_official_for_some_wards(api_as, make_user):
    staff = make_user(role=Role.STAFF)
    response = api_as(staff).post(
        "/api/v1/users/",
        {
            "phone": "0987 111 222",
            "password": TEST_PASSWORD,
            "full_name": "Cán bộ Phong Điền",
            "role": "official",
            "wards": ["31120"],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["wards"] == ["31120"]
    assert response.json()["city_wide"] is False
    official = User.objects.get(phone="+84987111222")
    assert official.role == Role.OFFICIAL


def test_staff_cannot_create_an_official_without_scope(api_as, make_user):
    staff = make_user(role=Role.STAFF)
    response = api_as(staff).post(
        "/api/v1/users/",
        {"phone": "0987111222", "password": TEST_PASSWORD, "full_name": "Cán bộ", "role": "official"},
    )
    assert response.status_code == 400
    assert "wards" in response.json()


def test_token_login_records_last_login(api, make_user):
    user = make_user(phone="0912000113")
    assert user.last_login is None
    api.post("/api/v1/auth/token/", {"phone": "0912000113", "password": TEST_PASSWORD})
    user.refresh_from_db()
    assert user.last_login is not None
