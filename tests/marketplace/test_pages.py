"""Site pages: each role reaches its own start page and no other; the admin is staff-only."""

import html
import re

import pytest
from django.conf import settings as django_settings
from django.utils import translation
from django.utils.text import get_text_list
from django.utils.translation import gettext

from marketplace.accounts.models import Role
from tests.farms.factories import make_farm
from tests.orders.factories import fill_cart
from tests.storefront.helpers import listing

ROLE_PAGES = {
    "/farmer/": Role.FARMER,
    "/official/": Role.OFFICIAL,
    "/courier/": Role.COURIER,
}
CASES = [(path, role) for path in ROLE_PAGES for role in Role]


@pytest.mark.parametrize(("path", "role"), CASES, ids=[f"{p.strip('/')}-as-{r.value}" for p, r in CASES])
def test_role_pages_open_only_for_their_role(client, make_user, path, role):
    client.force_login(make_user(role=role))
    response = client.get(path)
    expected = 200 if ROLE_PAGES[path] == role else 403
    assert response.status_code == expected


@pytest.mark.parametrize("path", list(ROLE_PAGES))
def test_role_pages_send_anonymous_visitors_to_login(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/account/login/?next={path}"


def test_forbidden_role_page_explains_itself(client, make_user):
    client.force_login(make_user(role=Role.BUYER))
    response = client.get("/farmer/")
    assert response.status_code == 403
    assert 'href="/account/home/"' in response.content.decode()


def test_official_page_lists_the_officials_wards(client, make_user):
    official = make_user(role=Role.OFFICIAL, city_wide=False, wards=["31120"])
    client.force_login(official)
    response = client.get("/official/")
    assert response.status_code == 200
    ward = official.wards.get()
    assert ward.full_name in response.content.decode()


@pytest.mark.parametrize("role", [Role.BUYER, Role.FARMER, Role.OFFICIAL, Role.COURIER])
def test_admin_is_closed_to_other_roles(client, make_user, role):
    client.force_login(make_user(role=role))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_opens_for_staff(client, make_user):
    client.force_login(make_user(role=Role.STAFF))
    assert client.get("/admin/").status_code == 200


def test_admin_sends_anonymous_visitors_to_its_login(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_home_page_shows_sign_up_to_visitors(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert 'href="/account/signup/"' in response.content.decode()


def test_home_page_for_a_farmer_links_to_the_farm_page(client, make_user):
    client.force_login(make_user(role=Role.FARMER))
    html = client.get("/").content.decode()
    assert 'href="/farmer/"' in html
    assert 'href="/account/signup/"' not in html


def test_privacy_notice_is_public(client, db):
    assert client.get("/privacy/").status_code == 200


def test_unknown_page_is_a_404(client, db):
    assert client.get("/khong-co-trang-nay/").status_code == 404


# --- The home page names the ways to pay that checkout offers (issue #22) ------------------

HERO = "Rice, fruit and fish straight from verified farm households, at farm-gate prices."
PAY_BY = {"cod": "cash on delivery", "stripe": "card", "vietqr": "bank transfer (VietQR)"}
PAYMENT_SETUPS = {
    # (card keys, bank account) -> the methods checkout offers, in the setting's order
    "card-and-transfer": (True, True, ["cod", "stripe", "vietqr"]),
    "no-card-keys": (False, True, ["cod", "vietqr"]),
    "card-no-transfer": (True, False, ["cod", "stripe"]),
    "cash-only": (False, False, ["cod"]),
}


def _payments(settings, *, card: bool, transfer: bool) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_home" if card else ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_home" if card else ""
    settings.VIETQR_BANK_BIN = "970436" if transfer else ""
    settings.VIETQR_ACCOUNT_NUMBER = "0011001234567" if transfer else ""


def _in(language: str, message: str) -> str:
    with translation.override(language):
        return gettext(message)


def _pay_by(language: str, methods: list[str]) -> str:
    with translation.override(language):
        names = [gettext(PAY_BY[method]) for method in methods]
        return gettext("Pay by %(methods)s.") % {"methods": get_text_list(names, gettext("or"))}


def _hero(page) -> str:
    found = re.search(r'<section class="hero">.*?<p>(.*?)</p>', page.content.decode(), re.DOTALL)
    assert found, "no hero text"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


@pytest.mark.parametrize("setup", PAYMENT_SETUPS)
def test_home_page_names_exactly_the_ways_to_pay_checkout_offers(client, make_user, settings, setup):
    card, transfer, methods = PAYMENT_SETUPS[setup]
    _payments(settings, card=card, transfer=transfer)

    # What checkout offers a buyer with a cart, read from its form.
    buyer = make_user(Role.BUYER)
    farm = make_farm(make_user, official=make_user(Role.OFFICIAL))
    fill_cart(buyer, [(listing(farm, stock="10"), "1")])
    client.force_login(buyer)
    checkout = client.get("/thanh-toan/")
    assert checkout.status_code == 200
    offered = re.findall(
        r'<input type="radio" name="payment_method" value="([a-z]+)"', checkout.content.decode()
    )
    assert offered == methods

    for language in ("vi", "en"):
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        home = client.get("/")
        assert f'<html lang="{language}">' in home.content.decode()
        hero = _hero(home)
        assert hero == f"{_in(language, HERO)} {_pay_by(language, offered)}"
        for method, phrase in PAY_BY.items():
            assert (_in(language, phrase) in hero) is (method in offered), (language, method)
        # The "how it works" card says the same, never more.
        steps = re.search(r'<ol class="cards steps">(.*?)</ol>', home.content.decode(), re.DOTALL).group(1)
        assert _pay_by(language, offered) in html.unescape(steps)


def test_home_page_in_english_without_card_keys_promises_no_card(client, db, settings):
    _payments(settings, card=False, transfer=True)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    home = client.get("/")
    steps = re.search(r'<ol class="cards steps">(.*?)</ol>', home.content.decode(), re.DOTALL).group(1)
    for text in (_hero(home), html.unescape(re.sub(r"<[^>]+>", " ", steps))):
        assert "Pay by cash on delivery or bank transfer (VietQR)." in text
        assert "card" not in text.lower()


def test_home_page_in_english_with_card_keys_names_the_card(client, db, settings):
    _payments(settings, card=True, transfer=True)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    text = html.unescape(client.get("/").content.decode())
    assert "Pay by cash on delivery, card or bank transfer (VietQR)." in text


def test_home_page_speaks_vietnamese_about_paying(client, db, settings):
    _payments(settings, card=True, transfer=True)
    hero = _hero(client.get("/"))
    assert hero.endswith(_pay_by("vi", ["cod", "stripe", "vietqr"]))
    for english in ("Pay by", "cash on delivery", "bank transfer", " or "):
        assert english not in hero
