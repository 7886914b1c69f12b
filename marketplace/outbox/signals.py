"""In the worker: record on its outbox row that a relayed task finished."""

import logging

from celery.signals import task_success

logger = logging.getLogger(__name__)


@task_success.connect(dispatch_uid="outbox-task-success")
def _count_finished_run(sender=None, **kwargs):
    request = getattr(sender, "request", None)
    task_id = getattr(request, "id", None)
    if not task_id or getattr(request, "is_eager", False):
        return
    from .services import message_finished

    try:
        message_finished(task_id)
    except Exception:  # bookkeeping only: the task's own effect is already committed
        logger.exception("outbox: could not record the end of task %s", task_id)
