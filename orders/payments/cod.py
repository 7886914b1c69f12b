"""Cash on delivery: nothing to pay online. The order goes to its households at once, and the
payment becomes `paid` when the courier reports the cash collected (a callback from our own
delivery app, issue #7). A refund of collected cash is paid back by staff in cash or transfer;
this provider records it.
"""

import json

from django.utils.translation import gettext as _

from marketplace.money import format_vnd

from . import CallbackOutcome, PaymentError, PaymentProvider, PaymentStart, RefundOutcome

EVENTS = {"collected": "paid", "not_collected": "failed"}


class CashOnDelivery(PaymentProvider):
    method = "cod"
    refunds_by_hand = True
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
        except (ValueError, TypeError, KeyError):
            raise PaymentError(_("This is not a cash collection report."), code="invalid_callback") from None
        if amount < 0:
            raise PaymentError(_("This is not a cash collection report."), code="invalid_callback")
        return CallbackOutcome(payment_id=payment_id, reference="", event=event, amount=amount)

    def refund(self, *, payment, amount: int, key: str, reason: str = "") -> RefundOutcome:
        # The books (orders.services.payments) already cap the total refunded at what was paid.
        if amount <= 0 or amount > payment.paid_amount:
            raise PaymentError(
                _("A refund must be more than 0 and no more than what was paid."),
                code="refund_too_large",
            )
        # The cash goes back by hand (staff); the record is the refund.
        return RefundOutcome(reference=f"cash-{key}")
