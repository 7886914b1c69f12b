"""Card payments through Stripe Checkout, its hosted payment page. The only module importing `stripe`.

- VND is a zero-decimal currency: amounts are whole đồng, as everywhere here.
- Each order line goes as quantity 1 with its line total (Stripe quantities are whole; ours
  are kilograms with decimals), the delivery fee as a line of its own.
- Idempotency keys come from the payment (order and attempt): a retried request never makes a
  second session or a second refund.
- `STRIPE_API_BASE` points the real library at another server: tests use a local stand-in.
"""

from datetime import UTC, datetime, timedelta

import stripe
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from marketplace.money import format_vnd

from . import CallbackOutcome, PaymentError, PaymentProvider, PaymentStart, ProviderUnreachable, RefundOutcome

#: Stripe events acted on, and what each means for a payment.
EVENTS = {
    "checkout.session.completed": "paid",
    "checkout.session.async_payment_succeeded": "paid",
    "checkout.session.expired": "expired",
    "checkout.session.async_payment_failed": "failed",
    "payment_intent.succeeded": "paid",
    "payment_intent.payment_failed": "failed",
    "charge.refunded": "refunded",
}
# Stripe keeps a Checkout Session open at least 30 minutes.
MIN_SESSION_MINUTES = 30
# A payment is opened within this long of its creation, else a new attempt is made.
OPEN_WITHIN_SECONDS = 60


def client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        # A slow Stripe must not hold a web worker for the library's default 80 seconds.
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def _call(function, *args, **kwargs):
    """Call Stripe; a network failure or Stripe's outage is ProviderUnreachable, a refusal a PaymentError."""
    try:
        return function(*args, **kwargs)
    except (stripe.APIConnectionError, stripe.RateLimitError, stripe.IdempotencyError) as exc:
        # IdempotencyError: the same key is in use by a request still running; ask again later.
        raise ProviderUnreachable(str(exc)) from exc
    except stripe.APIError as exc:  # Stripe's own 5xx
        raise ProviderUnreachable(str(exc)) from exc
    except stripe.StripeError as exc:
        # Stripe's text is for staff and logs (it may quote a key's prefix), never for buyers.
        raise PaymentError(str(exc), code="stripe_refused") from exc


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _line_items(order) -> list[dict]:
    items = [
        {
            "quantity": 1,
            "price_data": {
                "currency": "vnd",
                "unit_amount": line.line_total,
                "product_data": {
                    "name": f"{line.product_name} × {line.quantity.normalize():f} {line.unit}"[:250]
                },
            },
        }
        for part in order.farm_orders.all()
        if part.status in ("awaiting_payment", "new")
        for line in part.lines.all()
    ]
    if order.delivery_fee:
        items.append(
            {
                "quantity": 1,
                "price_data": {
                    "currency": "vnd",
                    "unit_amount": order.delivery_fee,
                    # Fixed wording, whatever the request's language: a retry must send the same parameters.
                    "product_data": {"name": "Phí giao hàng"},
                },
            }
        )
    return items


def _metadata(payment) -> dict:
    # Prefixed: other software on the same Stripe account may put its own `payment_id` in metadata.
    return {
        "cho_noi_order": payment.order.number,
        "cho_noi_payment": str(payment.pk),
        "cho_noi_attempt": str(payment.attempt),
    }


def _key(payment, what: str) -> str:
    """An idempotency key from the order and the attempt: the same request always sends the same key."""
    return f"cho-noi-{payment.order.number}-{payment.attempt}-{what}"


def _timestamp(value) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


class StripeCheckout(PaymentProvider):
    method = "stripe"
    online = True

    def is_available(self) -> bool:
        return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)

    def instructions(self, *, payment) -> str:
        if payment.status != "pending":
            return ""
        if not payment.pay_url:
            return _("The card payment page could not be opened. Try paying again in a moment.")
        return _("Pay %(amount)s by card on Stripe's secure page.") % {"amount": format_vnd(payment.amount)}

    def max_amount(self) -> int:
        return settings.STRIPE_MAX_AMOUNT  # Stripe's largest charge in VND

    def start(self, *, payment) -> PaymentStart:
        order = payment.order
        # From the payment's own creation, not from now: a retry must send the very same
        # parameters, or Stripe refuses the idempotency key. A payment is opened within a
        # minute of its creation (`order_pay_again` makes a new attempt otherwise), so the
        # session still lives Stripe's minimum of 30 minutes.
        minutes = max(settings.PAYMENT_HOLD_MINUTES, MIN_SESSION_MINUTES)
        expires = payment.created_at + timedelta(minutes=minutes, seconds=OPEN_WITHIN_SECONDS)
        detail = reverse("orders:detail", args=[order.number])
        session = _call(
            client().v1.checkout.sessions.create,
            params={
                "mode": "payment",
                "currency": "vnd",
                "line_items": _line_items(order),
                "client_reference_id": order.number,
                "metadata": _metadata(payment),
                "payment_intent_data": {"metadata": _metadata(payment)},
                "success_url": _absolute(detail + "?payment=done"),
                "cancel_url": _absolute(detail + "?payment=cancelled"),
                "expires_at": int(expires.timestamp()),
                "locale": "vi",
            },
            options={"idempotency_key": _key(payment, "session")},
        )
        return PaymentStart(
            confirms_order=False,
            redirect_url=session.url,
            reference=session.id,
            expires_at=_timestamp(getattr(session, "expires_at", None)) or expires,
            instructions=self.instructions(payment=payment),
        )

    def parse_callback(self, *, body: bytes, headers: dict) -> CallbackOutcome:
        """Verify a webhook's `Stripe-Signature` on the raw body (5 minutes' tolerance) and read it."""
        signature = headers.get("Stripe-Signature") or headers.get("HTTP_STRIPE_SIGNATURE")
        if not signature or not settings.STRIPE_WEBHOOK_SECRET:
            raise PaymentError("missing signature", code="invalid_signature")
        try:
            event = stripe.Webhook.construct_event(
                body, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
            )
        except stripe.SignatureVerificationError:
            raise PaymentError("bad signature", code="invalid_signature") from None
        except (ValueError, RecursionError):
            raise PaymentError("not a Stripe event", code="invalid_callback") from None
        return self.parse_event(payload=event.to_dict())

    def parse_event(self, *, payload: dict) -> CallbackOutcome:
        try:
            kind, event_id = payload["type"], payload["id"]
            obj = payload["data"]["object"]
        except (KeyError, TypeError):
            raise PaymentError("not a Stripe event", code="invalid_callback") from None
        event = EVENTS.get(kind, "ignored")
        metadata = obj.get("metadata") or {}
        payment_id = str(metadata.get("cho_noi_payment") or "")
        common = {
            "payment_id": int(payment_id) if payment_id.isascii() and payment_id.isdigit() else None,
            "order_number": str(metadata.get("cho_noi_order") or ""),
            "event_id": event_id,
            "type": kind,
            "currency": (obj.get("currency") or "").lower(),
        }
        if kind.startswith("checkout.session."):
            if event == "paid" and obj.get("payment_status") != "paid":
                event = (
                    "ignored"  # completed but paid later (delayed methods): wait for async_payment_succeeded
                )
            return CallbackOutcome(
                reference=obj.get("id", ""),
                event=event,
                amount=int(obj.get("amount_total") or 0),
                intent=obj.get("payment_intent") or "",
                **common,
            )
        if kind.startswith("payment_intent."):
            return CallbackOutcome(
                reference="",
                event=event,
                amount=int(obj.get("amount_received") or obj.get("amount") or 0),
                intent=obj.get("id", ""),
                **common,
            )
        if kind == "charge.refunded":
            return CallbackOutcome(
                reference="",
                event=event,
                amount=int(obj.get("amount") or 0),
                intent=obj.get("payment_intent") or "",
                refunded_total=int(obj.get("amount_refunded") or 0),
                charge=obj.get("id", ""),
                **common,
            )
        return CallbackOutcome(reference="", event="ignored", **common)

    def fetch(self, *, payment) -> CallbackOutcome | None:
        if not payment.reference:
            return None
        session = _call(client().v1.checkout.sessions.retrieve, payment.reference)
        data = session.to_dict()
        if data.get("status") == "complete" and data.get("payment_status") == "paid":
            kind = "checkout.session.completed"
        elif data.get("status") == "expired":
            kind = "checkout.session.expired"
        else:
            return None
        return self.parse_event(
            payload={"id": f"reconcile-{data['id']}", "type": kind, "data": {"object": data}}
        )

    def paid_sessions_since(self, since: datetime) -> list[CallbackOutcome]:
        """Return every session paid since `since` (reconciliation finds payments no webhook told of)."""
        found = []
        listing = _call(
            client().v1.checkout.sessions.list,
            params={"status": "complete", "created": {"gte": int(since.timestamp())}, "limit": 100},
        )
        for session in listing.auto_paging_iter():
            data = session.to_dict()
            if data.get("payment_status") == "paid":
                payload = {
                    "id": f"reconcile-{data['id']}",
                    "type": "checkout.session.completed",
                    "data": {"object": data},
                }
                found.append(self.parse_event(payload=payload))
        return found

    def cancel(self, *, payment) -> None:
        """Expire the Checkout Session, so nobody can pay an order that has let its stock go.

        A session already complete cannot be expired: callers then ask `fetch` what became of it.
        """
        if not payment.reference:
            return
        try:
            _call(client().v1.checkout.sessions.expire, payment.reference)
        except PaymentError as exc:
            if exc.code == "provider_unreachable":
                raise

    def refund(self, *, payment, amount: int, key: str, reason: str = "") -> RefundOutcome:
        if not payment.intent:
            raise PaymentError("no PaymentIntent to refund", code="refund_impossible")
        refund = _call(
            client().v1.refunds.create,
            params={
                "payment_intent": payment.intent,
                "amount": amount,
                "metadata": {**_metadata(payment), "key": key},
            },
            options={"idempotency_key": f"cho-noi-refund-{key}"},
        )
        return RefundOutcome(reference=refund.id)

    def find_refund(self, *, payment, key: str) -> str:
        """Return the id of a refund made with this key on the payment, or "" (before calling it failed)."""
        if not payment.intent:
            return ""
        listing = _call(client().v1.refunds.list, params={"payment_intent": payment.intent, "limit": 100})
        for refund in listing.data:
            if (refund.to_dict().get("metadata") or {}).get("key") == key:
                return refund.id
        return ""
