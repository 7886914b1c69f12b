from celery import shared_task

from .services import carts_purge_abandoned


@shared_task(name="orders.purge_abandoned_carts")
def purge_abandoned_carts() -> int:
    return carts_purge_abandoned()
