"""The header on a phone (issue #22, 15): each role its own links, the rest in one menu."""
import re

import pytest

from marketplace.accounts.models import Role
from tests.conftest import TEST_PASSWORD


def bar_and_menu(html: str) -> tuple[str, str]:
    """Split the header's nav into what stays in the bar and what the menu holds."""
    nav = re.search(r'<nav class="nav".*?</nav>', html, re.S).group(0)
    menu = re.search(r'<details class="menu">.*?</details>', nav, re.S)
    return (nav.replace(menu.group(0), "") if menu else nav), (menu.group(0) if menu else "")


@pytest.mark.parametrize(
    ("role", "own", "not_shown"),
    [
        (Role.BUYER, ["/gio-hang/", "/don-hang/"], ["/farmer/", "/courier/", "/official/"]),
        (Role.FARMER, ["/farmer/", "/farmer/orders/"], ["/courier/", "/official/"]),
        (Role.OFFICIAL, ["/official/"], ["/gio-hang/", "/don-hang/", "/courier/", "/farmer/"]),
        (Role.COURIER, ["/courier/"], ["/gio-hang/", "/don-hang/", "/official/", "/farmer/"]),
    ],
)
def test_each_role_sees_its_own_links_in_the_bar_and_no_one_elses(client, make_user, role, own, not_shown):
    client.force_login(make_user(role))
    html = client.get("/account/").content.decode()
    bar, menu = bar_and_menu(html)
    for path in own:
        assert f'href="{path}"' in bar, (role, path)
    for path in not_shown:
        assert f'href="{path}"' not in bar + menu, (role, path)
    for path in ("/notifications/", "/account/", "/account/logout/"):
        assert path in menu, (role, path)
        assert f'href="{path}"' not in bar, (role, path)


def test_a_farmer_keeps_the_cart_in_the_menu(client, make_user):
    client.force_login(make_user(Role.FARMER))
    bar, menu = bar_and_menu(client.get("/").content.decode())
    assert 'href="/gio-hang/"' in menu and 'href="/gio-hang/"' not in bar


def test_the_bar_holds_at_most_three_links_for_any_role(client, make_user):
    for role in (Role.BUYER, Role.FARMER, Role.OFFICIAL, Role.COURIER, Role.STAFF):
        client.force_login(make_user(role))
        bar, _menu = bar_and_menu(client.get("/account/").content.decode())
        assert len(re.findall(r"<a ", bar)) <= 3, role


@pytest.mark.django_db
def test_logging_in_from_the_header_comes_back_to_the_page(client, make_user):
    make_user(Role.BUYER, phone="0912345678")
    page = client.get("/privacy/").content.decode()
    link = re.search(r'href="(/account/login/\?next=[^"]+)"', page).group(1)
    assert link == "/account/login/?next=/privacy/"
    signed_in = client.post(link, {"username": "0912 345 678", "password": TEST_PASSWORD})
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/privacy/"


@pytest.mark.django_db
def test_the_login_page_itself_does_not_send_people_back_to_it(client):
    page = client.get("/account/signup/").content.decode()
    assert 'href="/account/login/"' in page
    assert "next=/account/" not in page


def test_staff_see_the_admin_and_no_cart(client, make_user):
    client.force_login(make_user(Role.STAFF))
    bar, menu = bar_and_menu(client.get("/account/").content.decode())
    assert 'href="/admin/"' in bar
    assert 'href="/gio-hang/"' not in bar + menu
