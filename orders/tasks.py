"""Thin Celery entry points of orders: load by id, call a service, let Celery retry."""

from celery import shared_task

from .models import Order
from .services import carts_purge_abandoned
from .services.notices import order_notify


@shared_task(name="orders.purge_abandoned_carts")
def purge_abandoned_carts() -> int:
    return carts_purge_abandoned()


@shared_task(name="orders.notify", autoretry_for=(Exception,), retry_backoff=True, max_retries=8)
def notify_order(order_id: int, event: str, farm_order_ids=(), informed=()) -> int:
    """Tell the people concerned about an order event; safe to run twice (each notice has a key)."""
    order = Order.objects.select_related("buyer").filter(pk=order_id).first()
    if order is None:
        return 0
    return order_notify(order=order, event=event, farm_order_ids=farm_order_ids, informed=informed)
