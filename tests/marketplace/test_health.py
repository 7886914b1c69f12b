"""/healthz answers 200 when the database and the Celery broker answer, else 503 naming the part."""

import socket

import pytest

from marketplace.celery import app as celery_app
from tests.conftest import REDIS_URL


@pytest.fixture
def broker_at(monkeypatch):
    """Point the Celery app at another broker for one test, then put the old one back."""
    saved = {
        "broker_url": celery_app.conf["broker_url"],
        "broker_transport_options": celery_app.conf["broker_transport_options"],
    }

    def point(url, transport_options=None):
        # Celery reads CELERY_BROKER_URL from the environment before its own settings (CI sets it).
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        celery_app.conf.broker_url = url
        celery_app.conf.broker_transport_options = transport_options or {}

    yield point
    celery_app.conf.update(saved)


def closed_port() -> int:
    """Return a local port nothing listens on (bound for a moment by the OS, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_is_ok_on_the_configured_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_never_cached(client, db):
    response = client.get("/healthz")
    assert "no-store" in response["Cache-Control"]


@pytest.mark.redis
def test_healthz_is_ok_on_redis(client, db, broker_at):
    broker_at(REDIS_URL, {"visibility_timeout": 3600})
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_the_broker_is_down(client, db, broker_at):
    broker_at(f"redis://127.0.0.1:{closed_port()}/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["broker"] != "ok"
    assert body["database"] == "ok"
    assert body["status"] != "ok"


def test_healthz_is_503_when_the_database_is_down(client, db, monkeypatch):
    from django.db import OperationalError

    from marketplace import health

    class DeadConnection:
        def cursor(self):
            raise OperationalError("could not connect to server")

    monkeypatch.setattr(health, "connection", DeadConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable", "broker": "ok"}
