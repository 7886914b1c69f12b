"""Thin Celery entry points of the sales rollups."""

from celery import shared_task


@shared_task(
    name="reports.refresh_order",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
)
def refresh_order(order_id: int) -> None:
    """Recompute the rollup cells of an order's households on its day (safe to run twice)."""
    from .operations import fulfilment_refresh_order
    from .rollups import rollups_refresh_order

    rollups_refresh_order(order_id=order_id)
    fulfilment_refresh_order(order_id)


@shared_task(name="reports.reconcile_recent_days", acks_late=True, reject_on_worker_lost=True)
def reconcile_recent_days(days: int = 3) -> dict[str, int]:
    """Rebuild the last days from orders (nightly): repairs a refresh that was lost or raced."""
    from datetime import timedelta

    from django.utils import timezone

    from .operations import fulfilment_rebuild, registrations_rebuild
    from .rollups import rollups_rebuild

    today = timezone.localdate()
    first = today - timedelta(days=days)
    written = rollups_rebuild(first=first, last=today)
    # Registration facts are rebuilt here only: farms sends no signal on a verification decision.
    written["fulfilment"] = fulfilment_rebuild(first=first, last=today)
    written["registrations"] = registrations_rebuild(first=first, last=today)
    return written


def refresh_after_commit(sender, *, order_id: int, **kwargs) -> None:
    """Receiver of `orders.hooks.order_changed`: refresh the order's cells once the change commits."""
    from marketplace.outbox.services import enqueue

    enqueue(refresh_order, order_id)


@shared_task(name="reports.build_export", acks_late=True, reject_on_worker_lost=True)
def build_export(job_id: int) -> str:
    """Prepare an official's long export; a failure is recorded on the job for them to see."""
    from django.utils import timezone

    from .exports import export_job_run
    from .models import ExportJob, ExportStatus

    job = ExportJob.objects.filter(pk=job_id).first()
    if job is None or job.status == ExportStatus.DONE:
        return "" if job is None else job.status
    try:
        export_job_run(job=job)
    except Exception as exc:
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportStatus.FAILED, error=repr(exc)[:300], finished_at=timezone.now()
        )
        raise
    return ExportStatus.DONE


@shared_task(name="reports.send_monthly_reports", acks_late=True, reject_on_worker_lost=True)
def send_monthly_reports() -> int:
    """Email last month's XLSX report to subscribed officials (on the 1st; once per official and month)."""
    from .monthly import monthly_reports_send

    return monthly_reports_send()
