"""The monthly report: an XLSX of the month before, emailed to officials who subscribe.

One workbook per official, within their wards: sales by day, by category, by ward and by
household, with the same numbers (and the same "<3") as the API and the dashboard. Sent once per
official and month: the subscription records the month sent in the transaction that sends it.
"""

from datetime import date, timedelta

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from marketplace.accounts.models import Role

from .exports import CONTENT_TYPES, export_table, params_from_filters, workbook_bytes
from .models import ReportSubscription
from .selectors import Filters, wards_of

SHEETS = (
    ("day", gettext_noop("By day")),
    ("category", gettext_noop("By category")),
    ("ward", gettext_noop("By ward")),
    ("household", gettext_noop("By household")),
)


def previous_month(today: date) -> tuple[date, date]:
    """The first and last day of the month before `today`'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def monthly_workbook(*, official, first: date, last: date) -> bytes:
    filters = Filters(first=first, last=last, wards=wards_of(official))
    sheets = []
    for group_by, title in SHEETS:
        headers, rows, formats = export_table(
            "sales", params_from_filters(filters, group_by=group_by), filters
        )
        with translation.override("vi"):
            sheets.append((_(title), headers, rows, formats))
    return workbook_bytes(sheets)


def monthly_reports_send(*, today: date | None = None) -> int:
    """Email last month's report to every subscribed official with an email; return how many were sent."""
    first, last = previous_month(today or timezone.localdate())
    sent = 0
    for pk in list(
        ReportSubscription.objects.filter(user__role=Role.OFFICIAL, user__is_active=True)
        .exclude(user__email="")
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            subscription = ReportSubscription.objects.select_for_update().select_related("user").get(pk=pk)
            if subscription.last_sent_month == first:
                continue
            official = subscription.user
            with translation.override("vi"):
                message = EmailMessage(
                    subject=_("Chợ Nổi: sales report for %(month)s") % {"month": first.strftime("%m/%Y")},
                    body=_("The sales of the households in your wards in %(month)s are attached.")
                    % {"month": first.strftime("%m/%Y")},
                    to=[official.email],
                )
            message.attach(
                f"cho-noi-bao-cao-{first:%Y-%m}.xlsx",
                monthly_workbook(official=official, first=first, last=last),
                CONTENT_TYPES["xlsx"],
            )
            message.send()
            subscription.last_sent_month = first
            subscription.save(update_fields=["last_sent_month"])
        sent += 1
    return sent
