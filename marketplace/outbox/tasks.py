from celery import shared_task


@shared_task(name="outbox.purge_sent")
def purge_sent() -> int:
    """Delete rows published long ago (daily; OUTBOX_KEEP_DAYS)."""
    from .services import purge_sent as purge

    return purge()
