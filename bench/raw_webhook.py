"""The floor for `POST /webhooks/stripe/`: the same acknowledgement, in plain Python.

A plain WSGI callable (`gunicorn bench.raw_webhook`), one persistent psycopg 3 connection and
one Redis connection per worker. Per request it does what the app's acknowledgement must:
check `Stripe-Signature` (HMAC-SHA256 of `{t}.{body}` with the webhook secret, 5 minutes'
tolerance), read the event's id and type, store it once (`INSERT … ON CONFLICT DO NOTHING`
into the app's `orders_webhookevent`, one autocommit statement) and push a Celery-sized task
message onto the broker's `celery` list, then answer the app's JSON. Reads DATABASE_URL,
STRIPE_WEBHOOK_SECRET and CELERY_BROKER_URL. `GET /healthz` answers 200 (for the harness).
"""

import base64
import hashlib
import hmac
import json
import os
import time
import uuid

import psycopg
import redis

from bench.harness import DEFAULT_DATABASE_URL

PATH = "/webhooks/stripe/"
TOLERANCE = 300
DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "").encode()
BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
INSERT = (
    "INSERT INTO orders_webhookevent (provider, event_id, type, payload, received_at, error) "
    "VALUES ('stripe', %s, %s, %s::jsonb, now(), '') "
    "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
)

_connection: psycopg.Connection | None = None
_broker: redis.Redis | None = None


def _store(event_id: str, kind: str, body: str) -> int | None:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(DATABASE_URL, autocommit=True)
    row = _connection.execute(INSERT, [event_id, kind, body]).fetchone()
    return row[0] if row else None


def _enqueue(pk: int) -> None:
    """Push a message shaped like Celery's (protocol 2, JSON) for `process_webhook_event`."""
    global _broker
    if _broker is None:
        _broker = redis.Redis.from_url(BROKER_URL)
    task_id = str(uuid.uuid4())
    body = json.dumps([[pk], {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
    message = {
        "body": base64.b64encode(body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {
            "lang": "py",
            "task": "orders.process_webhook_event",
            "id": task_id,
            "retries": 0,
            "root_id": task_id,
            "parent_id": None,
            "argsrepr": f"({pk},)",
            "kwargsrepr": "{}",
        },
        "properties": {
            "correlation_id": task_id,
            "reply_to": str(uuid.uuid4()),
            "delivery_mode": 2,
            "delivery_info": {"exchange": "", "routing_key": "celery"},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    _broker.lpush("celery", json.dumps(message))


def _verified(header: str, body: bytes) -> bool:
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [value for key, value in parts if key == "t"]
    signatures = [value for key, value in parts if key == "v1"]
    if not SECRET or not stamps or not signatures or not stamps[0].isdigit():
        return False
    if abs(time.time() - int(stamps[0])) > TOLERANCE:
        return False
    expected = hmac.new(SECRET, stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, signature) for signature in signatures)


def _answer(start_response, status: str, data: dict):
    body = json.dumps(data).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ, start_response):
    path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
    if path == "/healthz" and method == "GET":
        return _answer(start_response, "200 OK", {"status": "ok"})
    if path != PATH or method != "POST":
        return _answer(start_response, "404 Not Found", {"detail": "Not found.", "code": "not_found"})
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if not _verified(environ.get("HTTP_STRIPE_SIGNATURE", ""), body):
        return _answer(
            start_response, "400 Bad Request", {"detail": "Invalid webhook.", "code": "invalid_signature"}
        )
    try:
        event = json.loads(body)
        event_id, kind = str(event["id"]), str(event["type"])
    except (ValueError, KeyError, TypeError):
        return _answer(
            start_response, "400 Bad Request", {"detail": "Invalid webhook.", "code": "invalid_callback"}
        )
    pk = _store(event_id, kind, body.decode())
    if pk is not None:
        _enqueue(pk)
    return _answer(start_response, "200 OK", {"received": True, "duplicate": pk is None, "id": event_id})
