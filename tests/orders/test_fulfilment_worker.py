"""A fulfilment step survives a worker killed in the middle of it, and takes effect exactly once.

A real Celery worker (its own process, prefork pool of one child) consumes a private Redis
queue with a short visibility timeout. `tests/worker_faults.py`, loaded into the worker, stops
the first run of the settlement step either mid-step (the ledger row written, not committed)
or after it committed but before the message was acknowledged; the test then kills the child
with SIGKILL (or the whole worker, which a second worker replaces). The message comes back —
re-queued on the lost child, or restored by Redis after the visibility timeout — runs again,
and the household's ledger holds one sale entry, to the đồng.
"""

import os
import signal
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from marketplace.accounts.models import Role
from marketplace.celery import app as celery_app
from orders.models import FarmOrder, LedgerEntry
from orders.services.ledger import settlement_figures
from tests import worker_faults as faults
from tests.conftest import REDIS_URL
from tests.orders.factories import deliver, listings, place
from tests.services import CeleryWorker, forget_broker_connections, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.slow]

VISIBILITY_TIMEOUT = 4
STEP = "orders.settle_farm_order"


@pytest.fixture
def redis_queue(monkeypatch):
    """Publish this test's tasks to a private queue on Redis instead of running them eagerly."""
    keys = ["task_always_eager", "broker_url", "broker_transport_options", "task_default_queue"]
    saved = {key: celery_app.conf[key] for key in keys}
    monkeypatch.setenv("CELERY_BROKER_URL", REDIS_URL)
    queue = f"test-faults-{uuid.uuid4().hex}"
    celery_app.conf.update(
        broker_url=REDIS_URL,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        task_default_queue=queue,
        task_always_eager=False,
    )
    forget_broker_connections()
    yield queue
    celery_app.conf.update(saved)
    forget_broker_connections()


def _worker(queue: str, folder: Path) -> CeleryWorker:
    return CeleryWorker(
        connection=connection,
        broker_url=REDIS_URL,
        directory=folder,
        queue=queue,
        include="tests.worker_faults",
        env={
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_RESTORE_SWEEP_SECONDS": "1",
            "FAULT_DIR": str(folder),
            "OUTBOX_RELAY_SECONDS": "0",  # the test process publishes; no relay needed here
        },
    )


def _delivered_part(make_user) -> FarmOrder:
    """Deliver a cash-on-delivery part: the delivery's commit enqueues its settlement on Redis."""
    courier = make_user(Role.COURIER)
    buyer = make_user(Role.BUYER)
    product = listings(make_user, price=45_500, stock="20")[0]
    order = place(buyer, [(product, 3)])
    part = order.farm_orders.get()
    deliver(part, courier)
    assert part.status == "delivered"
    return part


@pytest.mark.parametrize("point", ["mid_step", "after_commit"])
def test_a_child_killed_mid_step_reruns_it_once(
    reference_data, transactional_db, redis_queue, make_user, tmp_path, point
):
    part = _delivered_part(make_user)
    assert not LedgerEntry.objects.filter(farm_order=part).exists()  # queued, not run here
    faults.arm(tmp_path, STEP, point)
    worker = _worker(redis_queue, tmp_path)
    try:
        assert wait_for(lambda: faults.paused(tmp_path), seconds=60), worker.log()
        ((_task, _point, child, _id),) = faults.paused(tmp_path)
        assert child != worker.process.pid  # the pool's child, not the worker itself
        if point == "mid_step":
            # The row is written inside the step's transaction, not committed: nobody sees it yet.
            assert not LedgerEntry.objects.filter(farm_order=part).exists()
        else:
            assert LedgerEntry.objects.filter(farm_order=part).count() == 1
        os.kill(child, signal.SIGKILL)

        assert wait_for(lambda: len(faults.runs(tmp_path, "end", STEP)) == 1, seconds=60), worker.log()
        time.sleep(VISIBILITY_TIMEOUT + 1)  # room for a duplicate delivery to show up
    finally:
        worker.stop()

    starts = [pid for _task, pid, _id in faults.runs(tmp_path, "start", STEP)]
    assert len(starts) == 2 and starts[0] == child and starts[1] != child, starts
    assert "WorkerLostError" in worker.log() or "SIGKILL" in worker.log()
    entries = list(LedgerEntry.objects.filter(farm_order=part))
    assert len(entries) == 1
    figures = settlement_figures(part)
    assert figures["gross"] == 3 * 45_500
    assert {k: getattr(entries[0], k) for k in figures} == figures


def test_a_worker_killed_whole_is_replaced_and_the_message_comes_back(
    reference_data, transactional_db, redis_queue, make_user, tmp_path
):
    part = _delivered_part(make_user)
    faults.arm(tmp_path, STEP, "after_commit")
    first = _worker(redis_queue, tmp_path)
    try:
        assert wait_for(lambda: faults.paused(tmp_path), seconds=60), first.log()
    finally:
        first.kill_all()  # the worker and its child die: nobody re-queues the message
    killed_at = time.monotonic()
    second = _worker(redis_queue, tmp_path)
    try:
        # Redis gives the unacknowledged message to the new worker once the visibility timeout is over.
        assert wait_for(lambda: len(faults.runs(tmp_path, "end", STEP)) == 1, seconds=60), second.log()
        assert time.monotonic() - killed_at >= VISIBILITY_TIMEOUT - 1
    finally:
        second.stop()
    assert len(faults.runs(tmp_path, "start", STEP)) == 2
    assert LedgerEntry.objects.filter(farm_order=part, kind="sale").count() == 1
