"""A ward's name as each language shows it, in every page and form that lists wards."""

import importlib
import inspect
import pkgutil
from html import unescape

import pytest
from django import forms
from django.conf import settings
from django.test import Client
from django.utils import translation

from marketplace.accounts.models import Role
from marketplace.geo.forms import WardChoiceField, WardField, ward_label
from marketplace.geo.models import Ward
from orders.forms import CheckoutForm

pytestmark = pytest.mark.django_db

# The heading "Ward" reads "Phường/xã" in Vietnamese; it was once every ward's kind in dropdowns.
WRONG = ("(Phường/xã)", "Phường/xã ", "(Phường)", "(Xã)")
SHOWN = {
    "vi": ("Phường An Bình", "Xã Nhơn Ái", "Phường Cái Khế"),
    "en": ("An Bình (Ward)", "Nhơn Ái (Commune)", "Cái Khế (Ward)"),
}


def assert_wards_named_right(html: str, language: str, where: str) -> None:
    html = unescape(html)
    for wrong in WRONG:
        assert wrong not in html, f"{where} ({language}) shows {wrong!r}"
    for name in SHOWN[language]:
        assert name in html, f"{where} ({language}) lacks {name!r}"
    if language == "en":
        # The Vietnamese full name never stands in for the English one.
        assert "Phường An Bình" not in html and "Xã Nhơn Ái" not in html, where


def test_a_ward_reads_phuong_in_vietnamese_and_ward_in_english(db):
    ward = Ward.objects.get(name="Cái Khế")
    commune = Ward.objects.get(name="Nhơn Ái")
    with translation.override("vi"):
        assert ward.display_full_name == str(ward) == ward_label(ward) == "Phường Cái Khế"
        assert str(commune) == "Xã Nhơn Ái"
    with translation.override("en"):
        assert ward.display_full_name == str(ward) == ward_label(ward) == "Cái Khế (Ward)"
        assert str(commune) == "Nhơn Ái (Commune)"


def test_no_ward_of_the_103_reads_as_a_heading_in_either_language(db):
    for language in ("vi", "en"):
        with translation.override(language):
            for ward in Ward.objects.all():
                label = ward_label(ward)
                assert "/" not in label, label
                if language == "vi":
                    assert label == ward.full_name
                    assert label.startswith(("Phường ", "Xã ")), label
                else:
                    kind = "Ward" if ward.type == "phuong" else "Commune"
                    assert label == f"{ward.name} ({kind})"


def _project_forms():
    """Every Form class in a `forms` module of the project's apps."""
    for app in ("farms", "orders", "logistics", "marketplace"):
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if not info.name.endswith(".forms"):
                continue
            module = importlib.import_module(info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                    yield cls


def test_every_form_field_over_wards_shows_them_by_the_one_display_name():
    """A future form with a ward <select> cannot fall back to another label."""
    found = []
    for form in _project_forms():
        for name, field in form.base_fields.items():
            model = getattr(getattr(field, "queryset", None), "model", None)
            if model is Ward or isinstance(field, WardField):
                found.append(f"{form.__name__}.{name}")
                assert isinstance(field, WardChoiceField | WardField), f"{form.__name__}.{name}"
    assert {"FarmForm.ward", "CheckoutForm.ward"} <= set(found)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_checkout_ward_select_names_wards_right(language):
    with translation.override(language):
        html = str(CheckoutForm(methods=[])["ward"])
    assert html.count("<option") == Ward.objects.count() + 1
    assert_wards_named_right(html, language, "checkout")


def _client(user, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_household_form_suggests_every_ward_by_its_name_and_former_names(make_user, language):
    response = _client(make_user(Role.FARMER), language).get("/farmer/household/")
    assert response.status_code == 200
    html = response.content.decode()
    assert_wards_named_right(html, language, "household form")
    assert html.count('<option value="') == Ward.objects.count()
    assert 'list="id_ward-wards"' in html and '<datalist id="id_ward-wards">' in html
    # Former names are offered with the ward they became ("tên cũ" in Vietnamese).
    with translation.override(language):
        formerly = translation.gettext("formerly")
    nhon_ai = "Xã Nhơn Ái" if language == "vi" else "Nhơn Ái (Commune)"
    assert f'<option value="{nhon_ai}" label="{formerly}: ' in html
    option = html.split(f'<option value="{nhon_ai}"', 1)[1].split("</option>", 1)[0]
    assert "Xã Nhơn Nghĩa" in option and "Huyện Phong Điền" in option


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_officials_dashboard_area_select_names_wards_right(make_user, language):
    response = _client(make_user(Role.OFFICIAL), language).get("/official/stats/")
    assert response.status_code == 200
    assert_wards_named_right(response.content.decode(), language, "sales dashboard")


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_admin_scope_of_an_official_names_wards_right(make_user, language):
    staff = make_user(Role.STAFF)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    official = make_user(Role.OFFICIAL)
    response = _client(staff, language).get(f"/admin/accounts/user/{official.pk}/change/")
    assert response.status_code == 200
    assert_wards_named_right(response.content.decode(), language, "admin user scope")
