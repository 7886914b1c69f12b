"""Site pages: each role reaches its own start page and no other; the admin is staff-only."""

import pytest

from marketplace.accounts.models import Role

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
