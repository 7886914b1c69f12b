"""Proof under faults (issue #10): a worker killed mid-task, a broker outage, a dropped database.

Real parts only: a Celery worker in its own process on a redis-server that the test starts on
a port of its own (never the shared one), PostgreSQL, the real `stripe` library against its
local stand-in. `tests/worker_faults.py`, loaded into the worker, pauses a run where the test
armed it, for the test to kill with SIGKILL.
"""

import io
import json
import os
import signal
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from farms.models import ImageStatus
from farms.services import product_image_add
from marketplace.accounts.models import Role
from marketplace.accounts.services import token_for
from marketplace.celery import app as celery_app
from marketplace.outbox.models import OutboxMessage
from marketplace.reports.rollups import rollups_rebuild
from orders.models import LedgerEntry, Order, StatusChange, WebhookEvent
from orders.services.ledger import settlement_figures
from tests import worker_faults as faults
from tests.orders.conftest import WEBHOOK_SECRET
from tests.orders.factories import deliver, delivery, fill_cart, listings, place
from tests.reports.test_rollups import snapshot
from tests.services import CeleryWorker, Gunicorn, OwnRedis, database_url, forget_broker_connections, wait_for
from tests.stripe_standin import sign

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.worker, pytest.mark.slow]

WEBHOOK = "/webhooks/stripe/"
#: One task of each kind the issue names: fulfilment, webhook processing, rollups, photos.
KINDS = {
    "fulfilment": "orders.settle_farm_order",
    "webhook": "orders.process_webhook_event",
    "rollups": "reports.refresh_order",
    "photos": "farms.process_product_image",
}


@pytest.fixture
def own_broker(tmp_path, monkeypatch, settings):
    """A redis-server of the test's own as broker and cache, for this process and its worker."""
    server = OwnRedis.started(tmp_path)
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url")}
    monkeypatch.setenv("CELERY_BROKER_URL", server.url(0))  # Celery reads it before its settings
    celery_app.conf.update(broker_url=server.url(0), task_always_eager=False)
    forget_broker_connections()
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url(1),
            "OPTIONS": dict(settings.REDIS_CACHE_OPTIONS),
        }
    }
    yield server
    celery_app.conf.update(saved)
    forget_broker_connections()
    server.kill()


def start_worker(broker: OwnRedis, folder, settings, standin=None) -> CeleryWorker:
    env = {
        "FAULT_DIR": str(folder),
        "OUTBOX_RELAY_SECONDS": "0.2",
        "CACHE_URL": f"rediscache://127.0.0.1:{broker.port}/1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "SMS_BACKEND": "marketplace.notifications.sms.FileSMSBackend",
        "SMS_FILE_PATH": str(folder / "sms.jsonl"),
        "CELERY_VISIBILITY_TIMEOUT": "30",
        "CELERY_RESTORE_SWEEP_SECONDS": "1",
    }
    if standin is not None:
        env.update(
            STRIPE_SECRET_KEY="sk_test_standin",
            STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
            STRIPE_API_BASE=standin.url,
            STRIPE_MAX_NETWORK_RETRIES="0",
        )
    worker = CeleryWorker(
        connection=connection,
        broker_url=broker.url(0),
        directory=folder,
        include="tests.worker_faults",
        env=env,
    )
    assert worker.ready(), worker.log()
    return worker


def all_done(since: int = 0) -> bool:
    """Every outbox row (after `since`) published and finished at least once."""
    rows = OutboxMessage.objects.filter(pk__gt=since)
    return rows.exists() and not rows.filter(done_at__isnull=True).exists()


def photo_upload(name="xoai.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((1600, 1200)).convert("RGB").save(buffer, "JPEG", quality=90)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pay_by_webhook(order: Order, standin, client: Client):
    session = standin.complete(order.payments.get().reference)
    payload = json.dumps(standin.event("checkout.session.completed", session)).encode()
    return client.post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET)
    )


def media_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


# --- A worker's child killed in the middle of tasks of each kind --------------------------------


def test_children_killed_mid_task_of_each_kind_leave_every_effect_once(
    reference_data, transactional_db, own_broker, stripe_standin, make_user, settings, tmp_path
):
    for task in KINDS.values():
        for point in faults.POINTS:
            faults.arm(tmp_path, task, point)
    worker = start_worker(own_broker, tmp_path, settings, stripe_standin)
    killed = []
    try:
        courier = make_user(Role.COURIER)
        cod, card = listings(make_user, farms=2, price=45_500, stock="50")
        # Fulfilment and rollups: a cash-on-delivery part delivered (its settlement is queued).
        cod_order = place(make_user(Role.BUYER), [(cod, 3)])
        cod_part = cod_order.farm_orders.get()
        deliver(cod_part, courier)
        # Webhook processing: a card order paid, Stripe's event acknowledged and queued.
        card_order = place(make_user(Role.BUYER), [(card, 2)], payment_method="stripe")
        assert pay_by_webhook(card_order, stripe_standin, Client()).status_code == 200
        # Photos: a photo added to a listing.
        image = product_image_add(product=cod, upload=photo_upload())

        def settled():
            for task, point, pid, task_id in faults.paused(tmp_path):
                if pid not in {k[2] for k in killed}:
                    os.kill(pid, signal.SIGKILL)
                    killed.append((task, point, pid, task_id))
            return len(killed) == 3 * len(KINDS) and all_done()

        assert wait_for(settled, seconds=180, every=0.2), (killed, worker.log())
        time.sleep(1.5)  # room for a duplicate run to show up
    finally:
        worker.stop()

    # Each kind was killed at each point, in a child of the worker, never the worker itself.
    assert sorted((t, p) for t, p, _pid, _id in killed) == sorted(
        (task, point) for task in KINDS.values() for point in faults.POINTS
    )
    assert worker.process.pid not in {pid for _t, _p, pid, _id in killed}
    assert worker.log().count("signal 9 (SIGKILL)") >= len(killed)
    # Every task finished; a run killed after its commit ran twice, every other task once.
    after_commit = {task_id for _t, point, _pid, task_id in killed if point == "after_commit"}
    runs = dict(OutboxMessage.objects.values_list("task_id", "runs"))
    assert {str(k) for k in runs} >= after_commit
    assert {str(k): v for k, v in runs.items() if v != 1} == dict.fromkeys(after_commit, 2)
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()

    # Fulfilment: one sale entry for the delivered part, to the đồng.
    (entry,) = LedgerEntry.objects.filter(farm_order=cod_part, kind="sale")
    assert {k: getattr(entry, k) for k in settlement_figures(cod_part)} == settlement_figures(cod_part)
    # Webhook: the event applied once; the order confirmed once.
    card_order.refresh_from_db()
    assert card_order.status == "confirmed" and card_order.payment_status == "paid"
    assert WebhookEvent.objects.get().processed_at is not None
    assert StatusChange.objects.filter(order=card_order, farm_order=None, to_status="confirmed").count() == 1
    # Rollups: the refreshed rows are those a full rebuild writes (nothing counted twice).
    refreshed = snapshot()
    assert sum(refreshed[1].values()) == 2  # one line fact per order line
    today = timezone.localdate()
    rollups_rebuild(first=today - timedelta(days=1), last=today + timedelta(days=1))
    assert snapshot() == refreshed
    # Photos: ready, with exactly one file per size (no copy left by a killed run).
    image.refresh_from_db()
    assert image.status == ImageStatus.READY
    assert media_files(settings.MEDIA_ROOT) == sorted(
        str(getattr(image, size).name) for size in ("original", "thumb", "display")
    )


# --- The broker down while orders come in ---------------------------------------------------------


def test_orders_taken_while_redis_is_down_get_every_task_once_when_it_is_back(
    reference_data, transactional_db, own_broker, stripe_standin, make_user, api_as, settings, tmp_path
):
    worker = start_worker(own_broker, tmp_path, settings, stripe_standin)
    try:
        products = listings(make_user, farms=3, price=30_000, stock="100")
        buyers = [make_user(Role.BUYER) for _ in range(6)]
        for buyer in buyers:
            fill_cart(buyer, [(product, 1) for product in products])
        assert wait_for(all_done, seconds=60), worker.log()  # the setup's own tasks, done
        before = OutboxMessage.objects.order_by("pk").last().pk
        own_broker.kill()  # Redis is gone: broker and cache

        answers, took = [], []
        for index, buyer in enumerate(buyers):
            method = "cod" if index % 2 == 0 else "stripe"
            started = time.monotonic()
            answers.append(
                api_as(buyer).post(
                    "/api/v1/checkout/", {"delivery": delivery(), "payment_method": method}, format="json"
                )
            )
            took.append(time.monotonic() - started)
        assert [a.status_code for a in answers] == [201] * 6, [a.content[:300] for a in answers]
        assert max(took) < 2.0, took  # no waiting on the broker
        orders = list(Order.objects.order_by("pk"))
        card_orders = [o for o in orders if o.payment_method == "stripe"]
        for order in card_orders:  # Stripe's events arrive during the outage too
            assert pay_by_webhook(order, stripe_standin, Client()).status_code == 200
        recorded = OutboxMessage.objects.filter(pk__gt=before)
        assert recorded.count() >= 3 * len(orders)
        assert not recorded.filter(sent_at__isnull=False).exists()  # nothing could be published
        assert not WebhookEvent.objects.filter(processed_at__isnull=False).exists()

        own_broker.start()  # the same port, empty, as a restarted Redis without persistence
        assert wait_for(lambda: all_done(before), seconds=120, every=0.3), worker.log()
        time.sleep(1.5)  # room for a duplicate run to show up
    finally:
        worker.stop()

    # Every task the orders needed was published and ran exactly once.
    recorded = OutboxMessage.objects.filter(pk__gt=before)
    assert set(recorded.values_list("runs", flat=True)) == {1}
    assert not recorded.filter(sent_at__isnull=True).exists()
    tasks = set(recorded.values_list("task", flat=True))
    assert {"orders.notify", "reports.refresh_order", "orders.process_webhook_event"} <= tasks
    # Their effects: card orders confirmed by their events, each household told once per order.
    for order in Order.objects.filter(pk__in=[o.pk for o in card_orders]):
        assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert WebhookEvent.objects.filter(processed_at__isnull=True).count() == 0
    sms = [json.loads(line) for line in (tmp_path / "sms.jsonl").read_text().splitlines()]
    sent = [(m["to"], m["body"]) for m in sms]
    assert len(sent) == len(set(sent))  # no message twice
    for order in orders:
        for part in order.farm_orders.select_related("farm__owner"):
            told = [m for m in sms if order.number in m["body"] and m["to"] == part.farm.owner.phone]
            assert len(told) == 1, (order.number, told)
    # The rollups count each order once.
    refreshed = snapshot()
    assert sum(refreshed[1].values()) == 3 * len(orders)
    today = timezone.localdate()
    rollups_rebuild(first=today - timedelta(days=1), last=today + timedelta(days=1))
    assert snapshot() == refreshed


# --- The database connection dropped during a checkout -------------------------------------------


def blocked_backends(admin) -> list[tuple[int, str]]:
    """(pid, query) of the test database's sessions waiting for a lock."""
    return admin.execute(
        "SELECT pid, query FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    ).fetchall()


def test_a_checkout_whose_connection_is_terminated_answers_503_and_loses_nothing(
    reference_data, transactional_db, make_user, tmp_path
):
    (product,) = listings(make_user, price=20_000, stock="10")
    buyer = make_user(Role.BUYER)
    fill_cart(buyer, [(product, 2)])
    headers = {
        "Authorization": f"Token {token_for(user=buyer)}",
        "Content-Type": "application/json",
        "Accept-Language": "vi",
    }
    body = json.dumps({"delivery": delivery(), "payment_method": "cod"})
    url = database_url(connection)
    with Gunicorn(connection=connection, directory=tmp_path) as server:
        assert server.request("GET", "/api/v1/cart/", headers=headers)[0] == 200  # a kept connection
        with psycopg.connect(url, autocommit=True) as admin, psycopg.connect(url) as locker:
            # Hold the buyer's row: the order's foreign key to it makes the checkout wait. Django's
            # foreign keys are checked at COMMIT, so it waits there, every row written, none committed.
            locker.execute("SELECT 1 FROM accounts_user WHERE id = %s FOR UPDATE", [buyer.pk])
            answers = []
            request = threading.Thread(
                target=lambda: answers.append(server.request("POST", "/api/v1/checkout/", body, headers))
            )
            request.start()
            assert wait_for(lambda: blocked_backends(admin), seconds=30), server.log()
            ((pid, query),) = blocked_backends(admin)
            assert query == "COMMIT", query
            assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
            locker.rollback()
            request.join(timeout=30)
        ((status, answer_headers, content),) = answers
        assert status == 503, content
        assert answer_headers["Retry-After"] == "5"
        assert json.loads(content) == {
            "detail": "Dịch vụ tạm thời gián đoạn. Vui lòng thử lại sau giây lát; "
            "nếu bạn vừa đặt hàng, hãy xem lại đơn hàng của mình trước.",
            "code": "service_unavailable",
        }
        # Nothing half-written: no order, the stock back as it was, the cart as the buyer left it.
        assert not Order.objects.exists()
        product.refresh_from_db()
        assert product.stock == 10
        assert [(line.product_id, line.quantity) for line in buyer.cart.lines.all()] == [(product.pk, 2)]
        # The same worker's next request opens a new connection and goes through.
        status, _headers, content = server.request("POST", "/api/v1/checkout/", body, headers)
        assert status == 201, content
    order = Order.objects.get()
    assert order.number == json.loads(content)["number"]
    product.refresh_from_db()
    assert product.stock == 8
    assert "terminating connection due to administrator command" in server.log()
