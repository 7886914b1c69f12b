"""What arrives in a request body, and what an answer lets caches keep (issue #21).

- Twenty thousand `[` once made DRF's JSON parser raise `RecursionError`: a 500 to anyone, on
  every operation that reads a body. Every operation of the schema, as anonymous and as every
  role, is sent such a body: never a 5xx; where the body is read, `400 parse_error`. Nesting
  deeper than `marketplace.api.parsers.MAX_DEPTH` is a 400 too; a body over the size limit a 413.
- Webhooks parse JSON themselves: an anonymous deep body is refused at the signature, never parsed.
- Every answer to a signed-in user (token or session, API or page, success or error) says
  `Cache-Control: private, no-store`; anonymous catalogue answers keep their ETag and 304s.
"""

import json

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from marketplace.api.parsers import MAX_DEPTH
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

DEEP = "[" * 20_000
JSON = "application/json"
ROLES_ONE_EACH = (
    "anonymous",
    "buyer_alice",
    "farmer_alice",
    "official_alice",
    "courier_alice",
    "staff_alice",
)
# Which of the viewer's own ids fills a path parameter, by the path's start (as tests/security/test_fuzz.py).
OWN = {
    ("/api/v1/cart/items/", "id"): "cart_line",
    ("/api/v1/certifications/", "id"): "certification_pending",
    ("/api/v1/farm-orders/", "id"): "farm_order_accepted",
    ("/api/v1/farms/", "id"): "farm",
    ("/api/v1/lots/", "id"): "lot",
    ("/api/v1/notifications/", "id"): "notification",
    ("/api/v1/orders/", "id"): "order_delivered_a",
    ("/api/v1/problems/", "id"): "problem",
    ("/api/v1/products/", "id"): "product",
    ("/api/v1/products/", "image_id"): "image",
    ("/api/v1/runs/", "id"): "run",
    ("/api/v1/shipments/", "id"): "shipment",
    ("/api/v1/stats/exports/", "id"): "export_job",
    ("/api/v1/trace/", "code"): "lot_code",
}
# Owners of objects a role acts on when it has none of its own (officials verify alice's household).
FALLBACK_OWNER = {"official": "farmer_alice", "staff": "buyer_alice", "courier": "courier_alice"}


@pytest.fixture(autouse=True)
def _no_limits(settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/min")


def schema_operations():
    """(method, path template, operation) of every operation of the served schema."""
    schema = Client().get("/api/schema/?format=json").json()
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


def fill(world, viewer: str, path: str) -> str:
    """The path with the viewer's own ids (or those of whom its role acts for), else 1."""
    owners = [viewer, FALLBACK_OWNER.get(viewer.split("_")[0], ""), "farmer_alice", "buyer_alice"]
    for (prefix, name), kind in OWN.items():
        if path.startswith(prefix) and "{" + name + "}" in path:
            value = next((world.ids[o][kind] for o in owners if o and kind in world.ids.get(o, {})), 1)
            path = path.replace("{" + name + "}", str(value))
    return path.replace("{id}", "1").replace("{code}", "x")


def client_for(world, viewer: str) -> APIClient:
    client = APIClient()
    if viewer != "anonymous":
        client.credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[viewer]}")
    return client


def rolled_back(call, *args, **kwargs):
    """Make the request in a savepoint rolled back after it (a sign-out must not sign out the rest)."""
    with transaction.atomic():
        response = call(*args, **kwargs)
        transaction.set_rollback(True)
    return response


def _code(response):
    try:
        return json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        return None


# --- Deep and large JSON --------------------------------------------------------------------


def test_every_operation_answers_deep_json_with_a_4xx_never_a_500(world):
    failures, parsed = [], set()
    reads_json = set()
    for method, path, operation in schema_operations():
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            reads_json.add((method, path))
        for viewer in ROLES_ONE_EACH:
            url = fill(world, viewer, path)
            response = rolled_back(client_for(world, viewer).generic, method, url, DEEP, content_type=JSON)
            status = response.status_code
            if status >= 500:
                failures.append(f"{method} {url} as {viewer}: {status}")
            elif (method, path) in reads_json and not 400 <= status < 500:
                failures.append(f"{method} {url} as {viewer}: {status}, a body it reads answered as served")
            elif status == 400 and _code(response) == "parse_error":
                parsed.add((method, path))
    assert not failures, "\n".join(failures)
    # The body was read and refused (not just stopped earlier by a 401/403/404) on every operation
    # that reads JSON, as one viewer or another: the parser itself is what answered.
    unread = sorted(f"{m} {p}" for m, p in reads_json - parsed)
    assert not unread, f"operations whose deep body was never parsed by any viewer: {unread}"
    assert len(reads_json) > 30


@pytest.mark.parametrize("viewer", ["anonymous", "buyer_alice"])
def test_deep_json_is_a_400_naming_the_limit(world, viewer):
    client = client_for(world, viewer)
    url = "/api/v1/auth/token/" if viewer == "anonymous" else "/api/v1/cart/items/"
    response = client.generic("POST", url, DEEP, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {
        "detail": f"The JSON body is nested too deeply: at most {MAX_DEPTH} levels.",
        "code": "parse_error",
    }
    # Deeper than the limit but far short of Python's recursion limit: the same answer.
    just_over = json.dumps({"phone": [[[]]], "x": json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)})
    response = client.generic("POST", url, just_over, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_nesting_up_to_the_limit_is_read(api):
    """At the limit the body is parsed: the answer is about its fields, not its shape."""
    body = {"phone": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)), "password": "x"}
    response = api.post("/api/v1/auth/token/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert "phone" in response.json() and response.json().get("code") != "parse_error"


def test_a_json_body_over_the_limit_is_a_413(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"phone": "0912345678", "password": "x" * 2000})
    response = api.post(
        "/api/v1/auth/token/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is too large: send at most 1000\xa0bytes.",
        "code": "request_too_large",
    }


def test_broken_json_is_still_a_400_parse_error(api):
    for body in ("{", '{"phone": NaN}', "\xff", "[" * 5):
        response = api.post("/api/v1/auth/token/", body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json()["code"] == "parse_error", body


@pytest.mark.parametrize("path", ["/webhooks/stripe/", "/webhooks/vietqr/"])
def test_webhooks_refuse_a_deep_anonymous_body_before_parsing_it(settings, path):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    settings.VIETQR_WEBHOOK_SECRET = "a-bank-secret"
    client = Client()
    for headers in ({}, {"HTTP_STRIPE_SIGNATURE": "t=1,v1=00", "HTTP_X_WEBHOOK_SECRET": "wrong"}):
        response = client.post(path, DEEP, content_type="application/json", **headers)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_signature"


# --- Cache-Control ---------------------------------------------------------------------------


def test_every_get_answers_a_signed_in_user_private_no_store(world):
    """Every GET of the schema, as each role by token (and buyer alice by session), errors too."""
    failures, statuses = [], set()
    gets = [(path, op) for method, path, op in schema_operations() if method == "GET"]
    assert len(gets) > 40
    session = APIClient()
    session.force_login(world.users["buyer_alice"])
    for path, _operation in gets:
        for viewer in [v for v in ROLES_ONE_EACH if v != "anonymous"] + ["session"]:
            client = session if viewer == "session" else client_for(world, viewer)
            url = fill(world, "buyer_alice" if viewer == "session" else viewer, path)
            response = client.get(url)
            statuses.add(response.status_code)
            if response.get("Cache-Control") != "private, no-store":
                header = response.get("Cache-Control")
                failures.append(f"GET {url} as {viewer}: {response.status_code} {header!r}")
            if response.has_header("ETag"):
                failures.append(f"GET {url} as {viewer}: an ETag on what must not be stored")
    assert not failures, "\n".join(failures)
    assert {200, 403, 404} <= statuses  # answers and refusals alike were checked


def test_personal_data_and_errors_named_in_the_issue(world):
    client = client_for(world, "buyer_alice")
    order = world.ids["buyer_alice"]["order_delivered_a"]
    for url in ("/api/v1/me/", f"/api/v1/orders/{order}/", "/api/v1/me/export/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url
    someone_elses = client.get(f"/api/v1/orders/{world.ids['buyer_bob']['order_new']}/")
    assert someone_elses.status_code == 404
    assert someone_elses["Cache-Control"] == "private, no-store"
    refused = client.post("/api/v1/cart/items/", {"product": "x"}, format="json")
    assert refused.status_code == 400 and refused["Cache-Control"] == "private, no-store"
    # Credentials that fail are still credentials: no shared cache keeps the 401 either.
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert bad.get("/api/v1/products/")["Cache-Control"] == "private, no-store"


def test_a_token_answered_to_an_anonymous_request_is_never_stored(world):
    """The token endpoint has no signed-in user and no credentials, yet answers a secret."""
    user = world.users["buyer_alice"]
    response = APIClient().post(
        "/api/v1/auth/token/", {"phone": user.phone, "password": TEST_PASSWORD}, format="json"
    )
    assert response.status_code == 200 and response.json()["token"]
    assert response["Cache-Control"] == "private, no-store"
    refused = APIClient().post("/api/v1/auth/register/confirm/", {"signup": "x", "code": "123456"})
    assert refused["Cache-Control"] == "private, no-store"


def test_pages_for_a_signed_in_user_are_private_no_store(world):
    client = Client()
    client.force_login(world.users["buyer_alice"])
    for url in ("/", "/account/", "/account/export/", "/gio-hang/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_anonymous_catalogue_keeps_its_etag_and_caching(world):
    """The public catalogue on slow 3G: an ETag and 304s, no `no-store`, for anyone not signed in."""
    client = APIClient()
    for url in ("/api/v1/products/", f"/api/v1/products/{world.ids['farmer_alice']['product']}/"):
        first = client.get(url)
        assert first.status_code == 200
        assert "no-store" not in first.get("Cache-Control", "")
        assert first["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    home = Client().get("/")
    assert "no-store" not in home.get("Cache-Control", "")


def test_a_view_that_marks_its_answer_public_keeps_it(world):
    """A lot's QR code is the same for everyone: signed in or not, it stays cacheable."""
    client = Client()
    client.force_login(world.users["buyer_alice"])
    url = reverse("farms:trace_qr", kwargs={"code": world.ids["farmer_alice"]["lot_code"], "fmt": "svg"})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")

