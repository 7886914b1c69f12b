"""Who may reach every URL of the site: the authorization matrix of `tests/security/matrix.py`.

Every route of Django's URL resolver must have an entry (a new URL without one fails
`test_every_route_has_an_entry`); every entry is tried as anonymous and as both users of every
role, on objects of alice: the owner gets through, bob (same role) gets 404, other roles 403,
anonymous 401 (API) or the login page. Refused writes must change nothing. Lists show only
the user's own objects. Everything under admin/ is staff only.
"""

import hashlib
import json
import time

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import path, reverse
from rest_framework.test import APIClient

from .matrix import (
    ADMIN_LOGIN,
    LOGIN,
    MATRIX,
    SKIP,
    ListCheck,
    decode,
    gaps,
    is_admin,
    is_api,
    url_for,
    walk,
)
from .world import VIEWERS

# --- Clients and answers --------------------------------------------------------------------


class Clients:
    """A session client (pages) and a token client (API) per viewer."""

    def __init__(self, world):
        self.pages, self.api = {"anonymous": Client()}, {"anonymous": APIClient()}
        for key, user in world.users.items():
            self.pages[key] = Client()
            self.pages[key].force_login(user)
            self.api[key] = APIClient()
            self.api[key].credentials(HTTP_AUTHORIZATION=f"Token {world.tokens[key]}")

    def request(self, viewer: str, method: str, url: str, data=None):
        if is_api(url):
            client = self.api[viewer]
            if method == "get":
                return client.get(url)
            return getattr(client, method)(url, data or {}, format="json")
        client = self.pages[viewer]
        if method == "get":
            return client.get(url)
        return getattr(client, method)(url, data or {})


def outcome(response):
    """The answer as the matrix writes it: a status, or LOGIN / ADMIN_LOGIN for those redirects."""
    if response.status_code == 302:
        location = response.get("Location", "")
        if location.startswith(reverse(settings.LOGIN_URL)):
            return LOGIN
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
    return response.status_code


def body_text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def api_shape_problems(response) -> list[str]:
    """The API's error conventions: 401 names the Token scheme; 403 and 404 carry their code."""
    problems = []
    status = response.status_code
    if status == 401 and response.get("WWW-Authenticate") != "Token":
        problems.append(f"401 without WWW-Authenticate: Token ({response.get('WWW-Authenticate')!r})")
    if status in (403, 404):
        try:
            code = json.loads(response.content).get("code")
        except (ValueError, AttributeError):
            code = None
        wanted = "permission_denied" if status == 403 else "not_found"
        if code != wanted:
            problems.append(f"{status} with code {code!r}, not {wanted!r}")
    return problems


# --- What a refused write must not change ------------------------------------------------------

SNAPSHOT_MODELS = (
    "accounts.User",
    "authtoken.Token",
    "farms.Farm",
    "farms.Product",
    "farms.ProductImage",
    "farms.Certification",
    "farms.HarvestLot",
    "orders.Cart",
    "orders.CartLine",
    "orders.Order",
    "orders.FarmOrder",
    "orders.Payment",
    "orders.Problem",
    "orders.LedgerEntry",
    "logistics.Run",
    "logistics.Shipment",
    "logistics.ShipmentEvent",
    "notifications.Notification",
    "reports.ExportJob",
    "reports.ReportSubscription",
)
# Written by reading, not by writing: logging in, and the prices a cart was last shown at.
SNAPSHOT_IGNORED = {"last_login", "seen_price", "seen_at", "updated_at"}


def snapshot() -> dict:
    state = {}
    for label in SNAPSHOT_MODELS:
        model = apps.get_model(label)
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in SNAPSHOT_IGNORED]
        rows = list(model.objects.order_by("pk").values_list(*fields))
        state[label] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return state


# --- Lists ------------------------------------------------------------------------------------


def list_problems(world, viewer: str, check: ListCheck, response) -> list[str]:
    """The viewer sees its own values and none of the other user's of the same role."""
    other = world.other(viewer)
    own = set(world.ids[viewer].get(check.key, []))
    foreign = set(world.ids[other].get(check.key, [])) - own
    assert foreign, f"the world gives {other} no {check.key} of its own: the list check would prove nothing"
    problems = []
    if check.json_ids:
        data = json.loads(response.content)
        items = data.get("results", data) if isinstance(data, dict) else data
        shown = {item["id"] for item in items}
        if seen := shown & foreign:
            problems.append(f"shows {other}'s {check.key} {sorted(seen)}")
        if check.must_show_own and (missing := own - shown):
            problems.append(f"misses its own {check.key} {sorted(missing)}")
        return problems
    text = decode(response)
    for value in sorted(foreign, key=str):
        if check.fmt.format(value) in text:
            problems.append(f"shows {other}'s {check.key} {check.fmt.format(value)!r}")
    if check.must_show_own:
        for value in sorted(own, key=str):
            if check.fmt.format(value) not in text:
                problems.append(f"misses its own {check.key} {check.fmt.format(value)!r}")
    return problems


# --- The tests --------------------------------------------------------------------------------


def test_every_route_has_an_entry():
    missing, stale = gaps()
    assert not missing, f"routes without an entry in tests/security/matrix.py MATRIX: {sorted(missing)}"
    assert not stale, f"MATRIX entries for routes that no longer exist: {sorted(stale)}"


def _planted(request):  # pragma: no cover - never called
    raise AssertionError


urlpatterns = [path("planted/secret/", _planted, name="planted-secret")]


def test_a_route_without_an_entry_is_reported():
    """A URLconf with one more route (and one fewer) than the site: both gaps are named."""
    from django.urls import get_resolver

    import marketplace.urls

    class Planted:
        urlpatterns = [*urlpatterns, *marketplace.urls.urlpatterns[1:]]  # drops "home"

    missing, stale = gaps(get_resolver(Planted))
    assert missing == {"planted-secret"}
    assert stale == {"home"}


@pytest.mark.django_db
def test_authorization_matrix(world):
    started = time.monotonic()
    clients = Clients(world)
    failures: list[str] = []
    requests = 0
    routes = {route.key for route in walk() if not is_admin(route)}

    for key, cases in MATRIX.items():
        for entry in cases:
            url = url_for(world, key, entry)
            where = f"{key}{' [' + entry.label + ']' if entry.label else ''} {url}"
            if entry.get is not None:
                for viewer in VIEWERS:
                    response = clients.request(viewer, "get", url)
                    requests += 1
                    got, expected = outcome(response), entry.get[viewer]
                    if got != expected:
                        failures.append(f"GET {where} as {viewer}: got {got}, expected {expected}")
                        continue
                    if is_api(url):
                        failures += [f"GET {where} as {viewer}: {p}" for p in api_shape_problems(response)]
                    if got == 200:
                        for check in entry.lists:
                            if viewer.startswith(check.role + "_"):
                                failures += [
                                    f"GET {where} as {viewer}: {p}"
                                    for p in list_problems(world, viewer, check, response)
                                ]
            if entry.write is not None:
                # One snapshot before and after the refused writes of a case: none may change anything.
                before = snapshot()
                refused = []
                for viewer in VIEWERS:
                    expected = entry.write[viewer]
                    if expected is SKIP:
                        continue
                    response = clients.request(viewer, entry.method, url, entry.data)
                    requests += 1
                    got = outcome(response)
                    method = entry.method.upper()
                    refused.append(f"{viewer} ({got})")
                    if got != expected:
                        failures.append(f"{method} {where} as {viewer}: got {got}, expected {expected}")
                    elif is_api(url):
                        failures += [
                            f"{method} {where} as {viewer}: {p}" for p in api_shape_problems(response)
                        ]
                after = snapshot()
                if changed := [label for label in after if after[label] != before[label]]:
                    failures.append(
                        f"{entry.method.upper()} {where} by {', '.join(refused)}: changed {changed}"
                    )

    summary = (
        f"authorization matrix: {len(routes)} routes, {sum(map(len, MATRIX.values()))} cases, "
        f"{len(VIEWERS)} viewers ({len(VIEWERS) - 1} users of {len(VIEWERS) // 2} roles + anonymous), "
        f"{requests} requests in {time.monotonic() - started:.1f} s"
    )
    print(summary)
    assert not failures, f"{len(failures)} failures ({summary}):\n" + "\n".join(failures)


def _admin_url(route) -> str | None:
    """A URL of an admin route: no arguments, or made-up ones (a non-staff user never gets past login)."""
    import re

    fill = {
        "object_id": "1",
        "id": "1",
        "content_type_id": "1",
        "url": "anything/",
        "uidb64": "MQ",
        "token": "x",
    }
    app_label = re.search(r"\(\?P<app_label>([a-z_]+)", route.pattern)
    if app_label:
        fill["app_label"] = app_label.group(1)
    names = re.findall(r"\(\?P<(\w+)>", route.pattern) + re.findall(r"<(?:\w+:)?(\w+)>", route.pattern)
    kwargs = {name: fill[name] for name in names}
    if route.name is None:
        return "/admin/anything/"
    try:
        return reverse(route.name, kwargs=kwargs or None)
    except Exception:
        return None


@pytest.mark.django_db
def test_admin_is_staff_only(world):
    """Every admin URL: staff get in (never a 500); everyone else is sent to the admin's login.

    Each route is asked by anonymous, one staff user and one user of another role, taken in
    turn so that every user is tried across the routes (the admin's own check is one
    decorator: asking every route eleven times would prove nothing more).
    """
    clients = Clients(world)
    failures = []
    staff = [viewer for viewer in VIEWERS if viewer.startswith("staff_")]
    others = [viewer for viewer in VIEWERS if viewer != "anonymous" and viewer not in staff]
    routes = [r for r in walk() if is_admin(r) and r.name not in ("admin:login", "admin:logout")]
    for index, route in enumerate(routes):
        url = _admin_url(route)
        assert url, f"cannot fill {route.key}"
        for viewer in ("anonymous", staff[index % len(staff)], others[index % len(others)]):
            response = clients.pages[viewer].get(url)
            got = outcome(response)
            if viewer in staff:
                if got in (ADMIN_LOGIN, LOGIN) or response.status_code >= 500:
                    failures.append(f"GET {route.key} {url} as {viewer}: got {got}")
            elif got != ADMIN_LOGIN:
                failures.append(f"GET {route.key} {url} as {viewer}: got {got}, expected {ADMIN_LOGIN}")
    print(f"admin: {len(routes)} routes, each as anonymous, staff and another role")
    assert len(routes) > 50  # the rule covers the whole admin, not an empty list
    assert not failures, "\n".join(failures)


# --- Ids in request bodies (issue #21) ----------------------------------------------------------


def _fill(world, case) -> str:
    from .matrix import resolve_kwargs

    return reverse(case.key, kwargs=resolve_kwargs(world, case.kwargs) or None)


def _without_ids(response, *ids):
    """The JSON answer with the ids sent (a value, or a key of field messages) made alike."""
    names = {str(pk) for pk in ids}

    def walk(value):
        if isinstance(value, dict):
            return {("<id>" if key in names else key): walk(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [walk(inner) for inner in value]
        return "<id>" if str(value) in names and not isinstance(value, bool) else value

    return walk(json.loads(response.content))


@pytest.mark.django_db
def test_ids_in_bodies_resolve_like_ids_in_urls(world):
    """Every body naming, by id, an object the viewer may not see: each viewer gets its expected
    answer, which names nothing of the object and is the answer to a body naming nothing at all."""
    from .matrix import BODY_IDS, MISSING_ID

    clients = Clients(world)
    failures = []
    for case in BODY_IDS:
        url = _fill(world, case)
        where = f"{case.method.upper()} {case.key} {url}"
        before = snapshot()
        for viewer in VIEWERS:
            pk, texts = case.target(world, viewer)
            assert pk != MISSING_ID and all(texts), where
            response = clients.request(viewer, case.method, url, case.body(world, pk))
            nothing = clients.request(viewer, case.method, url, case.body(world, MISSING_ID))
            got, expected = outcome(response), case.expect[viewer]
            if got != expected:
                answer = body_text(response)[:300]
                failures.append(f"{where} as {viewer}: got {got}, expected {expected}: {answer}")
                continue
            failures += [f"{where} as {viewer}: {p}" for p in api_shape_problems(response)]
            text = decode(response)
            failures += [f"{where} as {viewer}: the answer shows {t!r}" for t in texts if t in text]
            if _without_ids(response, pk, MISSING_ID) != _without_ids(nothing, pk, MISSING_ID):
                failures.append(
                    f"{where} as {viewer}: a hidden object is answered unlike a missing one:\n"
                    f"  hidden:  {text[:300]}\n  missing: {decode(nothing)[:300]}"
                )
        after = snapshot()
        if changed := [label for label in after if after[label] != before[label]]:
            failures.append(f"{where}: changed {changed}")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)


@pytest.mark.django_db
def test_every_id_in_a_body_is_in_the_matrix(client):
    """A body field that carries ids (by its name) has a BodyCase, or is public reference data."""
    from django.urls import resolve

    from .matrix import BODY_IDS, BODY_IDS_PUBLIC, is_id_field

    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]

    def properties(schema_part) -> set[str]:
        while "$ref" in schema_part:
            schema_part = components[schema_part["$ref"].rsplit("/", 1)[-1]]
        return set(schema_part.get("properties", {}))

    covered = {(case.key, name) for case in BODY_IDS for name in case.fields} | set(BODY_IDS_PUBLIC)
    found, missing = set(), []
    for address, operations in schema["paths"].items():
        filled = address.replace("{id}", "1").replace("{image_id}", "1").replace("{code}", "x")
        key = resolve(filled).view_name
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for name in properties(content["schema"]):
                    if is_id_field(name):
                        found.add((key, name))
                        if (key, name) not in covered:
                            missing.append(f"{method.upper()} {address}: {name}")
    missing = sorted(set(missing))
    assert not missing, f"ids in bodies without a BodyCase in tests/security/matrix.py: {missing}"
    assert not (stale := covered - found), f"BodyCases for fields no body has: {sorted(stale)}"
