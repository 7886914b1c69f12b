"""Telling people about their orders, once each: a task that runs twice sends nothing new.

Each notice has a key in `OrderNotice` (unique per order); the notice and its key are written
in one transaction, so a retry finds the key and skips. Each notice is written in its reader's
language (`User.language`: Vietnamese unless they chose English), whatever language staff work in.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from marketplace.accounts.language import language_of, speaking_to
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
    "problem_reported",
    "problem_resolved",
    "problem_declined",
)


def _send_once(*, order: Order, key: str, user, subject: str, body: str, url: str) -> bool:
    if language_of(user) != (translation.get_language() or settings.LANGUAGE_CODE):
        return False  # written in another language: its own pass sends it (order_notify)
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
    # Each notice in its reader's language: one pass per language, each sending to its readers.
    for language in dict(settings.LANGUAGES):
        with translation.override(language):
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
                        body=_(
                            "It was not accepted in time, so it was cancelled and the stock is back on sale."
                        ),
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
                        "The payment did not arrive in time, so the goods went back on sale. "
                        "You can order again."
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
                        "%(amount)s in all is being refunded to you; "
                        "your bank may take a few days to show it."
                    )
                    % {"amount": format_vnd(refunded)},
                    url=_buyer_url(order),
                )
            elif event.startswith("problem_"):
                sent += _problem_notices(order=order, event=event, parts=named, values=values)
    return sent


# --- Each step of a shipment, told to the buyer (issue #7) -------------------------------------


def _shipment_step_text(step: str, farm: str, attempts_left: int) -> tuple[str, str]:
    values = {"farm": farm}
    if step == "picked_up":
        return _("Your goods from %(farm)s are picked up") % values, _("The courier is bringing them to you.")
    if step == "in_transit":
        return _("Your goods from %(farm)s are on the way") % values, _("Please keep your phone at hand.")
    if step == "delivered":
        return (
            _("Your goods from %(farm)s are delivered") % values,
            _("Something wrong? Report it on the order page within %(hours)s hours.")
            % {"hours": settings.PROBLEM_REPORT_HOURS},
        )
    if step == "failed_attempt":
        body = (
            _("The courier will try once more; please answer the phone.")
            if attempts_left
            else _("The goods go back to the household; you are not charged for them.")
        )
        return _("We could not deliver your goods from %(farm)s") % values, body
    return (
        _("Your goods from %(farm)s went back to the household") % values,
        _("You are not charged for them; a payment is refunded."),
    )


def shipment_notify(*, farm_order, step: str, key: str, attempts_left: int = 0) -> int:
    """Tell the buyer of a step of the shipment carrying a household's part; once per key."""
    order = farm_order.order
    with speaking_to(order.buyer):
        subject, body = _shipment_step_text(step, farm_order.farm.name, attempts_left)
        return int(
            _send_once(
                order=order,
                key=key,
                user=order.buyer,
                subject=f"{order.number}: {subject}",
                body=body,
                url=_buyer_url(order),
            )
        )


# --- Problems reported after delivery (issue #7) -------------------------------------------------


def _problem_notices(*, order: Order, event: str, parts, values: dict) -> int:
    """Tell the household of a report on its part, the buyer of the answer; once per problem and step."""
    from ..models import Problem, ProblemStatus

    status = {
        "problem_reported": ProblemStatus.OPEN,
        "problem_resolved": ProblemStatus.RESOLVED,
        "problem_declined": ProblemStatus.DECLINED,
    }[event]
    farms = {fo.pk: fo.farm for fo in parts}
    sent = 0
    for problem in Problem.objects.filter(farm_order_id__in=farms, status=status).select_related("line"):
        farm, line = farms[problem.farm_order_id], problem.line
        about = {**values, "farm": farm.name, "product": line.product_name}
        if event == "problem_reported":
            sent += _send_once(
                order=order,
                key=f"problem:{problem.pk}:reported",
                user=farm.owner,
                subject=_("A buyer reported a problem with order %(number)s") % about,
                body=_("%(product)s: %(kind)s. Please answer: refund it or say why not.")
                % {**about, "kind": problem.get_kind_display()},
                url=reverse("orders:farm_problems"),
            )
        elif event == "problem_resolved":
            sent += _send_once(
                order=order,
                key=f"problem:{problem.pk}:resolved",
                user=order.buyer,
                subject=_("%(farm)s refunds %(amount)s on order %(number)s")
                % {**about, "amount": format_vnd(problem.refund_amount)},
                body=(_("For %(product)s.") % about + " " + problem.answer).strip(),
                url=_buyer_url(order),
            )
        else:
            sent += _send_once(
                order=order,
                key=f"problem:{problem.pk}:declined",
                user=order.buyer,
                subject=_("%(farm)s answered your report on order %(number)s") % about,
                body=_("About %(product)s: %(answer)s") % {**about, "answer": problem.answer},
                url=_buyer_url(order),
            )
    return sent
