"""Record tasks with the transaction that needs them, and relay them to the broker."""

import json
import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from marketplace.celery import app

from .models import OutboxMessage

logger = logging.getLogger(__name__)

#: Rows published per relay transaction.
BATCH = 200
#: Waits between publish attempts of a row that failed, capped at the last one.
BACKOFF_SECONDS = (1, 2, 5, 10, 30)
#: How long the relay leaves a new row to the process that recorded it.
FAST_PATH_SECONDS = 10
#: After a failed publish, how long this process leaves new rows to the relay without trying.
FAST_PATH_PAUSE_SECONDS = 5
_fast_path_paused_until = 0.0


def enqueue(task, *args, **kwargs) -> OutboxMessage:
    """Record `task(*args, **kwargs)` in the current transaction; publish it once that commits.

    Outside a transaction the row commits at once and is published straight away. If the broker
    cannot take it now, the row stays pending for the relay (`relay`): the caller never sees a
    broker failure, and the task is not lost.
    """
    key = (task.name, json.dumps([args, kwargs], sort_keys=True, default=str))
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # The same task for the same object, already recorded in this transaction (an order that
        # changes three times in one checkout): one run after commit sees the same state.
        for _savepoints, callback, _robust in connection.run_on_commit:
            if getattr(callback, "outbox_key", None) == key and not callback.fired:
                return callback.message
    # The relay leaves the row to this process for a moment (FAST_PATH_SECONDS): published after
    # commit, it needs no lock, only one UPDATE. A process that dies first leaves it to the relay.
    message = OutboxMessage.objects.create(
        task=task.name,
        args=list(args),
        kwargs=kwargs,
        available_at=timezone.now() + timedelta(seconds=FAST_PATH_SECONDS),
    )

    def publish_after_commit():  # a named function: Django logs a robust callback's __qualname__
        publish_after_commit.fired = True
        publish_now(message)

    publish_after_commit.outbox_key, publish_after_commit.message = key, message
    publish_after_commit.fired = False
    transaction.on_commit(publish_after_commit, robust=True)
    return message


def _publish(messages: list[OutboxMessage]) -> list[int]:
    """Publish `messages` in order on one broker connection; return the ids that went.

    One quick try to connect (no retry loop: a broker that is down answers at once, and a
    checkout must not wait on it); the relay tries again later. Raises `PublishFailed` with the
    ids that went before the failure.
    """
    sent = []
    with app.pool.acquire(block=True) as connection:
        try:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
            for message in messages:
                app.send_task(
                    message.task,
                    args=message.args,
                    kwargs=message.kwargs,
                    task_id=str(message.task_id),
                    connection=connection,
                    retry=False,
                )
                sent.append(message.pk)
        except Exception as exc:  # the brokers' errors have no common base class
            connection.close()  # a broken pooled connection reconnects on its next use
            raise PublishFailed(sent) from exc
    return sent


class PublishFailed(Exception):
    def __init__(self, sent: list[int]):
        super().__init__(sent)
        self.sent = sent


def publish_now(message: OutboxMessage) -> bool:
    """Publish a row just committed by this process; on failure leave it to the relay, soon.

    No lock: the relay does not take a row before its `available_at`, and a row published twice
    (this process stopped between publishing and the UPDATE) only runs twice, which every task
    allows.
    """
    global _fast_path_paused_until
    if app.conf.task_always_eager:
        return bool(_run_eagerly(ids=[message.pk], limit=1))
    now = timezone.now()
    unsent = OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True)
    if time.monotonic() < _fast_path_paused_until:
        # The broker failed a moment ago in this process: leave the row to the relay at once
        # rather than make this request wait on a broker that may hang (up to its timeout).
        unsent.update(available_at=now)
        return False
    try:
        _publish([message])
    except PublishFailed as failure:
        _fast_path_paused_until = time.monotonic() + FAST_PATH_PAUSE_SECONDS
        error = repr(failure.__cause__)[:300]
        unsent.update(attempts=F("attempts") + 1, available_at=now + _backoff(1), last_error=error)
        logger.warning("outbox: %s not published yet (%s): the relay will retry", message, failure.__cause__)
        return False
    unsent.update(sent_at=now)
    return True


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1])


def relay(*, ids=None, limit: int = BATCH) -> int:
    """Publish pending rows (those of `ids`, or any whose time has come); return how many went.

    Rows are locked with SKIP LOCKED, so several relays never publish the same row twice at
    once; a relay that dies between publishing and committing leaves its rows pending, and they
    are published again: delivery is at least once. When the broker fails, the rows not sent
    wait a little longer each time (BACKOFF_SECONDS).
    """
    if app.conf.task_always_eager:
        return _run_eagerly(ids=ids, limit=limit)
    now = timezone.now()
    due = OutboxMessage.objects.filter(sent_at__isnull=True)
    due = due.filter(pk__in=ids) if ids is not None else due.filter(available_at__lte=now)
    if not due.exists():  # an idle tick: no write transaction (SQLite takes its lock at BEGIN)
        return 0
    with transaction.atomic():
        pending = OutboxMessage.objects.select_for_update(skip_locked=True).filter(sent_at__isnull=True)
        pending = pending.filter(pk__in=ids) if ids is not None else pending.filter(available_at__lte=now)
        messages = list(pending.order_by("available_at", "pk")[:limit])
        if not messages:
            return 0
        try:
            sent = _publish(messages)
        except PublishFailed as failure:
            sent = failure.sent
            waiting = [m for m in messages if m.pk not in set(sent)]
            attempts = waiting[0].attempts + 1
            OutboxMessage.objects.filter(pk__in=[m.pk for m in waiting]).update(
                attempts=F("attempts") + 1,
                available_at=now + _backoff(attempts),
                last_error=repr(failure.__cause__)[:300],
            )
            logger.warning(
                "outbox: %d task(s) not published yet (%s): the relay will retry",
                len(waiting),
                failure.__cause__,
            )
        if sent:
            OutboxMessage.objects.filter(pk__in=sent).update(sent_at=now)
    return len(sent)


def _run_eagerly(*, ids, limit: int) -> int:
    """Tests and `CELERY_TASK_ALWAYS_EAGER`: run the rows here, each marked published as it runs.

    Each row is claimed on its own (a conditional UPDATE), so two callers never run one row, and
    a task that fails (an eager retry raises) leaves the rows after it to their own callers.
    """
    pending = OutboxMessage.objects.filter(sent_at__isnull=True)
    pending = pending.filter(pk__in=ids) if ids is not None else pending
    ran = 0
    for message in pending.order_by("pk")[:limit]:
        unclaimed = OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True)
        if unclaimed.update(sent_at=timezone.now()):
            ran += 1
            app.tasks[message.task].apply_async(message.args, message.kwargs, task_id=str(message.task_id))
    return ran


def message_finished(task_id: str) -> None:
    """Count a finished run of a relayed task (the worker's `task_success` signal)."""
    OutboxMessage.objects.filter(task_id=task_id).update(runs=F("runs") + 1, done_at=timezone.now())


def purge_sent(*, now=None) -> int:
    """Delete rows published more than OUTBOX_KEEP_DAYS ago."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


class Relay(threading.Thread):
    """Publish pending rows every OUTBOX_RELAY_SECONDS until stopped (runs inside the worker)."""

    def __init__(self, interval: float | None = None):
        super().__init__(name="outbox-relay", daemon=True)
        self.interval = interval if interval is not None else settings.OUTBOX_RELAY_SECONDS
        self.stopping = threading.Event()

    def run(self):
        from .worker import close_connections, database_lock

        while not self.stopping.is_set():
            published = 0
            # The connection is opened and closed under the lock a forking thread takes first:
            # the worker's pool never forks while this thread has a connection (worker.py).
            with database_lock:
                try:
                    # Eager mode has no broker: the rows run after their own commits.
                    published = 0 if app.conf.task_always_eager else relay()
                except DatabaseError as exc:
                    logger.warning("outbox relay: database unavailable (%s)", exc)
                except Exception:
                    logger.exception("outbox relay failed")
                finally:
                    close_connections()
            if published < BATCH:
                self.stopping.wait(self.interval)

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)
