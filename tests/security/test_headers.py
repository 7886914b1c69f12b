"""Security headers and cookies of the production profile, and a Content-Security-Policy every page keeps.

The production profile is read from a real start of it (`DJANGO_ENV=production` in a subprocess,
as `tests/marketplace/test_deploy_check.py` does), not from settings overridden in this process: what
is under test is what that profile sets. The pages are then rendered here (the local profile, which
sends the same policy) and their HTML read for anything the policy would block: a script without
`src`, an `on…=` handler, a `style` attribute or element, a `javascript:` URL, a resource from
another host.
"""

import json
from pathlib import Path

import pytest
from django.urls import reverse

from tests.orders.conftest import _media_in_tmp, reference_data  # noqa: F401 (fixtures)
from tests.production import deployable_environment, run_production

from .pages import client_for, read_html, site_pages

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STRICT_REFERRER_POLICIES = {"strict-origin-when-cross-origin", "strict-origin", "same-origin", "no-referrer"}

# Run with DJANGO_ENV=production: make a database, sign in over HTTPS, print each answer's headers.
PROBE = r"""
import json, os, secrets
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

assert settings.IS_PRODUCTION and not settings.DEBUG
call_command("migrate", verbosity=0, interactive=False)
from marketplace.accounts.services import user_create
password = secrets.token_urlsafe(16)
user = user_create(phone="0912 000 111", password=password, full_name="Probe", privacy_consent=True)

def record(response):
    return {
        "status": response.status_code,
        "location": response.headers.get("Location"),
        "headers": {name.lower(): value for name, value in response.headers.items()},
        "cookies": {
            name: {"secure": bool(m["secure"]), "httponly": bool(m["httponly"]), "samesite": m["samesite"]}
            for name, m in response.cookies.items()
        },
    }

# The production storage names static files after collectstatic's manifest, which a probe of
# headers has no use for; file names are not under test.
plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
plain_files = {**settings.STORAGES, "staticfiles": plain}
out = {}
with override_settings(STORAGES=plain_files):
    out["plain_http"] = record(Client().get("/"))
    # Behind the proxy that ends TLS and says so (SECURE_PROXY_SSL_HEADER).
    browser = Client(headers={"X-Forwarded-Proto": "https"})
    out["login_page"] = record(browser.get(reverse("accounts:login")))
    credentials = {"username": user.phone, "password": password}
    out["login"] = record(browser.post(reverse("accounts:login"), credentials))
    out["home"] = record(browser.get("/"))
    out["language"] = record(browser.post(reverse("set_language"), {"language": "en", "next": "/"}))
    out["api"] = record(browser.get("/api/v1/me/"))
    out["not_found"] = record(browser.get("/khong-co-trang-nay/"))
    strict = Client(enforce_csrf_checks=True, headers={"X-Forwarded-Proto": "https"})
    out["csrf_refused"] = record(strict.post(reverse("accounts:login"), credentials))
print("PROBE " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    """The answers of a production start, by name (see PROBE), with headers in lower case."""
    var_dir = tmp_path_factory.mktemp("production")
    result = run_production(
        var_dir,
        ["-c", PROBE],
        timeout=300,
        **{**deployable_environment(), "ALLOWED_HOSTS": "testserver", "LOG_LEVEL": "WARNING"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_strict_csp(header: str | None) -> None:
    assert header, "no Content-Security-Policy header"
    policy = csp_directives(header)
    assert policy["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        sources = policy.get(directive, policy["default-src"])
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, header
        assert sources == ["'self'"], header
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert set(policy["img-src"]) == {"'self'", "data:"}
    assert policy["form-action"][0] == "'self'"


# --- The production profile -----------------------------------------------------------------------


def test_production_sends_plain_http_to_https(production):
    answer = production["plain_http"]
    assert answer["status"] == 301
    assert answer["location"] == "https://testserver/"


def test_production_cookies_are_secure_httponly_and_same_site(production):
    assert production["login"]["status"] == 302, "the probe's sign-in failed"
    session = production["login"]["cookies"]["sessionid"]
    assert session == {"secure": True, "httponly": True, "samesite": "Lax"}
    csrf = production["login_page"]["cookies"]["csrftoken"]
    # Not HttpOnly, as Django advises: a script that could read it could read the page's token too.
    assert csrf["secure"] is True and csrf["samesite"] in {"Lax", "Strict"}
    language = production["language"]["cookies"]["cho_noi_language"]
    assert language["secure"] is True and language["samesite"] in {"Lax", "Strict"}


def test_production_sends_hsts_with_subdomains(production):
    for name in ("login_page", "home", "api", "not_found"):
        hsts = production[name]["headers"]["strict-transport-security"]
        parts = [part.strip() for part in hsts.split(";")]
        assert "includeSubDomains" in parts, hsts
        max_age = int(next(part for part in parts if part.startswith("max-age=")).split("=")[1])
        assert max_age >= 365 * 24 * 3600, hsts


@pytest.mark.parametrize("name", ["login_page", "home", "api", "not_found", "csrf_refused"])
def test_production_answers_carry_the_security_headers(production, name):
    answer = production[name]
    headers = answer["headers"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] in STRICT_REFERRER_POLICIES
    assert headers["x-frame-options"] == "DENY"
    assert_strict_csp(headers.get("content-security-policy"))
    assert answer["status"] == {"login_page": 200, "home": 200, "api": 200, "not_found": 404}.get(name, 403)


def test_production_form_action_allows_only_us_and_stripe_checkout(production):
    policy = csp_directives(production["home"]["headers"]["content-security-policy"])
    # The card payment form posts to our checkout, which redirects to Stripe's hosted page.
    assert policy["form-action"] == ["'self'", "https://checkout.stripe.com"]


# --- Every profile: the policy on every answer ----------------------------------------------------


@pytest.mark.django_db
def test_the_local_profile_sends_the_same_policy(client, make_user):
    strict = client_for(enforce_csrf_checks=True)
    answers = {
        "page": client.get(reverse("accounts:login")),
        "api": client.get("/api/v1/wards/"),
        "missing": client.get("/khong-co-trang-nay/"),
        "csrf refusal": strict.post(reverse("accounts:login"), {"username": "0912000111", "password": "x"}),
        "static file": client.get("/static/css/site.css"),
    }
    assert [answer.status_code for answer in answers.values()] == [200, 200, 404, 403, 200]
    for name, answer in answers.items():
        assert answer.headers.get("Content-Security-Policy"), name
        assert_strict_csp(answer.headers["Content-Security-Policy"])


@pytest.mark.django_db
def test_the_csrf_refusal_page_needs_no_inline_style_either():
    """Django's own refusal page styles itself inline; ours (403_csrf.html) uses the site's stylesheet."""
    refused = client_for(enforce_csrf_checks=True).post(reverse("accounts:login"), {"username": "0912000111"})
    assert refused.status_code == 403
    page = read_html(refused.content.decode())
    assert not (page.inline_scripts or page.style_elements or page.style_attributes or page.foreign_resources)
    assert page.stylesheet_hrefs == ["/static/css/site.css"]


# --- Pages: nothing inline that the policy would block ------------------------------------------


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
def test_no_page_needs_inline_script_or_style(make_user):
    problems = []
    read = 0
    for label, client, url in site_pages(make_user):
        response = client.get(url)
        if response.status_code != 200:
            problems.append(f"{label} ({url}): status {response.status_code}")
            continue
        assert response.headers.get("Content-Security-Policy"), url
        page = read_html(response.content.decode())
        read += 1
        for kind, found in (
            ("inline script", page.inline_scripts),
            ("event handler attribute", page.event_handlers),
            ("style attribute", page.style_attributes),
            ("<style> element", ["<style>"] * page.style_elements),
            ("javascript: URL", page.javascript_urls),
            ("resource from another host", page.foreign_resources),
        ):
            problems += [f"{label} ({url}): {kind}: {item}" for item in found]
    assert not problems, "\n".join(problems)
    assert read >= 40


@pytest.mark.django_db
def test_the_reader_sees_what_the_policy_blocks():
    """The page reader itself: each thing a strict policy refuses is found, a data block is not."""
    page = read_html(
        '<script>alert(1)</script><script type="application/json" id="d">{"a": 1}</script>'
        '<script src="/static/x.js"></script><script src="https://cdn.example/x.js"></script>'
        '<a href="javascript:alert(1)" onclick="go()">x</a><p style="color: red">y</p>'
        '<style>p{}</style><img src="data:image/png;base64,AAAA"><img src="http://x.example/i.png">'
        '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="t"></form>'
        '<form method="POST"></form>'
    )
    assert page.inline_scripts == ["alert(1)"]
    assert len(page.event_handlers) == 1 and len(page.style_attributes) == 1
    assert page.style_elements == 1 and len(page.javascript_urls) == 1
    assert len(page.foreign_resources) == 2  # the CDN script and the other host's picture
    assert [(form.method, form.has_csrf_token) for form in page.forms] == [("post", True), ("post", False)]


@pytest.mark.django_db
def test_api_docs_start_swagger_ui_from_files_of_our_own(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    page = read_html(response.content.decode())
    assert not page.inline_scripts and not page.style_elements
    assert len(page.script_srcs) == 3  # the bundle, the preset and the start-up script
    for src in page.script_srcs:
        answer = client.get(src)
        assert answer.status_code == 200, src
        # With nosniff a browser runs a script only when it is served as JavaScript.
        kind = answer.headers["Content-Type"].split(";")[0]
        assert kind in {"application/javascript", "text/javascript"}, src
        answer.close()
    assert any("script=" in src for src in page.script_srcs)
    start = client.get(next(src for src in page.script_srcs if "script=" in src)).content.decode()
    assert "SwaggerUIBundle(" in start
    for href in page.stylesheet_hrefs:
        answer = client.get(href)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/css"), href
        answer.close()


@pytest.mark.django_db
@pytest.mark.usefixtures("reference_data")
def test_dashboard_legend_keeps_its_colours_without_style_attributes(make_user):
    pages = {label: (client, url) for label, client, url in site_pages(make_user)}
    client, url = pages["official dashboard"]
    text = client.get(url).content.decode()
    legend = text.split('<ul class="legend">', 1)[1].split("</ul>", 1)[0]
    # The swatches are SVG squares filled like the map's wards: one per sales class, no sales, outside.
    assert legend.count('<svg class="swatch"') == legend.count("<li>") >= 3
    assert 'fill="#ffffff"' in legend and 'fill="#d9d9d9"' in legend
    assert 'fill="#' in legend.split("<li>")[1]
    assert 'id="dashboard-data" type="application/json"' in text
