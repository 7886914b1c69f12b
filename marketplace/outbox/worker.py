"""The relay runs in every Celery worker's main process, beside the consumer; no connection forks.

A prefork worker forks its pool's children from the main process: at start, and again whenever
a child dies or is recycled, while the relay thread keeps working. A database connection must
never cross such a fork. SQLite says so outright (https://sqlite.org/howtocorrupt.html §2.6):
its locks and its WAL index are process state, and a child that inherits an open connection
shares that state with its own new connections without holding the locks it believes it holds,
and closes files the parent still uses. Pool children then fail with "disk I/O error" and
"database disk image is malformed", and the file can be corrupted. On PostgreSQL a child that
closes an inherited connection ends the parent's session on the shared socket.

So, in every worker (`install_fork_hygiene`, run at `worker_init`):

- the relay opens a connection only inside `database_lock` and closes it before letting go, so
  between ticks it holds none;
- before any fork, the forking thread takes `database_lock` (waiting for a tick to end) and
  closes its own connections; the lock is released on both sides after the fork;
- in the child, anything inherited all the same is set aside unused, never closed (closing it is
  what SQLite forbids); Celery's own fixup then closes nothing.

Other threads of the main process never touch the database (Celery's consumer, timer and pool
threads do not), and pool children open their own connections per task.
"""

import contextlib
import os
import threading

from celery import bootsteps

#: Held by the relay while it has a database connection, and by a thread about to fork.
database_lock = threading.Lock()
#: Connections a child inherited and must neither use nor close (kept referenced so that the
#: garbage collector does not close them either).
_inherited = []
_installed = False


def install_fork_hygiene() -> None:
    """Make every later fork of this process leave database connections behind (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)


def close_connections() -> None:
    """Close this thread's database connections (the relay's, after each tick; a forking thread's)."""
    from django.db import DatabaseError, connections

    for connection in connections.all(initialized_only=True):
        # A broken connection fails to close but is forgotten all the same (Django drops it).
        with contextlib.suppress(DatabaseError):
            connection.close()


def _before_fork() -> None:
    # Waits for the relay's current tick (bounded by the database's and the broker's timeouts).
    database_lock.acquire()
    close_connections()


def _after_fork_in_parent() -> None:
    database_lock.release()


def _after_fork_in_child() -> None:
    from django.db import connections

    database_lock.release()  # the child's copy, taken by the thread that forked
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _inherited.append(connection.connection)
            connection.connection = None


class OutboxRelayStep(bootsteps.StartStopStep):
    """Start the outbox relay thread with the worker and stop it with the worker."""

    label = "outbox relay"
    # Started once the pool has forked its first children (without it the order of the steps
    # follows string hashing, and half the starts forked beside a working relay thread).
    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker, **kwargs):
        self.relay = None
        super().__init__(worker, **kwargs)

    def include_if(self, worker):
        from django.conf import settings

        # A worker that runs tasks eagerly has no broker to relay to.
        return settings.OUTBOX_RELAY_SECONDS > 0 and not worker.app.conf.task_always_eager

    def start(self, worker):
        from .services import Relay

        install_fork_hygiene()  # already done at worker_init; a worker started otherwise too
        self.relay = Relay()
        self.relay.start()

    def stop(self, worker):
        if self.relay is not None:
            self.relay.stop()
            self.relay = None

    # However the worker ends (warm, cold, or a test's controller), the thread ends with it.
    shutdown = terminate = stop
