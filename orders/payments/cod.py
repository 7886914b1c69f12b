"""Cash on delivery: nothing to pay online. The order goes to its households at once, and the
payment becomes `paid` when the courier reports the cash collected (a callback from our own
delivery app, issue #7). A refund of collected cash is paid back by staff in cash or transfer;
this provider records it.
"""

import json

from django.utils.translation import gettext as _

from marketplace.money import format_vnd

from . import CallbackOutcome, PaymentError, PaymentProvider, PaymentStart, RefundsByHand

EVENTS = {"collected": "paid", "not_collected": "failed"}


class CashOnDelivery(RefundsByHand, PaymentProvider):
    method = "cod"
    refund_prefix = "cash"
    exact_amount = True

    def instructions(self, *, payment) -> str:
        if payment.status != "pending":
            return ""
        return _("Pay the courier %(amount)s in cash when your order arrives.") % {
            "amount": format_vnd(payment.amount)
        }

    def start(self, *, payment) -> PaymentStart:
        return PaymentStart(confirms_order=True, instructions=self.instructions(payment=payment))

    def parse_callback(self, *, body: bytes, headers: dict) -> CallbackOutcome:
        """Read `{"payment": id, "event": "collected"|"not_collected", "amount": đồng}`."""
        try:
            data = json.loads(body)
            payment_id = int(data["payment"])
            event = EVENTS[data["event"]]
            amount = int(data.get("amount", 0))
        except (ValueError, TypeError, KeyError, RecursionError):
            raise PaymentError(_("This is not a cash collection report."), code="invalid_callback") from None
        if amount < 0:
            raise PaymentError(_("This is not a cash collection report."), code="invalid_callback")
        return CallbackOutcome(payment_id=payment_id, reference="", event=event, amount=amount)
