"""A real Celery worker picks up a notification's SMS after the transaction commits.

Runs on the configured broker (the filesystem by default, Redis in CI) and, when a Redis
server is reachable, on Redis too. Each test gets its own queue so it never eats
(or leaves behind) messages of a developer's running worker.
"""

import threading
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import transaction

from marketplace.celery import app as celery_app
from marketplace.notifications.models import Channel, Delivery
from marketplace.notifications.services import notify
from tests.conftest import REDIS_URL
from tests.services import forget_broker_connections, wait_for

pytestmark = pytest.mark.worker


@pytest.fixture(params=["configured", pytest.param("redis", marks=pytest.mark.redis)])
def isolated_broker(request, tmp_path, monkeypatch):
    """Give the test a broker of its own: private folders on the filesystem, a private queue on Redis."""
    keys = ["task_always_eager", "broker_url", "broker_transport_options", "task_default_queue"]
    saved = {key: celery_app.conf[key] for key in keys}
    if request.param == "redis":
        # Celery reads CELERY_BROKER_URL from the environment before its own settings.
        monkeypatch.setenv("CELERY_BROKER_URL", REDIS_URL)
        celery_app.conf.broker_url = REDIS_URL
        celery_app.conf.broker_transport_options = {"visibility_timeout": 3600}
    queue = f"test-worker-{uuid.uuid4().hex}"
    if celery_app.conf.broker_url.startswith("filesystem://"):
        folders = {name: tmp_path / name for name in ("queue", "control")}
        for folder in folders.values():
            folder.mkdir()
        celery_app.conf.broker_transport_options = {
            **celery_app.conf.broker_transport_options,
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "control_folder": str(folders["control"]),
        }
    celery_app.conf.task_default_queue = queue
    celery_app.conf.task_always_eager = False
    forget_broker_connections()
    yield queue
    celery_app.conf.update(saved)
    forget_broker_connections()


def test_worker_delivers_the_sms_after_commit(transactional_db, isolated_broker, make_user, sms_outbox):
    farmer = make_user(phone="0912345678", email="")
    with transaction.atomic():
        notification = notify(
            user=farmer,
            subject="Có đơn mới",
            body="Đơn #7: 5 kg măng cụt",
            channels=[Channel.IN_APP, Channel.SMS],
        )
    # The commit queued the delivery on the broker; nothing was sent in this process.
    assert sms_outbox.messages() == []

    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=30,
        queues=[isolated_broker],
    ):
        assert "outbox-relay" in {thread.name for thread in threading.enumerate()}  # the worker's relay
        assert wait_for(lambda: len(sms_outbox.messages()) >= 1), "the worker sent no SMS"
        # Give a duplicate a moment to show up if there were one.
        time.sleep(0.5)
    # The relay stops with its worker: none left running in this process to race later tests.
    assert "outbox-relay" not in {thread.name for thread in threading.enumerate()}

    messages = sms_outbox.messages()
    assert len(messages) == 1
    assert messages[0]["to"] == "+84912345678"
    assert "Đơn #7: 5 kg măng cụt" in messages[0]["body"]
    delivery = Delivery.objects.get(notification=notification, channel=Channel.SMS)
    assert delivery.sent_at is not None
