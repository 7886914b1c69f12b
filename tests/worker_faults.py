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


def paused(folder: Path) -> list[tuple[str, str, int, str]]:
    """(task, point, pid, task id) of each run that took an arm, in no particular order."""
    found = []
    for path in Path(folder).glob("paused.*"):
        task, point, pid, task_id = path.name.removeprefix("paused.").rsplit(".", 3)
        found.append((task, point, int(pid), task_id))
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

FAULT_DIR = Path(os.environ.get("FAULT_DIR", "."))
WRITES = ("INSERT", "UPDATE", "DELETE")


def _log(event: str, task: str, task_id: str) -> None:
    with open(FAULT_DIR / "log", "a", encoding="utf-8") as log:
        log.write(f"{event} {task} {os.getpid()} {task_id}\n")


def _pause_if_armed(task: str, point: str, task_id: str) -> None:
    taken = FAULT_DIR / f"paused.{task}.{point}.{os.getpid()}.{task_id}"
    try:
        os.rename(FAULT_DIR / f"arm.{task}.{point}", taken)
    except FileNotFoundError:
        return
    time.sleep(300)  # the test kills this process long before


class _FirstWrite:
    """An execute wrapper that pauses at the task's first write, if `mid_step` is armed."""

    def __init__(self, task: str, task_id: str):
        self.task, self.task_id, self.seen = task, task_id, False

    def __call__(self, execute, sql, params, many, context):
        first = not self.seen and sql.lstrip().upper().startswith(WRITES)
        if first:
            self.seen = True
            if not connection.in_atomic_block:
                _pause_if_armed(self.task, "mid_step", self.task_id)
        result = execute(sql, params, many, context)
        if first and connection.in_atomic_block:
            _pause_if_armed(self.task, "mid_step", self.task_id)
        return result


_wrappers = {}


def _started(sender=None, task_id=None, **kwargs):
    if sender is None:
        return
    _log("start", sender.name, task_id)
    _pause_if_armed(sender.name, "start", task_id)
    _wrappers[task_id] = connection.execute_wrapper(_FirstWrite(sender.name, task_id))
    _wrappers[task_id].__enter__()


def _finished(sender=None, task_id=None, state=None, **kwargs):
    if sender is None:
        return
    context = _wrappers.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)
    if state == "SUCCESS":
        _pause_if_armed(sender.name, "after_commit", task_id)
    _log("end" if state == "SUCCESS" else str(state).lower(), sender.name, task_id)


if "FAULT_DIR" in os.environ:  # in the worker only: the test process imports the helpers above
    task_prerun.connect(_started, weak=False)
    task_postrun.connect(_finished, weak=False)
