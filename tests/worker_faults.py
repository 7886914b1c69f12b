"""Faults for a real Celery worker, loaded into it with `celery worker --include tests.worker_faults`.

Never imported by the application. The test that starts the worker sets:
    FAULT_DIR    a folder for the log of task starts and ends, and the pause marker;
    FAULT_POINT  where the first run of `orders.settle_farm_order` stops, waiting to be killed:
                 `mid_step` (the ledger row written, its transaction not committed) or
                 `after_commit` (the step committed, the message not yet acknowledged).
The pause happens once (an exclusive marker file holds the paused process's pid), so the run
that follows the message's return goes through.
"""

import os
import time
from pathlib import Path

from celery.signals import task_postrun, task_prerun
from django.db.models.signals import post_save

FAULT_DIR = Path(os.environ["FAULT_DIR"])
FAULT_POINT = os.environ.get("FAULT_POINT", "")
STEP = "orders.settle_farm_order"


def _log(event: str) -> None:
    with open(FAULT_DIR / "log", "a", encoding="utf-8") as log:
        log.write(f"{event} {os.getpid()}\n")


def _pause_once() -> None:
    try:
        fd = os.open(FAULT_DIR / "paused", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    time.sleep(300)  # the test kills this process long before


@task_prerun.connect
def _started(sender=None, **kwargs):
    if sender is not None and sender.name == STEP:
        _log("start")


@task_postrun.connect
def _finished(sender=None, **kwargs):
    if sender is not None and sender.name == STEP:
        if FAULT_POINT == "after_commit":
            _pause_once()
        _log("end")


def _ledger_row_written(sender, instance, created, **kwargs):
    if created and FAULT_POINT == "mid_step":
        _pause_once()


post_save.connect(_ledger_row_written, sender="orders.LedgerEntry", weak=False)
