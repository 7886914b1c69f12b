"""What happens when households' parts leave an order (cancelled, rejected, returned).

Called by `farm_orders_move` in the same transaction, whatever path moved the parts (the
buyer, the household, staff, a deadline, a failed delivery), so every path settles the same:
- the stock of parts that never left the household goes back, once per line;
- the order's amounts shrink to its live parts (the delivery fee stays while any part is live),
  so a cash-on-delivery courier collects only what is still owed; a waiting cash or transfer
  payment follows, a waiting card page (showing the old total) is closed;
- a share already paid is refunded, once per part (and the delivery fee once the order is empty).
"""

from django.utils import timezone

from ..models import FarmOrder, Order, Payment, PaymentRecordStatus
from ..payments import provider_for
from ..states import LIVE_FARM_ORDER_STATUSES, STOCK_BACK_STATUSES
from .payments import payment_close, payment_refund
from .stock import stock_return


def parts_settle(*, order: Order, left: list[FarmOrder], parts: list[FarmOrder], reason: str = "") -> None:
    """Settle `left` (parts that just left `order`); `parts` are all its parts, statuses current."""
    for farm_order in left:
        if farm_order.shipment_id and farm_order.status in STOCK_BACK_STATUSES:
            from logistics.carriers import carrier

            carrier().cancel(farm_order.shipment)  # booked, not picked up: the courier need not come
    back = [fo.pk for fo in left if fo.status in STOCK_BACK_STATUSES]
    if back:
        stock_return(farm_order_ids=back)
    live = [fo for fo in parts if fo.status in LIVE_FARM_ORDER_STATUSES]
    for farm_order in left:
        payment_refund(
            order=order, amount=farm_order.subtotal, key=f"farm-order-{farm_order.pk}", reason=reason
        )
    if not live and order.delivery_fee:
        payment_refund(
            order=order, amount=order.delivery_fee, key=f"order-{order.pk}-delivery", reason=reason
        )
    order.subtotal = sum(fo.subtotal for fo in live)
    order.delivery_fee = order.delivery_fee if live else 0
    order.total = order.subtotal + order.delivery_fee
    Order.objects.filter(pk=order.pk).update(
        subtotal=order.subtotal, delivery_fee=order.delivery_fee, total=order.total, updated_at=timezone.now()
    )
    for waiting in Payment.objects.filter(order=order, status=PaymentRecordStatus.PENDING):
        if live and not provider_for(waiting.method).online:
            # Cash on delivery, a bank transfer: the amount to hand over or transfer follows.
            waiting.amount = order.total
            waiting.save(update_fields=["amount", "updated_at"])
        else:
            # A card page already shows the old total: close it; paying again opens one for the new total.
            payment_close(waiting)
    if live:
        from .cod import cod_cash_rebalance

        cod_cash_rebalance(order=order)
