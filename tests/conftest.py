"""Shared fixtures and the rules for tests that need real servers.

Tests marked `postgres` or `redis` are skipped with a reason when the server is not
reachable on a developer's machine; in CI (CI=true) they are never skipped.
"""
import itertools
import json
import os
import socket
import uuid
from urllib.parse import urlparse

import pytest
from django.db import connection
from rest_framework.test import APIClient

from marketplace.accounts.models import Role
from marketplace.accounts.services import token_for, user_create
from marketplace.celery import app as celery_app
from tests.services import forget_broker_connections, free_port

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
TEST_PASSWORD = "an-honest-test-password"
# Fails the run when a log record or warning holds a secret the run produced (tests/logscan.py).
pytest_plugins = ["tests.logscan"]


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def pytest_configure(config):
    # Unit tests run tasks in-process; tests marked `worker` start a real worker instead.
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        message = (
            "needs PostgreSQL: run DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make test"
        )
        if IN_CI:
            pytest.fail("CI must run PostgreSQL tests with DATABASE_URL set; " + message)
        pytest.skip(message)
    if item.get_closest_marker("redis") and not _reachable(REDIS_URL):
        message = f"needs Redis at {REDIS_URL}: start redis-server or set REDIS_URL"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Hashing strength is not under test; a fast hasher keeps the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    # Rate-limit counters live in the cache, which CI shares (Redis) between tests and runs: a
    # key prefix of its own gives each test fresh counters, at the real limits.
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {
        alias: {**config, "KEY_PREFIX": prefix} for alias, config in settings.CACHES.items()
    }


@pytest.fixture
def broker_down(monkeypatch):
    """Publish for real, not eagerly, to a broker that refuses connections (a closed port).

    `back()` ends the outage the way the tests see it: tasks run eagerly again, and the relay
    (`marketplace.outbox.services.relay`) runs what was left pending.
    """
    from marketplace.outbox import services as outbox

    url = f"redis://127.0.0.1:{free_port()}/0"
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url")}
    monkeypatch.setattr(outbox, "_fast_path_paused_until", 0.0)  # no pause left by another test
    monkeypatch.setenv("CELERY_BROKER_URL", url)  # Celery reads it before its own settings
    celery_app.conf.update(broker_url=url, task_always_eager=False)
    forget_broker_connections()

    class Outage:
        def back(self):
            from marketplace.outbox.services import relay

            celery_app.conf.update(saved)
            forget_broker_connections()
            return relay()

    yield Outage()
    celery_app.conf.update(saved)
    forget_broker_connections()


@pytest.fixture
def sms_outbox(settings, tmp_path):
    """Route SMS to a file and return a reader of the messages sent so far."""
    path = tmp_path / "sms.jsonl"
    settings.SMS_BACKEND = "marketplace.notifications.sms.FileSMSBackend"
    settings.SMS_FILE_PATH = path

    class Outbox:
        def messages(self) -> list[dict]:
            if not path.exists():
                return []
            return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    return Outbox()


_phones = itertools.count(1)


@pytest.fixture
def make_user(db):
    """Create a user of a role with a fresh phone number (0912 0xx xxx) and TEST_PASSWORD."""

    def make(role=Role.BUYER, **fields):
        fields.setdefault("phone", f"0912{next(_phones):06d}")
        fields.setdefault("full_name", f"Test {role}")
        fields.setdefault("password", TEST_PASSWORD)
        if role == Role.OFFICIAL and "wards" not in fields:
            fields.setdefault("city_wide", True)
        return user_create(role=role, privacy_consent=True, **fields)

    return make


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as():
    """Return an API client authenticated with the user's token."""

    def client_for(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")
        return client

    return client_for
