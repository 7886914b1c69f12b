"""Faults for a real Celery worker, loaded into it with `celery worker --include tests.worker_faults`.

Never imported by the application. The test that starts the worker sets FAULT_DIR, a folder
where it arms pauses and reads what happened:

- `arm(folder, task, point)` arms one pause of the task named `task` at `point`:
  `start`         before the task does anything;
  `mid_step`      at its first write to the database: just after it when inside a transaction
                  (the row written, not committed), just before it otherwise (files may be written);
  `after_commit`  once the task returned (its effect committed), before the message is acknowledged.
- The first run that reaches an armed point takes the arm (an atomic rename, so one run only),
  records its pid and sleeps, for the test to kill it with SIGKILL. `paused(folder)` lists them.
- Each run's start and successful end are logged (`runs(folder, "start")`, `runs(folder, "end")`);
  a run that fails or asks to be retried is logged under its state (`retry`, `failure`).
"""

import os
import time
from pathlib import Path

from celery.signals import task_postrun, task_prerun
from django.db import connection

POINTS = ("start", "mid_step", "after_commit")


# --- The test's side -------------------------------------------------------------------------


def arm(folder: Path, task: str, point: str) -> None:
    assert point in POINTS, point
    (Path(folder) / f"arm.{task}.{point}").touch()


def paused(folder: Path) -> list[tuple[str, str, int]]:
    """(task, point, pid) of each run that took an arm, in no particular order."""
    found = []
    for path in Path(folder).glob("paused.*"):
        task, point, pid = path.name.removeprefix("paused.").rsplit(".", 2)
        found.append((task, point, int(pid)))
    return found


def runs(folder: Path, event: str, task: str | None = None) -> list[tuple[str, int, str]]:
    """(task, pid, task id) of each logged `start` or `end`."""
    log = Path(folder) / "log"
    lines = log.read_text().splitlines() if log.exists() else []
    found = [line.split() for line in lines]
    return [
        (name, int(pid), task_id)
        for kind, name, pid, task_id in found
        if kind == event and (task is None or name == task)
    ]


# --- The worker's side -----------------------------------------------------------------------

FAULT_DIR = Path(os.environ.get("FAULT_DIR", "/nonexistent"))
WRITES = ("INSERT", "UPDATE", "DELETE")


def _log(event: str, task: str, task_id: str) -> None:
    with open(FAULT_DIR / "log", "a", encoding="utf-8") as log:
        log.write(f"{event} {task} {os.getpid()} {task_id}\n")


def _pause_if_armed(task: str, point: str) -> None:
    try:
        os.rename(FAULT_DIR / f"arm.{task}.{point}", FAULT_DIR / f"paused.{task}.{point}.{os.getpid()}")
    except FileNotFoundError:
        return
    time.sleep(300)  # the test kills this process long before


class _FirstWrite:
    """An execute wrapper that pauses at the task's first write, if `mid_step` is armed."""

    def __init__(self, task: str):
        self.task, self.seen = task, False

    def __call__(self, execute, sql, params, many, context):
        first = not self.seen and sql.lstrip().upper().startswith(WRITES)
        if first:
            self.seen = True
            if not connection.in_atomic_block:
                _pause_if_armed(self.task, "mid_step")
        result = execute(sql, params, many, context)
        if first and connection.in_atomic_block:
            _pause_if_armed(self.task, "mid_step")
        return result


_wrappers = {}


@task_prerun.connect
def _started(sender=None, task_id=None, **kwargs):
    if sender is None:
        return
    _log("start", sender.name, task_id)
    _pause_if_armed(sender.name, "start")
    _wrappers[task_id] = connection.execute_wrapper(_FirstWrite(sender.name))
    _wrappers[task_id].__enter__()


@task_postrun.connect
def _finished(sender=None, task_id=None, state=None, **kwargs):
    if sender is None:
        return
    context = _wrappers.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)
    if state == "SUCCESS":
        _pause_if_armed(sender.name, "after_commit")
    _log("end" if state == "SUCCESS" else str(state).lower(), sender.name, task_id)
