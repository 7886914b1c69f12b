"""VietQR bank transfer: the buyer scans a code in any Vietnamese banking app and transfers the
order's amount to the marketplace's account, with the order number as the transfer note.

Nothing to call to start it (the code is made here, `vietqr_payload`). A transfer is confirmed
by staff in the admin ("Mark bank transfer received"), or by the bank's notification webhook
when `VIETQR_WEBHOOK_SECRET` is set: `POST /webhooks/vietqr/` with the header
`X-Webhook-Secret` and `{"id", "amount", "note"}` (the bank's transaction id, the amount in
đồng, the transfer note). Refunds go back by bank transfer from staff; this provider records them.
"""

import base64
import hmac
import json
import re

from django.conf import settings
from django.utils.translation import gettext as _

from marketplace.money import format_vnd

from . import CallbackOutcome, PaymentError, PaymentProvider, PaymentStart, RefundsByHand
from .vietqr_payload import build_payload, qr_png

ORDER_NUMBER = re.compile(r"CN-?\d{4}-?\d{4,6}", re.IGNORECASE)


def payload_for(payment) -> str:
    """Return the VietQR payload of a payment: the marketplace's account, the amount, the order number."""
    return build_payload(
        bank_bin=settings.VIETQR_BANK_BIN,
        account=settings.VIETQR_ACCOUNT_NUMBER,
        amount=payment.amount,
        note=payment.order.number,
        merchant_name=settings.VIETQR_ACCOUNT_NAME,
    )


def png_data_url(payload: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(payload, box_size=6)).decode()


class VietQRTransfer(RefundsByHand, PaymentProvider):
    method = "vietqr"
    refund_prefix = "transfer"

    def is_available(self) -> bool:
        return bool(settings.VIETQR_BANK_BIN and settings.VIETQR_ACCOUNT_NUMBER)

    def instructions(self, *, payment) -> str:
        if payment.status != "pending":
            return ""
        return _(
            "Scan the QR code in your banking app, or transfer %(amount)s to account %(account)s "
            "(%(name)s) with the note %(note)s."
        ) % {
            "amount": format_vnd(payment.amount),
            "account": settings.VIETQR_ACCOUNT_NUMBER,
            "name": settings.VIETQR_ACCOUNT_NAME,
            "note": payment.order.number,
        }

    def start(self, *, payment) -> PaymentStart:
        try:
            payload_for(payment)  # refuses a misconfigured account before the buyer sees a code
        except ValueError as exc:
            raise PaymentError(str(exc), code="vietqr_misconfigured") from None
        return PaymentStart(
            confirms_order=False,
            reference=payment.order.number,
            instructions=self.instructions(payment=payment),
        )

    def parse_callback(self, *, body: bytes, headers: dict) -> CallbackOutcome:
        secret = settings.VIETQR_WEBHOOK_SECRET
        given = headers.get("X-Webhook-Secret") or ""
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            raise PaymentError("bad webhook secret", code="invalid_signature")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # a body nested deeper than Python recurses
            raise PaymentError("not a bank notification", code="invalid_callback") from None
        return self.parse_event(payload=payload)

    def parse_event(self, *, payload: dict) -> CallbackOutcome:
        try:
            transaction_id = str(payload["id"])[:100]
            amount = int(payload["amount"])
            note = str(payload.get("note", ""))
        except (KeyError, TypeError, ValueError):
            raise PaymentError("not a bank notification", code="invalid_callback") from None
        if amount <= 0 or not transaction_id:
            raise PaymentError("not a bank notification", code="invalid_callback")
        found = ORDER_NUMBER.search(note.upper().replace(" ", ""))
        number = found.group(0) if found else ""
        if number and number.count("-") < 2:  # banks may drop the dashes: CN30114821
            digits = number[2:].replace("-", "")
            number = f"CN-{digits[:4]}-{digits[4:]}"
        return CallbackOutcome(
            payment_id=None,
            reference=number,
            event="paid" if number else "ignored",
            amount=amount,
            event_id=transaction_id,
            type="bank.transfer",
        )

    def received(self, *, payment) -> CallbackOutcome:
        """The outcome of staff confirming that the transfer arrived in full."""
        return CallbackOutcome(
            payment_id=payment.pk,
            reference=payment.reference,
            event="paid",
            amount=payment.amount,
            type="staff",
        )
