"""Fuzz the whole API with schemathesis, in-process, as every role.

The OpenAPI schema is read from `/api/schema/` of the WSGI application itself. Every operation
gets requests with valid and with invalid input (schemathesis' positive and negative modes), and
each request is sent as an anonymous client and as one user of each role, against the seeded
world of `world.py`: path parameters, and query and body fields that name objects, take a seeded
id most of the time (the user's own and other users'), so that calls get past the 404s. Every
answer must be no server error and must match the schema: a documented status code, a
documented content type, and a body and headers that fit. A second test follows the links
between operations that schemathesis infers from the schema (a list's ids to its items, an
order to its parts, a run to its shipments) as each role.

Each call runs in a savepoint that is rolled back, so one call's sign-out, deletion or payout
never changes what the next one sees. Failures are collected rather than shrunk: each distinct
failure is reported once, with a curl line and the server's traceback.

`FUZZ_EXAMPLES` (default 10) is the number of requests per operation, each sent as every viewer;
`FUZZ_SCENARIOS` (default 15) the number of linked scenarios per role; `FUZZ_SEED` replays a run
(CI uses seed 0, so its requests are the same every time; elsewhere the seed is random).
The table of calls per operation and the seed are printed at the end of the session.
"""

from __future__ import annotations

import contextlib
import os
import random
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import TEST_PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", "15"))
# CI replays the same requests (a red build is a bug, never bad luck); elsewhere each run differs.
_IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SEED = int(os.environ.get("FUZZ_SEED") or (0 if _IN_CI else random.SystemRandom().randrange(2**32)))
# One user of each role; the other user of the role ("bob") owns objects that must stay hidden.
VIEWERS = ("anonymous", "buyer_alice", "farmer_alice", "official_alice", "courier_alice", "staff_alice")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Operations by the first segment of their path, one test each.
AREAS = {
    "accounts": {"auth", "me", "users", "notifications", "wards"},
    "farms": {"farms", "my", "products", "certifications", "lots", "categories", "units", "trace"},
    "orders": {"cart", "checkout", "orders", "farm-orders", "problems", "ledger", "payouts"},
    "logistics": {"runs", "shipments"},
    "reports": {"stats"},
}
# How often a path parameter, or a field that names an object, takes a seeded value.
SEEDED_SHARE = 0.75
# Which seeded ids a path parameter takes: (path prefix, parameter) -> kinds of `pools_of`.
PATH_POOLS = {
    ("/api/v1/cart/items/", "id"): ("cart_line",),
    ("/api/v1/certifications/", "id"): ("certification", "certification_pending"),
    ("/api/v1/farm-orders/", "id"): ("farm_orders",),
    ("/api/v1/farms/", "id"): ("farm", "farm_pending", "open_farm"),
    ("/api/v1/lots/", "id"): ("lot",),
    ("/api/v1/notifications/", "id"): ("notifications",),
    ("/api/v1/orders/", "id"): ("orders",),
    ("/api/v1/problems/", "id"): ("problem_delivered_a", "problem_delivered_b"),
    ("/api/v1/products/", "id"): ("product", "draft"),
    ("/api/v1/products/", "image_id"): ("image",),
    ("/api/v1/runs/", "id"): ("runs",),
    ("/api/v1/shipments/", "id"): ("shipments",),
    ("/api/v1/stats/exports/", "id"): ("export_job",),
    ("/api/v1/trace/", "code"): ("lot_code",),
}
# Which seeded values a query or body field takes, by its name.
FIELD_POOLS = {
    "product": ("product", "draft"),
    "farm": ("farm", "farm_pending", "open_farm"),
    "ward": ("wards",),
    "lot": ("lot",),
    "line": ("lines",),
    "order": ("orders",),
    "farm_orders": ("farm_orders",),
    "ids": ("image",),
    "category": ("category",),
    # Sign-in and sign-up fields: the world's accounts and password, so calls get past "wrong".
    "phone": ("phones",),
    "password": ("passwords",),
    "old_password": ("passwords",),
    "new_password": ("new_passwords",),
}
# What an anonymous client sends as credentials besides nothing: all must be answered 401 or served.
BAD_CREDENTIALS = (None, "Token 0123456789abcdef0123456789abcdef01234567", "Token", "Bearer abc", "Token a b")


@dataclass
class Tally:
    """Calls per operation and viewer, answers, and the failures found, for the summary."""

    calls: Counter = field(default_factory=Counter)  # (operation, viewer) -> calls
    served: Counter = field(default_factory=Counter)  # operation -> 2xx answers
    statuses: Counter = field(default_factory=Counter)  # status code -> answers
    failures: dict = field(default_factory=dict)  # a key per distinct failure -> its report


TALLY = Tally()


class _Summary:
    """A plugin printing the table of calls at the end of the session (with or without -s)."""

    def pytest_terminal_summary(self, terminalreporter):
        if not TALLY.calls:
            return
        write = terminalreporter.write_line
        terminalreporter.section("API fuzzing: calls per operation and viewer")
        write(
            f"{EXAMPLES} requests per operation (FUZZ_EXAMPLES), each as every viewer; "
            f"{SCENARIOS} linked scenarios per role (FUZZ_SCENARIOS); seed {SEED} (FUZZ_SEED)"
        )
        columns = [v for v in (*VIEWERS, "linked") if any(key[1] == v for key in TALLY.calls)]
        labels = sorted({label for label, _ in TALLY.calls})
        width = max(len(label) for label in labels)
        names = [column.split("_")[0] for column in columns]
        write(f"{'operation':<{width}} " + " ".join(f"{n:>9}" for n in [*names, "2xx"]))
        for label in labels:
            row = [TALLY.calls[(label, column)] for column in columns]
            write(f"{label:<{width}} " + " ".join(f"{n:>9}" for n in [*row, TALLY.served[label]]))
        totals = [sum(n for (_, v), n in TALLY.calls.items() if v == column) for column in columns]
        write(f"{'total':<{width}} " + " ".join(f"{n:>9}" for n in [*totals, sum(TALLY.served.values())]))
        write("answers: " + ", ".join(f"{code}: {n}" for code, n in sorted(TALLY.statuses.items())))
        write(f"operations: {len(labels)}; calls: {sum(totals)}; distinct failures: {len(TALLY.failures)}")


@pytest.fixture(scope="session")
def fuzz_summary(request):
    if not request.config.pluginmanager.has_plugin("cho-noi-fuzz-summary"):
        request.config.pluginmanager.register(_Summary(), "cho-noi-fuzz-summary")


@pytest.fixture
def in_test_transaction():
    """Let in-process WSGI calls share the test's connection and transaction.

    Django's test client does the same: `close_old_connections` would otherwise close the
    connection of the test's open transaction when each request starts and ends.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def server_errors():
    """Tracebacks of the exceptions the views raised, newest last."""
    caught: list[str] = []

    def record(sender, request=None, **kwargs):
        caught.append(traceback.format_exc())

    got_request_exception.connect(record, weak=False)
    try:
        yield caught
    finally:
        got_request_exception.disconnect(record)


_SCHEMA: dict = {}


def load_schema():
    """The schema as the application serves it, loaded once per session."""
    if "schema" not in _SCHEMA:
        from marketplace.wsgi import application

        # Credentials are ours to send (each viewer's token, or bad ones), not generated.
        config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
        _SCHEMA["schema"] = schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)
    return _SCHEMA["schema"]


def area_of(operation) -> str:
    segment = operation.path.removeprefix("/api/v1/").split("/")[0]
    return next((area for area, segments in AREAS.items() if segment in segments), "none")


def operations_in(schema, area):
    found = [result.ok() for result in schema.get_all_operations()]
    return sorted((op for op in found if area_of(op) == area), key=lambda op: op.label)


def pools_of(world) -> dict[str, list]:
    """Seeded values by kind, every user's together (own and others')."""
    from farms.models import Category
    from logistics.models import Run, Shipment
    from marketplace.geo.models import Ward
    from orders.models import Order, OrderLine

    pools: dict[str, list] = defaultdict(list)
    for values in world.ids.values():
        for kind, value in values.items():
            pools[kind].extend(value if isinstance(value, list) else [value])
    pools["open_farm"] = [world.extra["open_farm"]]
    pools["wards"] = [world.extra[k] for k in ("ward_a", "ward_b", "ward_open", "dropoff")]
    pools["wards"].append(Ward.objects.order_by("-code").values_list("pk", flat=True).first())
    pools["orders"] = list(Order.objects.values_list("pk", flat=True))
    pools["lines"] = list(OrderLine.objects.values_list("pk", flat=True))
    pools["category"] = list(Category.objects.order_by("pk").values_list("pk", flat=True)[:6])
    pools["runs"] = list(Run.objects.values_list("pk", flat=True))
    pools["shipments"] = list(Shipment.objects.values_list("pk", flat=True))
    pools["phones"] = [user.phone for user in world.users.values()] + ["0912 345 678", "+84 386 114 399"]
    pools["passwords"] = [TEST_PASSWORD]
    pools["new_passwords"] = ["Mot mat khau moi that dai 2026"]
    return {kind: sorted(set(values), key=str) for kind, values in pools.items()}


@pytest.fixture
def fuzz_world(world):
    """The world, with buyer alice's accepted order packed: booked shipments on the couriers' runs."""
    from django.test import TestCase
    from django.utils import timezone

    from logistics.runs import runs_build
    from orders import services as order_services
    from orders.models import FarmOrder

    with TestCase.captureOnCommitCallbacks():  # notices and rollups are not what is fuzzed
        parts = FarmOrder.objects.filter(order_id=world.ids["buyer_alice"]["order_accepted"])
        for part in parts.select_related("farm__owner"):
            order_services.farm_order_ready(farm_order=part, by=part.farm.owner)
        runs_build(day=timezone.localdate())
    return world


def _seeded(pools, kinds) -> list:
    return [value for kind in kinds for value in pools.get(kind, [])]


def seed_case(case, data, pools) -> None:
    """Give path parameters and fields that name objects a seeded value, most of the time."""
    for name in list(case.path_parameters):
        kinds = next((k for (pre, p), k in PATH_POOLS.items() if p == name and case.path.startswith(pre)), ())
        values = _seeded(pools, kinds)
        if values and data.draw(st.floats(0, 1), label=f"seed {name}") < SEEDED_SHARE:
            case.path_parameters[name] = data.draw(st.sampled_from(values), label=name)
    containers = [case.query, case.body]
    if isinstance(case.body, dict) and isinstance(case.body.get("delivery"), dict):
        containers.append(case.body["delivery"])
    for container in containers:
        if not isinstance(container, dict):
            continue
        for name, kinds in FIELD_POOLS.items():
            values = _seeded(pools, kinds)
            if name not in container or not values:
                continue
            if data.draw(st.floats(0, 1), label=f"seed {name}") >= SEEDED_SHARE:
                continue
            if isinstance(container[name], list):
                container[name] = data.draw(st.lists(st.sampled_from(values), min_size=1, max_size=3))
            else:
                container[name] = data.draw(st.sampled_from(values), label=name)


def credentials(world, viewer, data=None) -> dict:
    if viewer != "anonymous":
        return {"Authorization": f"Token {world.tokens[viewer]}"}
    bad = data.draw(st.sampled_from(BAD_CREDENTIALS), label="credentials") if data else None
    return {"Authorization": bad} if bad else {}


def call_and_check(case, headers, column, server_errors, *, keep=False):
    """Call in a savepoint, count the call and record any failure.

    The savepoint is rolled back unless `keep` (linked scenarios keep what a call wrote, and
    roll back the whole scenario); a server error's is rolled back either way.
    """
    label = case.operation.label
    before = len(server_errors)
    cache.clear()  # rate limits count afresh for every call
    TALLY.calls[(label, column)] += 1
    with transaction.atomic():
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # raised through the WSGI handler
            kind = f"exception {type(exc).__name__}"
            record_failure(label, column, kind, case, None, traceback.format_exc())
            transaction.set_rollback(True)
            return None
        if not keep or response.status_code >= 500:
            transaction.set_rollback(True)
    TALLY.statuses[response.status_code] += 1
    if 200 <= response.status_code < 300:
        TALLY.served[label] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        trace = "\n".join(server_errors[before:])
        for failure in group.exceptions:
            kind = f"{type(failure).__name__}: {failure.title}"
            record_failure(label, column, kind, case, response, trace, str(failure))
    return response


def record_failure(label, column, kind, case, response, trace, detail=""):
    # One report per operation and kind of failure, and per exception the server raised.
    key = (label, kind, trace.strip().splitlines()[-1] if trace else "")
    if key in TALLY.failures:
        TALLY.failures[key]["columns"].add(column)
        return
    TALLY.failures[key] = {
        "columns": {column},
        "text": "\n".join(
            part
            for part in (
                f"{label} — {kind} (as {column})",
                detail,
                f"status {response.status_code}: {_body(response)}" if response is not None else "",
                "curl: " + case.as_curl_command(),
                trace.strip()[-2500:] if trace else "",
            )
            if part
        ),
    }


def _body(response) -> str:
    return response.content[:500].decode("utf-8", errors="replace")


def assert_no_failures(labels, columns):
    """Fail with every distinct failure of these operations, found as these viewers."""
    failures = [f for key, f in TALLY.failures.items() if key[0] in labels and f["columns"] & set(columns)]
    if failures:
        pytest.fail(
            f"{len(failures)} distinct failures:\n\n" + "\n\n".join(f["text"] for f in failures),
            pytrace=False,
        )


def _has_input(operation) -> bool:
    """Whether there is anything to make invalid (schemathesis cannot negate nothing)."""
    return bool(operation.body) or any(True for _ in operation.iter_parameters())


def _settings(**kwargs):
    return hypothesis.settings(
        deadline=None,
        database=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        **kwargs,
    )


def test_every_operation_is_fuzzed():
    """Each operation of the schema belongs to one of the areas fuzzed below."""
    schema = load_schema()
    left_out = [r.ok().label for r in schema.get_all_operations() if area_of(r.ok()) == "none"]
    assert not left_out, f"add their first path segment to AREAS: {left_out}"


@pytest.mark.parametrize("area", list(AREAS))
def test_operations_answer_per_schema(area, fuzz_world, in_test_transaction, server_errors, fuzz_summary):
    """Send each operation of the area valid and invalid requests, each as every viewer."""
    schema = load_schema()
    pools = pools_of(fuzz_world)
    ops = operations_in(schema, area)
    for index, operation in enumerate(ops):
        strategy = operation.as_strategy(GenerationMode.POSITIVE)
        if "application/json" in operation.get_request_payload_content_types():
            # Forms cannot carry nested input: valid JSON gets further into the code.
            json = operation.as_strategy(GenerationMode.POSITIVE, media_type="application/json")
            strategy = st.one_of(json, strategy)
        if _has_input(operation):
            strategy = st.one_of(strategy, operation.as_strategy(GenerationMode.NEGATIVE))

        @_settings(max_examples=EXAMPLES)
        @hypothesis.seed(SEED + index)
        @hypothesis.given(case=strategy, data=st.data())
        def fuzz(case, data):
            seed_case(case, data, pools)
            for viewer in VIEWERS:
                call_and_check(case, credentials(fuzz_world, viewer, data), viewer, server_errors)

        fuzz()
    assert_no_failures({op.label for op in ops}, VIEWERS)


class CallRaised(Exception):
    """The application raised through the WSGI handler (recorded with the failures)."""


def test_linked_operations_answer_per_schema(fuzz_world, in_test_transaction, server_errors, fuzz_summary):
    """Follow the links schemathesis infers (a list to its items, an order to its parts) as each role.

    Each scenario runs in a savepoint rolled back at its end, so every scenario starts from the world.
    """
    schema = load_schema()
    labels = set()
    for index, viewer in enumerate(VIEWERS[1:]):
        headers = credentials(fuzz_world, viewer)

        class Scenario(schema.as_state_machine()):
            def setup(self):
                self._savepoint = transaction.atomic()
                self._savepoint.__enter__()

            def teardown(self):
                transaction.set_rollback(True)
                self._savepoint.__exit__(None, None, None)

            def call(self, case, headers=headers, **kwargs):
                labels.add(case.operation.label)
                response = call_and_check(case, headers, "linked", server_errors, keep=True)
                if response is None:
                    raise CallRaised(case.operation.label)
                return response

            def validate_response(self, response, case, additional_checks=None, **kwargs):
                """Checked in `call` already; failures are collected, not raised."""

        hypothesis.seed(SEED + index)(Scenario)
        with contextlib.suppress(CallRaised):  # reported below with the other failures
            Scenario.run(settings=_settings(max_examples=SCENARIOS, stateful_step_count=6))
    assert labels, "no scenario ran"
    assert_no_failures(labels, {"linked"})
