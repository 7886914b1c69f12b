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
