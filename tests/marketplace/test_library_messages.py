"""Every message Django or DRF can show a person comes out in Vietnamese for `vi` (issue #22, 6).

The messages are found in the libraries themselves (field error messages, exceptions, password
rules, pagination), so a message a library adds in an upgrade fails here until it is translated
(marketplace/library_messages.py).
"""
import inspect

import pytest
from django import forms
from django.contrib.auth import password_validation
from django.utils import translation
from rest_framework import exceptions, fields, pagination, relations, serializers

from marketplace.accounts.models import Role, User
from marketplace.money import format_vnd
from orders.models import FarmOrderStatus, OrderStatus


def _error_messages(cls) -> dict:
    messages = {}
    for klass in reversed(cls.__mro__):
        messages.update(getattr(klass, "default_error_messages", {}))
    return messages


def library_messages() -> dict[str, object]:
    """{where: message} for every message Django's form fields and DRF can show."""
    found = {}
    for name, cls in inspect.getmembers(forms.fields, inspect.isclass):
        if issubclass(cls, forms.Field):
            for key, message in _error_messages(cls).items():
                found[f"forms.{name}.{key}"] = message
    for module in (fields, relations, serializers):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, fields.Field):
                for key, message in _error_messages(cls).items():
                    found[f"drf.{name}.{key}"] = message
    for name, cls in inspect.getmembers(exceptions, inspect.isclass):
        if issubclass(cls, exceptions.APIException):
            found[f"drf.exceptions.{name}"] = cls.default_detail
    found["drf.pagination.invalid_page"] = pagination.PageNumberPagination.invalid_page_message
    return found


def _password_messages(language: str) -> dict[str, str]:
    user = User(phone="+84912345678", full_name="Nguyễn Văn A", email="a@example.vn")
    tries = {"too short": "1234567", "too common": "password", "numeric": "12345678901234"}
    messages = {}
    with translation.override(language):
        for what, password in tries.items():
            try:
                password_validation.validate_password(password, user)
            except Exception as exc:  # ValidationError with one message per rule broken
                messages[what] = " ".join(exc.messages)
        messages["help"] = str(password_validation.password_validators_help_text_html())  # lazy
    return messages


def test_every_library_message_has_a_vietnamese_translation():
    untranslated = []
    for where, message in library_messages().items():
        with translation.override("en"):
            english = str(message)
        with translation.override("vi"):
            vietnamese = str(message)
        if english.strip() and vietnamese == english:
            untranslated.append(f"{where}: {english}")
    assert len(library_messages()) > 80  # the search found the libraries' messages
    assert not untranslated, "\n".join(untranslated)


def test_password_rules_speak_vietnamese():
    english, vietnamese = _password_messages("en"), _password_messages("vi")
    assert "too short" in english["too short"]
    for what in english:
        assert vietnamese[what] != english[what], what
    assert "quá ngắn" in vietnamese["too short"]
    assert "8" in vietnamese["too short"]


@pytest.mark.django_db
def test_a_pin_as_password_is_refused_in_vietnamese_on_the_api(api):
    response = api.post(
        "/api/v1/auth/register/",
        {"phone": "0912 345 678", "password": "123456", "full_name": "Chị Lan", "role": "buyer"},
    )
    assert response.status_code == 400
    text = " ".join(response.json()["password"])
    assert "quá ngắn" in text and "too short" not in text


@pytest.mark.django_db
def test_drf_errors_and_pagination_speak_vietnamese(api):
    page = api.get("/api/v1/products/?page=999")
    assert page.status_code == 404
    assert page.json()["detail"] == "Trang không hợp lệ."
    missing = api.get("/api/v1/me/")
    assert missing.json()["detail"] == "Chưa gửi thông tin xác thực."
    english = api.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["detail"] == "Authentication credentials were not provided."


def test_every_model_in_the_admin_is_named_in_vietnamese():
    """The admin's menu for Vietnamese staff: no "Access attempts", "Tokens" or "Ward aliass"."""
    from django.contrib import admin

    english_names = []
    for model in admin.site._registry:
        options = model._meta
        names = [options.verbose_name, options.verbose_name_plural, options.app_config.verbose_name]
        for name in names:
            with translation.override("en"):
                english = str(name)
            with translation.override("vi"):
                vietnamese = str(name)
            if english == vietnamese:
                english_names.append(f"{options.label}: {english}")
    assert not english_names, "\n".join(english_names)


@pytest.mark.django_db
def test_the_admin_shows_money_in_dong_and_statuses_by_their_labels(client, make_user):
    from tests.orders.factories import listings, place

    staff = make_user(Role.STAFF)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    order = place(make_user(Role.BUYER), [(listings(make_user)[0], 2)])
    client.force_login(staff)
    listing = client.get("/admin/orders/order/").content.decode()
    assert format_vnd(order.total) in listing
    assert f">{order.total}<" not in listing
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert format_vnd(order.total) in page  # the view-only change page too, not only the list
    assert f"<div class=\"readonly\">{order.total}</div>" not in page
    paid = order.payments.get()
    payment = client.get(f"/admin/orders/payment/{paid.pk}/change/").content.decode()
    assert format_vnd(paid.amount) in payment
    with translation.override("vi"):
        assert translation.gettext("Order placed.") in page  # the note, in the reader's language
    assert "Order placed." not in page
    changes = list(order.status_changes.all())
    assert changes
    labels = dict([*FarmOrderStatus.choices, *OrderStatus.choices])
    for change in changes:
        assert f">{change.to_status}<" not in page  # the code itself is never the text shown
        with translation.override("vi"):
            assert f">{labels[change.to_status]}<" in page
