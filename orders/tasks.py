"""Thin Celery entry points of orders: load by id, call a service, let Celery retry."""

from celery import shared_task

from .models import Order, Refund, WebhookEvent
from .payments import ProviderUnreachable
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


def notify_after_commit(order_id: int, event: str, farm_order_ids=(), informed=()) -> None:
    """Record `notify_order` in the outbox: it is published once the transaction commits."""
    from marketplace.outbox.services import enqueue

    enqueue(notify_order, order_id, event, list(farm_order_ids), list(informed))


@shared_task(
    name="orders.process_webhook_event", autoretry_for=(Exception,), retry_backoff=True, max_retries=10
)
def process_webhook_event(event_id: int):
    """Apply a stored payment event; safe to run twice (outcomes apply by current state)."""
    from .services.payments import webhook_process

    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is not None:
        webhook_process(event=event)


@shared_task(
    name="orders.send_refund", autoretry_for=(ProviderUnreachable,), retry_backoff=True, max_retries=12
)
def send_refund(refund_id: int) -> str:
    """Move a decided refund's money through its provider, once (its key is the idempotency key)."""
    from .services.payments import refund_send

    refund = Refund.objects.filter(pk=refund_id).first()
    return "" if refund is None else refund_send(refund=refund).status


@shared_task(name="orders.expire_unpaid_orders")
def expire_unpaid_orders() -> int:
    """Cancel orders not paid within the hold (every minute); their stock goes back on sale."""
    from .services.payments import payments_expire_unpaid

    return payments_expire_unpaid()


@shared_task(name="orders.reconcile_payments")
def reconcile_payments() -> int:
    """Ask the providers what became of unpaid orders and paid pages (every 5 minutes); repair."""
    from .services.payments import payments_reconcile

    return payments_reconcile()


@shared_task(name="orders.sweep_farm_order_deadlines")
def sweep_farm_order_deadlines() -> list[int]:
    """Remind households of parts near their deadline and cancel unanswered ones (every 5 minutes)."""
    from .services.fulfilment import farm_orders_sweep_deadlines

    return list(farm_orders_sweep_deadlines())


# Fulfilment steps acknowledge late and go back to the queue if the worker dies mid-step; each
# step's effect carries a unique key in the database, so running it again changes nothing.
FULFILMENT_STEP = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(
    name="orders.settle_farm_order",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=8,
    **FULFILMENT_STEP,
)
def settle_farm_order(farm_order_id: int) -> int | None:
    """Book a delivered part in its household's ledger (the key `sale:<id>` makes it once)."""
    from .models import FarmOrder
    from .services.ledger import farm_order_settle

    farm_order = FarmOrder.objects.filter(pk=farm_order_id).first()
    entry = None if farm_order is None else farm_order_settle(farm_order=farm_order)
    return None if entry is None else entry.pk


@shared_task(name="orders.settle_missed_farm_orders", **FULFILMENT_STEP)
def settle_missed_farm_orders() -> int:
    """Book delivered parts that have no sale entry yet (every 15 minutes; safe to run twice)."""
    from .services.ledger import farm_orders_settle_missed

    return farm_orders_settle_missed()


def settle_after_commit(farm_order_id: int) -> None:
    """Record the settlement of a delivered part in the outbox, with the delivery."""
    from marketplace.outbox.services import enqueue

    enqueue(settle_farm_order, farm_order_id)


@shared_task(
    name="orders.notify_shipment_step", autoretry_for=(Exception,), retry_backoff=True, max_retries=8
)
def notify_shipment_step(farm_order_id: int, step: str, key: str, attempts_left: int = 0) -> int:
    """Tell the buyer of a shipment's step; safe to run twice (the notice has a key)."""
    from .models import FarmOrder
    from .services.notices import shipment_notify

    farm_order = FarmOrder.objects.select_related("order__buyer", "farm").filter(pk=farm_order_id).first()
    if farm_order is None:
        return 0
    return shipment_notify(farm_order=farm_order, step=step, key=key, attempts_left=attempts_left)


@shared_task(name="orders.complete_delivered_orders")
def complete_delivered_orders() -> int:
    """Complete delivered orders past their problem-report window with no open problem (every 15 minutes)."""
    from .services.problems import orders_complete_delivered

    return orders_complete_delivered()
