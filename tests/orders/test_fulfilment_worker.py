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
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from logistics.services import shipment_step
from marketplace.accounts.models import Role
from marketplace.celery import app as celery_app
from orders import services
from orders.models import FarmOrder, LedgerEntry
from orders.services.ledger import settlement_figures
from tests.conftest import REDIS_URL
from tests.marketplace.test_worker import forget_broker_connections, wait_for
from tests.orders.factories import listings, place

pytestmark = [pytest.mark.worker, pytest.mark.redis, pytest.mark.slow]

VISIBILITY_TIMEOUT = 4
ROOT = Path(__file__).resolve().parents[2]


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


def _database_url() -> str:
    """The test database, as a URL the worker process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """`celery worker` in its own process group, with the faults module loaded."""

    def __init__(self, queue: str, fault_dir: Path, point: str, var_dir: Path):
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_RESTORE_SWEEP_SECONDS": "1",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "FAULT_DIR": str(fault_dir),
            "FAULT_POINT": point,
            "VAR_DIR": str(var_dir),
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "PYTHONPATH": str(ROOT),
        }
        self.output = fault_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "marketplace",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                f"--queues={queue}",
                "--include=tests.worker_faults",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.output.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill_all(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill_all()

    def log(self) -> str:
        return self.output.read_text(encoding="utf-8", errors="replace")


def _delivered_part(make_user) -> FarmOrder:
    """Deliver a cash-on-delivery part: the delivery's commit enqueues its settlement on Redis."""
    courier = make_user(Role.COURIER)
    buyer = make_user(Role.BUYER)
    product = listings(make_user, price=45_500, stock="20")[0]
    order = place(buyer, [(product, 3)])
    part = order.farm_orders.get()
    services.farm_order_accept(farm_order=part, by=part.farm.owner)
    services.farm_order_ready(farm_order=part, by=part.farm.owner)
    part.refresh_from_db()
    shipment_step(shipment=part.shipment, type="picked_up", by=courier)
    shipment_step(
        shipment=part.shipment, type="delivered", by=courier, cash_collected=part.shipment.cash_to_collect
    )
    part.refresh_from_db()
    assert part.status == "delivered"
    return part


def _runs(fault_dir: Path, event: str) -> list[str]:
    log = fault_dir / "log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[1] for line in lines if line.split()[0] == event]


@pytest.mark.parametrize("point", ["mid_step", "after_commit"])
def test_a_child_killed_mid_step_reruns_it_once(
    reference_data, transactional_db, redis_queue, make_user, tmp_path, point
):
    part = _delivered_part(make_user)
    assert not LedgerEntry.objects.filter(farm_order=part).exists()  # queued, not run here
    worker = Worker(redis_queue, tmp_path, point, tmp_path / "var")
    try:
        paused = tmp_path / "paused"
        assert wait_for(lambda: paused.exists() and paused.read_text(), seconds=60), worker.log()
        child = int(paused.read_text())
        assert child != worker.process.pid  # the pool's child, not the worker itself
        if point == "mid_step":
            # The row is written inside the step's transaction, not committed: nobody sees it yet.
            assert not LedgerEntry.objects.filter(farm_order=part).exists()
        else:
            assert LedgerEntry.objects.filter(farm_order=part).count() == 1
        os.kill(child, signal.SIGKILL)

        assert wait_for(lambda: len(_runs(tmp_path, "end")) == 1, seconds=60), worker.log()
        time.sleep(VISIBILITY_TIMEOUT + 1)  # room for a duplicate delivery to show up
    finally:
        worker.stop()

    starts = _runs(tmp_path, "start")
    assert len(starts) == 2 and starts[0] == str(child) and starts[1] != str(child), starts
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
    first = Worker(redis_queue, tmp_path, "after_commit", tmp_path / "var")
    try:
        assert wait_for(lambda: (tmp_path / "paused").exists(), seconds=60), first.log()
    finally:
        first.kill_all()  # the worker and its child die: nobody re-queues the message
    killed_at = time.monotonic()
    second = Worker(redis_queue, tmp_path, "after_commit", tmp_path / "var")
    try:
        # Redis gives the unacknowledged message to the new worker once the visibility timeout is over.
        assert wait_for(lambda: len(_runs(tmp_path, "end")) == 1, seconds=60), second.log()
        assert time.monotonic() - killed_at >= VISIBILITY_TIMEOUT - 1
    finally:
        second.stop()
    assert len(_runs(tmp_path, "start")) == 2
    assert LedgerEntry.objects.filter(farm_order=part, kind="sale").count() == 1
