"""Every form that posts carries Django's CSRF token, and a post without it is refused.

The refusals are checked with `Client(enforce_csrf_checks=True)`, the check a browser's request
meets (the test client skips it by default), and each is paired with the same post carrying the
token, which goes through: the 403 is the CSRF check's, not some other refusal.
"""

import pytest
from django.urls import reverse

from marketplace.accounts.models import PhoneVerification, Role
from orders.models import Order
from tests.conftest import TEST_PASSWORD
from tests.farms.factories import make_farm, make_product, ward
from tests.orders.conftest import _media_in_tmp, reference_data  # noqa: F401 (fixtures)
from tests.orders.factories import fill_cart

from .pages import client_for, read_html, site_pages

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("reference_data")
def test_every_form_that_posts_carries_the_csrf_token(make_user):
    missing, posting_pages, forms = [], set(), 0
    for label, client, url in site_pages(make_user):
        response = client.get(url)
        assert response.status_code == 200, f"{label} ({url}): {response.status_code}"
        for form in read_html(response.content.decode()).forms:
            if form.method != "post":
                continue
            forms += 1
            posting_pages.add(label)
            if not form.has_csrf_token:
                missing.append(f"{label} ({url}): form posting to {form.action or 'itself'}")
    assert not missing, "forms without csrfmiddlewaretoken:\n" + "\n".join(missing)
    # The sweep reached the forms that matter (a reader that found none would pass vacuously).
    expected = {"login", "signup", "checkout", "cart", "farm orders", "admin login", "admin listing"}
    assert expected <= posting_pages
    assert forms >= 100


def _csrf_client(user=None):
    return client_for(user, enforce_csrf_checks=True)


def _token(client, url) -> str:
    """Open the page as a browser would, which sets the CSRF cookie; return the form's token."""
    page = client.get(url)
    assert page.status_code == 200
    return client.cookies["csrftoken"].value


def test_login_without_the_token_is_refused(make_user):
    user = make_user(Role.BUYER)
    client = _csrf_client()
    url = reverse("accounts:login")
    token = _token(client, url)
    credentials = {"username": user.phone, "password": TEST_PASSWORD}
    refused = client.post(url, credentials)
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    signed_in = client.post(url, {**credentials, "csrfmiddlewaretoken": token})
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.usefixtures("reference_data")
def test_signup_without_the_token_is_refused():
    client = _csrf_client()
    url = reverse("accounts:signup")
    token = _token(client, url)
    data = {
        "role": "buyer",
        "full_name": "Chị Ba Sáu",
        "phone": "0912 777 001",
        "password": "a-long-honest-password-91",
        "privacy_consent": "on",
    }
    assert client.post(url, data).status_code == 403
    assert not PhoneVerification.objects.exists()
    started = client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert started.status_code == 302, started.content.decode()[-2000:]
    assert PhoneVerification.objects.get().payload["full_name"] == "Chị Ba Sáu"
    # The code page is a form too: without the token it is refused.
    verify = reverse("accounts:signup_verify")
    assert client.post(verify, {"code": "123456"}).status_code == 403


@pytest.mark.usefixtures("reference_data")
def test_checkout_without_the_token_is_refused(make_user):
    product = make_product(make_farm(make_user), status="active", stock="50")
    buyer = make_user(Role.BUYER)
    fill_cart(buyer, [(product, 2)])
    client = _csrf_client(buyer)
    url = reverse("orders:checkout")
    token = _token(client, url)
    version = client.get(url).context["form"].initial["cart_version"]
    data = {
        "name": "Chị Lan",
        "phone": "0912 345 678",
        "ward": ward(3).pk,
        "address": "12 đường 30/4",
        "payment_method": "cod",
        "cart_version": version,
    }
    assert client.post(url, data).status_code == 403
    assert not Order.objects.filter(buyer=buyer).exists()
    placed = client.post(url, {**data, "csrfmiddlewaretoken": token})
    assert placed.status_code == 302, placed.content.decode()[-2000:]
    assert Order.objects.filter(buyer=buyer).count() == 1


def test_admin_login_without_the_token_is_refused(make_user):
    staff = make_user(Role.STAFF)
    client = _csrf_client()
    url = reverse("admin:login")
    token = _token(client, url)
    credentials = {"username": staff.phone, "password": TEST_PASSWORD}
    assert client.post(url, credentials).status_code == 403
    assert client.post(url, {**credentials, "csrfmiddlewaretoken": token}).status_code == 302


@pytest.mark.usefixtures("reference_data")
def test_the_api_signed_in_by_the_session_needs_the_token_too(make_user):
    """A page's session cookie works on the API (Swagger UI uses it): only with the CSRF header."""
    product = make_product(make_farm(make_user), status="active", stock="50")
    buyer = make_user(Role.BUYER)
    client = _csrf_client(buyer)
    token = _token(client, reverse("storefront:cart"))
    url = "/api/v1/cart/items/"
    data = {"product": product.pk, "quantity": "1"}
    refused = client.post(url, data, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    added = client.post(url, data, content_type="application/json", headers={"X-CSRFToken": token})
    assert added.status_code == 201, added.content
