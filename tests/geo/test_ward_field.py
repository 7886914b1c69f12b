"""The household form finds a ward by the name people still use: "Phong Điền", "Nhơn Nghĩa", "Ô Môn"."""

import re
from html import unescape

import pytest
from django.conf import settings
from django.test import Client

from farms.models import Farm
from marketplace.accounts.models import Role
from marketplace.geo.models import Ward
from marketplace.geo.selectors import wards_for_place, wards_for_query
from tests.farms.test_pages import household_form

pytestmark = pytest.mark.django_db

OPTION = re.compile(r'<option value="(\d{5})">([^<]*)</option>')


@pytest.fixture
def farmer(make_user):
    client = Client()
    client.force_login(make_user(Role.FARMER))
    return client


def register(client, ward_text, language="vi"):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.post("/farmer/household/", household_form(ward=ward_text))


def registered_ward(client) -> Ward:
    return Farm.objects.get(owner_id=client.session["_auth_user_id"]).ward


@pytest.mark.parametrize(
    ("typed", "became"),
    [
        ("Xã Nhơn Nghĩa", "Xã Nhơn Ái"),  # a former commune, by its full name
        ("nhon nghia", "Xã Nhơn Ái"),  # the same without accents or a kind of unit
        ("Thị trấn Phong Điền", "Xã Phong Điền"),  # the former town of Phong Điền
        ("Phường Châu Văn Liêm", "Phường Ô Môn"),
        ("Phường An Bình", "Phường An Bình"),  # what the Vietnamese suggestion puts in the box
        ("  an binh (ward) ", "Phường An Bình"),  # ... and the English one, as typed
        ("An Binh Ward", "Phường An Bình"),
        ("Phường Ô Môn", "Phường Ô Môn"),  # the ward, not the former district of the same name
        ("31315", "Xã Nhơn Ái"),  # a code, as an old bookmark or the checkout would send
    ],
)
def test_a_household_registers_by_a_former_or_current_name(farmer, typed, became):
    response = register(farmer, typed)
    assert response.status_code == 302, unescape(response.content.decode())[-3000:]
    assert registered_ward(farmer).full_name == became


@pytest.mark.parametrize("language", ["vi", "en"])
def test_phong_dien_offers_the_wards_it_became_and_the_choice_registers(farmer, language):
    response = register(farmer, "phong dien", language)
    assert response.status_code == 200
    assert not Farm.objects.exists()
    html = unescape(response.content.decode())
    options = OPTION.findall(html)
    expected = {w.code for w in wards_for_query(query="Phong Điền")}
    assert {code for code, _ in options} == expected and len(expected) == 4
    # The ward of that very name, which the former town became, comes first.
    first_code, first_label = options[0]
    assert Ward.objects.get(pk=first_code).full_name == "Xã Phong Điền"
    if language == "vi":
        assert first_label.startswith("Xã Phong Điền (")
        assert "Phường An Bình (" in html and "Huyện Phong Điền" in html
    else:
        assert first_label.startswith("Phong Điền (Commune) (formerly: ")
        assert "An Bình (Ward) (" in html and "Phường An Bình" not in html
    assert "Phường/xã" not in html
    assert '<select name="ward"' in html and 'id="id_ward"' in html
    assert "<datalist" not in html  # only the wards Phong Điền may mean, not all 103
    # Choosing one of them registers the household there.
    an_binh = Ward.objects.get(name="An Bình")
    response = farmer.post("/farmer/household/", household_form(ward=an_binh.code))
    assert response.status_code == 302
    assert registered_ward(farmer) == an_binh


@pytest.mark.parametrize("typed", ["Hà Nội", "99999", "x" * 5000, "<script>alert(1)</script>"])
def test_a_name_no_ward_bears_is_refused_with_a_message_and_no_household(farmer, typed):
    response = register(farmer, typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert" not in html
    assert not Farm.objects.exists()
    assert 'class="error" role="alert"' in html and "Phong Điền" in unescape(html)


def test_an_empty_ward_is_refused(farmer):
    response = register(farmer, "")
    assert response.status_code == 200
    assert not Farm.objects.exists()


def test_editing_shows_the_households_ward_by_its_name_and_keeps_it(farmer, make_user):
    nhon_ai = Ward.objects.get(name="Nhơn Ái")
    register(farmer, nhon_ai.code)
    farmer.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = unescape(farmer.get("/farmer/household/").content.decode())
    field = re.search(r'<input type="text" name="ward"[^>]*>', html).group(0)
    assert 'value="Nhơn Ái (Commune)"' in field
    # Saving the page as shown keeps the ward.
    response = farmer.post("/farmer/household/", household_form(ward="Nhơn Ái (Commune)", cccd=""))
    assert response.status_code == 302
    assert registered_ward(farmer) == nhon_ai


def test_a_district_name_means_every_ward_it_fed_and_a_unit_name_only_its_own():
    assert [w.full_name for w in wards_for_place(text="Huyện Phong Điền")] == [
        w.full_name for w in wards_for_query(query="Huyện Phong Điền").order_by("name_folded")
    ]
    assert {w.full_name for w in wards_for_place(text="Quận Ô Môn")} == {
        "Phường Ô Môn", "Phường Phước Thới", "Phường Thới Long"
    }
    assert [w.full_name for w in wards_for_place(text="Thị trấn Phong Điền")] == ["Xã Phong Điền"]
    assert wards_for_place(text="   ") == []


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_ward_is_found_by_the_name_its_own_picker_shows(language):
    """What the datalist offers (and an edit shows) must come back as that one ward."""
    from django.utils import translation

    wrong = []
    for ward in Ward.objects.all():
        with translation.override(language):
            shown = str(ward.display_full_name)
        found = wards_for_place(text=shown)
        if [w.pk for w in found] != [ward.pk]:
            wrong.append(f"{shown!r} → {[str(w) for w in found]}")
    assert Ward.objects.count() == 103
    assert not wrong, "\n".join(wrong)
