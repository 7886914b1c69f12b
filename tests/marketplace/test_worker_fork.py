"""No database connection crosses a fork of the worker `make run` starts (issue #21).

The worker is started with `rundev`'s own command line (so this cannot drift from `make run`):
a prefork pool whose main process runs the outbox relay thread. Its pool forks while the relay
works: at start, and here three more times (`pool_grow`, the path a pool takes to replace a dead
or recycled child). A probe loaded into the worker (a `sitecustomize` on its PYTHONPATH; the
command line is untouched) records, at each fork, the handles the main process holds on the
database: the SQLite file, its WAL and shared-memory files, or sockets to PostgreSQL. SQLite
forbids carrying an open connection across fork(); on the default database the children then
failed with "disk I/O error" and "database disk image is malformed".

A few hundred real tasks run through the outbox meanwhile; afterwards the worker logged no
database error, every row ran exactly once, and the SQLite file passes its integrity check.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from marketplace.celery import app as celery_app
from marketplace.management.commands.rundev import commands
from marketplace.outbox.models import OutboxMessage
from tests.services import database_url, forget_broker_connections, free_port, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
#: Tasks per phase; the pool grows between the phases (and once more during the second).
PHASE = 150
DATABASE_ERRORS = ("OperationalError", "DatabaseError", "malformed", "disk I/O", "database is locked")

# Loaded by the worker at start-up. Registered first, so of all before-fork hooks it runs last:
# it sees what the process really holds at the fork.
PROBE = r'''
import json, os, threading

_LOG = os.environ["FORK_PROBE_LOG"]
_FILE = os.environ.get("FORK_PROBE_DB_FILE")
_PORT = int(os.environ.get("FORK_PROBE_DB_PORT") or 0)


def _sockets_to_port(port):
    inodes = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _before_fork():
    peers = _sockets_to_port(_PORT) if _PORT else set()
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if (_FILE and target.startswith(_FILE)) or (
            target.startswith("socket:[") and target[8:-1] in peers
        ):
            held.append(target)
    with open(_LOG, "a") as log:
        log.write(json.dumps({"pid": os.getpid(), "thread": threading.current_thread().name,
                              "threads": [t.name for t in threading.enumerate()], "held": held}) + "\n")


os.register_at_fork(before=_before_fork)
'''


@pytest.fixture
def worker_broker(tmp_path, monkeypatch):
    """This process publishes control commands on the worker's own filesystem broker."""
    monkeypatch.setenv("CELERY_BROKER_URL", "filesystem://")  # Celery reads it before its settings
    var = tmp_path / "var"
    folders = {name: var / "broker" / name for name in ("queue", "control")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    keys = ["broker_url", "broker_transport_options"]
    saved = {key: celery_app.conf[key] for key in keys}
    celery_app.conf.broker_url = "filesystem://"
    celery_app.conf.broker_transport_options = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "control_folder": str(folders["control"]),
        "store_processed": False,
    }
    forget_broker_connections()
    yield var
    celery_app.conf.update(saved)
    forget_broker_connections()


def start_make_run_worker(tmp_path, var) -> tuple[subprocess.Popen, Path, Path]:
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(PROBE)
    forks = tmp_path / "forks.jsonl"
    db = connection.settings_dict
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"CELERY_BROKER_URL", "CACHE_URL", "CELERY_TASK_ALWAYS_EAGER", "OUTBOX_RELAY_SECONDS"}
    }
    env.update({
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "PYTHONUNBUFFERED": "1",  # as rundev starts it
        "VAR_DIR": str(var),
        "DATABASE_URL": database_url(connection),
        "PYTHONPATH": os.pathsep.join([str(probe), str(ROOT)]),
        "FORK_PROBE_LOG": str(forks),
    })
    if connection.vendor == "sqlite":
        env["FORK_PROBE_DB_FILE"] = str(db["NAME"])
    else:
        env["FORK_PROBE_DB_PORT"] = str(db["PORT"] or 5432)
    command = commands(f"127.0.0.1:{free_port()}", python=sys.executable)["worker"]
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    return process, log, forks


def enqueue_pending(count: int) -> None:
    """Rows as a committed change leaves them for the relay: the worker's main process publishes them."""
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task="outbox.purge_sent", available_at=now) for _ in range(count)
    )


def children(process) -> set[int]:
    found = set()
    for task in Path(f"/proc/{process.pid}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_the_make_run_worker_forks_without_a_database_connection(transactional_db, tmp_path, worker_broker):
    process, log, forks = start_make_run_worker(tmp_path, worker_broker)
    try:
        assert wait_for(lambda: " ready." in log.read_text() or process.poll() is not None, 60)
        assert process.poll() is None, log.read_text()

        def done() -> bool:
            return not OutboxMessage.objects.filter(done_at__isnull=True).exists()

        enqueue_pending(PHASE)
        assert wait_for(done, 300), f"phase 1 unfinished:\n{log.read_text()[-3000:]}"
        # The pool forks again while the relay thread works; then once more during phase 2.
        for grown in (3, 4):
            celery_app.control.pool_grow(1, reply=False)
            assert wait_for(lambda grown=grown: len(children(process)) == grown, 60), log.read_text()[-3000:]
            enqueue_pending(PHASE // 2)
        celery_app.control.pool_grow(1, reply=False)
        assert wait_for(lambda: len(children(process)) == 5, 60), log.read_text()[-3000:]
        assert wait_for(done, 300), f"phase 2 unfinished:\n{log.read_text()[-3000:]}"
    finally:
        stop(process)

    records = [json.loads(line) for line in forks.read_text().splitlines()]
    in_main = [record for record in records if record["pid"] == process.pid]
    assert len(in_main) >= 5  # the first two children and the three the pool grew
    # The first children are forked before the relay thread starts; the later ones beside it.
    assert ["outbox-relay" in record["threads"] for record in in_main[:5]] == [False, False, True, True, True]
    assert [record for record in in_main if record["held"]] == []

    output = log.read_text()
    for error in DATABASE_ERRORS:
        assert error not in output, output
    assert OutboxMessage.objects.count() == 2 * PHASE
    assert set(OutboxMessage.objects.values_list("runs", flat=True)) == {1}  # each ran and was counted once
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            assert cursor.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
