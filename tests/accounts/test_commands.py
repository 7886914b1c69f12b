"""Management commands: add_user (staff create any role) and load_demo (idempotent)."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from marketplace.accounts.models import Role, User
from marketplace.management.commands.load_demo import DEMO_ACCOUNTS, DEMO_PASSWORD


def add_user(*args) -> str:
    out = StringIO()
    call_command("add_user", *args, stdout=out)
    return out.getvalue()


def test_add_user_creates_an_official_scoped_to_wards(db):
    output = add_user(
        "--role",
        "official",
        "--phone",
        "0912 345 678",
        "--password",
        "an-official-password",
        "--name",
        "Lê Minh Tâm",
        "--ward",
        "31120",
        "--ward",
        "31135",
    )
    official = User.objects.get(phone="+84912345678")
    assert official.role == Role.OFFICIAL
    assert official.city_wide is False
    assert sorted(official.wards.values_list("code", flat=True)) == ["31120", "31135"]
    assert official.check_password("an-official-password")
    assert "wards: 31120, 31135" in output


def test_add_user_without_wards_makes_an_official_city_wide(db):
    output = add_user("--role", "official", "--phone", "0912345678", "--password", "an-official-password")
    official = User.objects.get(phone="+84912345678")
    assert official.city_wide is True
    assert official.wards.count() == 0
    assert "city-wide" in output


def test_add_user_creates_staff_who_can_use_the_admin(db):
    add_user("--role", "staff", "--phone", "0912345678", "--password", "a-staff-password")
    staff = User.objects.get(phone="+84912345678")
    assert staff.role == Role.STAFF
    assert staff.is_staff is True


def test_add_user_with_an_invalid_phone_is_a_command_error(db):
    with pytest.raises(CommandError, match="phone"):
        add_user("--role", "courier", "--phone", "0292 3812 345", "--password", "a-courier-password")
    assert not User.objects.exists()


def test_add_user_with_a_taken_phone_is_a_command_error(db):
    add_user("--role", "courier", "--phone", "0912345678", "--password", "a-courier-password")
    with pytest.raises(CommandError, match="phone"):
        add_user("--role", "courier", "--phone", "+84 912 345 678", "--password", "a-courier-password")
    assert User.objects.count() == 1


def test_add_user_with_an_unknown_ward_is_a_command_error(db):
    with pytest.raises(CommandError, match="99999"):
        add_user(
            "--role", "official", "--phone", "0912345678", "--password", "x-password-1", "--ward", "99999"
        )
    assert not User.objects.exists()


def test_add_user_refuses_wards_for_other_roles(db):
    with pytest.raises(CommandError, match="--ward"):
        add_user(
            "--role", "courier", "--phone", "0912345678", "--password", "x-password-1", "--ward", "31120"
        )
    assert not User.objects.exists()


def test_load_demo_creates_one_account_per_role(db):
    call_command("load_demo", "--accounts-only", stdout=StringIO())
    assert User.objects.count() == 5
    assert sorted(User.objects.values_list("role", flat=True)) == sorted(Role.values)
    for role, _phone, name in DEMO_ACCOUNTS:
        user = User.objects.get(full_name=name)
        assert user.role == role
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(role=Role.OFFICIAL).city_wide is True
    assert User.objects.get(role=Role.STAFF).is_superuser is True


def test_load_demo_twice_creates_no_duplicates(db):
    call_command("load_demo", "--accounts-only", stdout=StringIO())
    first = set(User.objects.values_list("pk", "phone"))
    call_command("load_demo", "--accounts-only", stdout=StringIO())
    assert User.objects.count() == 5
    assert set(User.objects.values_list("pk", "phone")) == first


def test_user_create_refuses_an_official_without_any_scope(db):
    from django.core.exceptions import ValidationError

    from marketplace.accounts.services import user_create

    with pytest.raises(ValidationError) as caught:
        user_create(phone="0912345678", password=None, full_name="Cán bộ", role=Role.OFFICIAL)
    assert "wards" in caught.value.message_dict
    assert not User.objects.filter(phone="+84912345678").exists()


def admin_user(make_user):
    staff = make_user(role=Role.STAFF)
    staff.is_superuser = True  # staff get admin rights through permissions; a superuser has them all
    staff.save(update_fields=["is_superuser"])
    return staff


def test_admin_add_refuses_a_taken_phone_in_another_spelling(client, make_user):
    make_user(phone="0912345678")
    client.force_login(admin_user(make_user))
    response = client.post(
        "/admin/accounts/user/add/",
        {"phone": "+84 912 345 678", "full_name": "Giao hàng", "role": "courier",
         "password1": "a-strong-pass-2026", "_save": "1"},
    )
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    assert User.objects.filter(phone="+84912345678").count() == 1


def test_admin_add_refuses_a_weak_password(client, make_user):
    client.force_login(admin_user(make_user))
    response = client.post(
        "/admin/accounts/user/add/",
        {"phone": "0987654321", "full_name": "Giao hàng", "role": "courier",
         "password1": "12345678", "_save": "1"},
    )
    assert response.status_code == 200
    assert "password1" in response.context["adminform"].form.errors
    assert not User.objects.filter(phone="+84987654321").exists()
