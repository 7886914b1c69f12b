"""Cash-on-delivery limits, against orders that are never collected (issue #5).

- Until one of their orders has been delivered, a buyer's open cash-on-delivery orders may add
  up to `COD_FIRST_ORDERS_CAP` đồng (this order included): a new account cannot tie up stock
  in many unpaid orders.
- A buyer who refused `COD_REFUSALS_LIMIT` deliveries loses cash on delivery until staff restore it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.money import format_vnd

from ..models import CodStanding, Order, OrderStatus, PaymentMethod

OPEN_STATUSES = (
    OrderStatus.PENDING_PAYMENT,
    OrderStatus.CONFIRMED,
    OrderStatus.PROCESSING,
    OrderStatus.SHIPPED,
)
DELIVERED_STATUSES = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


@dataclass(frozen=True)
class CodRefusal:
    """Why cash on delivery is not offered for this order; `code` is the API's 409 code."""

    code: str
    message: str


def cod_refusal(*, buyer, total: int) -> CodRefusal | None:
    """Return why `buyer` may not pay `total` đồng on delivery, or None when they may (two queries)."""
    standing = CodStanding.objects.filter(buyer=buyer).first()
    if standing is not None and standing.suspended:
        return CodRefusal(
            "cod_suspended",
            ngettext(
                "Cash on delivery is paused for your account because %(count)s delivery was refused. "
                "Please contact Chợ Nổi to have it restored.",
                "Cash on delivery is paused for your account because %(count)s deliveries were refused. "
                "Please contact Chợ Nổi to have it restored.",
                standing.refusals,
            )
            % {"count": standing.refusals},
        )
    cap = settings.COD_FIRST_ORDERS_CAP
    history = Order.objects.filter(buyer=buyer).aggregate(
        delivered=Count("pk", filter=Q(status__in=DELIVERED_STATUSES)),
        open_total=Sum("total", filter=Q(status__in=OPEN_STATUSES, payment_method=PaymentMethod.COD)),
    )
    if history["delivered"]:
        return None
    open_total = history["open_total"] or 0
    if open_total + total > cap:
        if open_total:
            message = _(
                "Until your first order has been delivered, cash-on-delivery orders are limited to "
                "%(cap)s in all. You already have %(open)s waiting, so this order (%(total)s) is too large."
            )
        else:
            message = _(
                "Until your first order has been delivered, cash-on-delivery orders are limited to "
                "%(cap)s. This order comes to %(total)s."
            )
        return CodRefusal(
            "cod_limit",
            message % {"cap": format_vnd(cap), "open": format_vnd(open_total), "total": format_vnd(total)},
        )
    return None


@transaction.atomic
def delivery_refused_record(*, order: Order) -> bool:
    """Record that the buyer refused the goods at the door; return False if already recorded.

    Cash on delivery is suspended at the limit of refusals.
    """
    if not Order.objects.filter(pk=order.pk, delivery_refused_at__isnull=True).update(
        delivery_refused_at=timezone.now()
    ):
        return False
    standing, _created = CodStanding.objects.select_for_update().get_or_create(buyer_id=order.buyer_id)
    standing.refusals += 1
    fields = ["refusals"]
    if standing.refusals >= settings.COD_REFUSALS_LIMIT and standing.suspended_at is None:
        standing.suspended_at = timezone.now()
        fields.append("suspended_at")
    standing.save(update_fields=fields)
    return True


@transaction.atomic
def cod_restore(*, buyer, by) -> CodStanding:
    """Give a buyer cash on delivery back (staff): the count of refusals starts again."""
    standing, _created = CodStanding.objects.select_for_update().get_or_create(buyer=buyer)
    standing.refusals = 0
    standing.suspended_at = None
    standing.restored_at = timezone.now()
    standing.restored_by = by
    standing.save()
    return standing


# --- What each courier collects (issue #7) ---------------------------------------------------

#: Shipments still on their way to the buyer: what they collect can still change.
OPEN_SHIPMENT_STATUSES = ("booked", "picked_up", "in_transit", "failed_attempt")


def cod_cash_rebalance(*, order: Order) -> None:
    """Set what each open shipment of a cash-on-delivery order collects: its part's amount, and
    the delivery fee (or whatever the order still owes beyond its parts) on one of them — the
    one that already carries it while it is on its way, else the first.

    Call after a shipment is booked, a part leaves the order, or cash is collected: the fee then
    travels with a shipment that will still reach the buyer, so returning or cancelling the part
    that carried it does not leave the order owing a fee nobody collects.
    """
    from logistics.carriers import carrier

    from ..models import FarmOrder, FarmOrderStatus, PaymentStatus
    from ..states import LIVE_FARM_ORDER_STATUSES

    if order.payment_method != PaymentMethod.COD or order.payment_status != PaymentStatus.UNPAID:
        return
    parts = list(FarmOrder.objects.filter(order=order).select_related("shipment").order_by("pk"))
    collected = sum(part.shipment.cash_collected for part in parts if part.shipment_id)
    still_to_deliver = [
        part
        for part in parts
        if part.status in LIVE_FARM_ORDER_STATUSES and part.status != FarmOrderStatus.DELIVERED
    ]
    beyond_parts = max(order.total - collected - sum(part.subtotal for part in still_to_deliver), 0)
    open_parts = [
        part
        for part in still_to_deliver
        if part.shipment_id and part.shipment.status in OPEN_SHIPMENT_STATUSES
    ]
    # The fee stays on the shipment that already carries it while that one is on its way.
    open_parts.sort(key=lambda part: part.shipment.cash_to_collect <= part.subtotal)
    for position, part in enumerate(open_parts):
        wanted = part.subtotal + (beyond_parts if position == 0 else 0)
        if part.shipment.cash_to_collect != wanted:
            carrier().set_cash_to_collect(part.shipment, wanted)
