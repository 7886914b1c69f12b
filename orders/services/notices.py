"""Telling people about their orders, once each: a task that runs twice sends nothing new.

Each notice has a key in `OrderNotice` (unique per order); the notice and its key are written
in one transaction, so a retry finds the key and skips. Texts are Vietnamese first: households
and most buyers read Vietnamese, whatever language staff work in.
"""

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.money import format_vnd
from marketplace.notifications.services import notify

from ..models import FarmOrderStatus, Order, OrderNotice, PaymentMethod, Refund

EVENTS = (
    "placed",
    "confirmed",
    "cancelled",
    "rejected",
    "accepted",
    "paid",
    "refunded",
    "expired",
    "reminder",
    "unanswered",
)


def _send_once(*, order: Order, key: str, user, subject: str, body: str, url: str) -> bool:
    try:
        with transaction.atomic():
            OrderNotice.objects.create(order=order, key=key)
            notify(user=user, subject=subject, body=body, url=url)
    except IntegrityError:
        return False
    return True


def _buyer_url(order: Order) -> str:
    return reverse("orders:detail", args=[order.number])


def _farm_url() -> str:
    return reverse("orders:farm_orders")


def order_notify(*, order: Order, event: str, farm_order_ids=(), informed=()) -> int:
    """Send the notices of an event about an order; return how many were sent now."""
    if event not in EVENTS:
        raise ValueError(f"unknown order event {event!r}")
    sent = 0
    parts = list(
        order.farm_orders.select_related("farm__owner").annotate(line_count=Count("lines")).order_by("pk")
    )
    named = [fo for fo in parts if fo.pk in set(farm_order_ids)]
    ids = "-".join(str(fo.pk) for fo in named)
    values = {"number": order.number, "total": format_vnd(order.total)}
    with translation.override("vi"):
        if event == "placed":
            payment = (
                _("You pay %(total)s in cash when it arrives.")
                if order.payment_method == PaymentMethod.COD
                else _("Total %(total)s.")
            ) % values
            sent += _send_once(
                order=order,
                key=f"placed:{order.buyer_id}",
                user=order.buyer,
                subject=_("Order %(number)s received") % values,
                body=_("Thank you! The households will confirm your order soon.") + " " + payment,
                url=_buyer_url(order),
            )
        elif event == "confirmed":
            for fo in parts:
                if fo.status != FarmOrderStatus.NEW:
                    continue
                count = fo.line_count
                sent += _send_once(
                    order=order,
                    key=f"new:{fo.pk}",
                    user=fo.farm.owner,
                    subject=_("New order %(number)s") % values,
                    body=ngettext(
                        "%(count)s line worth %(amount)s. Please accept or reject it soon.",
                        "%(count)s lines worth %(amount)s. Please accept or reject it soon.",
                        count,
                    )
                    % {"count": count, "amount": format_vnd(fo.subtotal)},
                    url=_farm_url(),
                )
        elif event == "cancelled":
            sent += _send_once(
                order=order,
                key=f"cancelled:{ids}:buyer",
                user=order.buyer,
                subject=_("Order %(number)s cancelled") % values,
                body=_("Cancelled: %(farms)s. Nothing is owed for the cancelled items.")
                % {"farms": ", ".join(fo.farm.name for fo in named)},
                url=_buyer_url(order),
            )
            for fo in named:
                if fo.pk not in set(informed):
                    continue
                sent += _send_once(
                    order=order,
                    key=f"cancelled:{fo.pk}:farm",
                    user=fo.farm.owner,
                    subject=_("Order %(number)s cancelled by the buyer") % values,
                    body=_("You no longer need to prepare it; the stock is back on your listings."),
                    url=_farm_url(),
                )
        elif event == "rejected":
            for fo in named:
                reason = fo.status_changes.filter(to_status=FarmOrderStatus.REJECTED).values_list(
                    "note", flat=True
                )
                sent += _send_once(
                    order=order,
                    key=f"rejected:{fo.pk}",
                    user=order.buyer,
                    subject=_("%(farm)s cannot fill part of order %(number)s")
                    % {**values, "farm": fo.farm.name},
                    body=_("Reason: %(reason)s. You will not be charged for these items.")
                    % {"reason": next(iter(reason), "").strip().rstrip(".")},
                    url=_buyer_url(order),
                )
        elif event == "accepted":
            for fo in named:
                sent += _send_once(
                    order=order,
                    key=f"accepted:{fo.pk}",
                    user=order.buyer,
                    subject=_("%(farm)s accepted order %(number)s") % {**values, "farm": fo.farm.name},
                    body=_("The household is preparing your goods."),
                    url=_buyer_url(order),
                )
        elif event == "reminder":
            from .fulfilment import farm_order_deadline

            for fo in named:
                if fo.status != FarmOrderStatus.NEW:
                    continue
                due = timezone.localtime(farm_order_deadline(fo)).strftime("%H:%M %d/%m")
                sent += _send_once(
                    order=order,
                    key=f"reminder:{fo.pk}",
                    user=fo.farm.owner,
                    subject=_("Order %(number)s is waiting for your answer") % values,
                    body=_("Accept or reject it before %(time)s, or it is cancelled.") % {"time": due},
                    url=_farm_url(),
                )
        elif event == "unanswered":
            for fo in named:
                sent += _send_once(
                    order=order,
                    key=f"unanswered:{fo.pk}:buyer",
                    user=order.buyer,
                    subject=_("%(farm)s did not confirm part of order %(number)s")
                    % {**values, "farm": fo.farm.name},
                    body=_("That part is cancelled; you are not charged for it (a payment is refunded)."),
                    url=_buyer_url(order),
                )
                sent += _send_once(
                    order=order,
                    key=f"unanswered:{fo.pk}:farm",
                    user=fo.farm.owner,
                    subject=_("Order %(number)s cancelled: no answer in time") % values,
                    body=_("It was not accepted in time, so it was cancelled and the stock is back on sale."),
                    url=_farm_url(),
                )
        elif event == "paid":
            sent += _send_once(
                order=order,
                key=f"paid:{order.buyer_id}",
                user=order.buyer,
                subject=_("Payment received for order %(number)s") % values,
                body=_("Thank you! The households have been told and will confirm soon."),
                url=_buyer_url(order),
            )
        elif event == "expired":
            sent += _send_once(
                order=order,
                key=f"expired:{order.buyer_id}",
                user=order.buyer,
                subject=_("Order %(number)s cancelled: not paid in time") % values,
                body=_(
                    "The payment did not arrive in time, so the goods went back on sale. You can order again."
                ),
                url=_buyer_url(order),
            )
        elif event == "refunded":
            refunded = sum(
                r.amount
                for r in Refund.objects.filter(payment__order=order, status__in=["pending", "succeeded"])
            )
            sent += _send_once(
                order=order,
                key=f"refunded:{order.buyer_id}:{refunded}",
                user=order.buyer,
                subject=_("Refund for order %(number)s") % values,
                body=_(
                    "%(amount)s in all is being refunded to you; your bank may take a few days to show it."
                )
                % {"amount": format_vnd(refunded)},
                url=_buyer_url(order),
            )
    return sent
