"""Payment providers behind one small interface, chosen by method (DESIGN.md house rule 7).

`settings.PAYMENT_PROVIDERS` maps a method (`cod`, and from issue #6 `card`, `vietqr`) to a
provider class, loaded with `import_string` the way Django loads auth backends. A provider
talks to the outside world; `orders.services.payments` keeps the books (statuses, refunds) and
calls the provider. `tests/orders/test_payment_contract.py` runs one contract against every
provider in the setting.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string


class PaymentError(Exception):
    """A provider refused or failed: `message` is for people, `code` for machines."""

    def __init__(self, message, *, code: str = "payment_failed"):
        super().__init__(message)
        self.message = message
        self.code = code


class ProviderUnreachable(PaymentError):
    """The provider could not be reached (network, its outage): try again later."""

    def __init__(self, message="payment provider unreachable"):
        super().__init__(message, code="provider_unreachable")


@dataclass(frozen=True)
class PaymentStart:
    """What starting a payment gives: paid or confirmed now, or a page to send the buyer to."""

    # The order can go to its households at once (cash on delivery: nothing to wait for).
    confirms_order: bool
    # Where the buyer pays (a hosted payment page); empty when there is nothing to do online.
    redirect_url: str = ""
    reference: str = ""
    # Until when the payment page takes a payment.
    expires_at: datetime | None = None
    # Shown to the buyer and in the API's `payment` object.
    instructions: str = ""


@dataclass(frozen=True)
class CallbackOutcome:
    """What a provider's callback or event says happened to one payment.

    The payment is found by `payment_id` (our id, sent to the provider as metadata), else by
    `reference` (the provider's id of the payment, e.g. a Checkout Session), else by `intent`.
    `event` is one of EVENTS; `ignored` for events nothing here acts on.
    """

    payment_id: int | None
    reference: str
    event: str
    amount: int = 0
    currency: str = "vnd"
    intent: str = ""
    # For "refunded": the total refunded so far on the provider's side, and its charge id.
    refunded_total: int = 0
    charge: str = ""
    event_id: str = ""
    type: str = ""
    # The order number the provider was given with the payment, to check a match by our id.
    order_number: str = ""
    extra: dict = field(default_factory=dict)

    EVENTS = ("paid", "failed", "cancelled", "expired", "refunded", "ignored")


@dataclass(frozen=True)
class RefundOutcome:
    reference: str = ""


class PaymentProvider:
    """The interface every payment method implements."""

    #: The method's code, as in `Order.payment_method`.
    method: str = ""
    #: Starting a payment calls the provider over the network: it runs after the order's
    #: transaction commits (never while listings are locked), and may fail without losing the order.
    online: bool = False
    #: Refunds are paid back by staff (cash, a bank transfer): a refund stays pending until staff
    #: record it sent (`refund_mark_sent`); otherwise the provider moves the money itself.
    refunds_by_hand: bool = False
    #: A payment must be for exactly its amount (cash counted by our courier); otherwise more than
    #: owed is accepted and the difference refunded (an old card page after a partial cancel).
    exact_amount: bool = False

    def is_available(self) -> bool:
        """Return whether the method can be offered now (configured)."""
        return True

    def max_amount(self) -> int | None:
        """Return the largest amount in đồng the method takes for one order (None: no limit)."""
        return None

    def instructions(self, *, payment) -> str:
        """Return what the buyer should do about this payment now, in words ("" when nothing)."""
        return ""

    def start(self, *, payment) -> PaymentStart:
        """Begin paying `payment`; raise ProviderUnreachable when the provider cannot be reached."""
        raise NotImplementedError

    def parse_callback(self, *, body: bytes, headers: dict) -> CallbackOutcome:
        """Check and read a callback; raise PaymentError for anything not genuine or not understood."""
        raise NotImplementedError

    def parse_event(self, *, payload: dict) -> CallbackOutcome:
        """Read an event already checked and stored (a webhook processed later by a task)."""
        raise PaymentError("this provider stores no events", code="no_events")

    def fetch(self, *, payment) -> CallbackOutcome | None:
        """Ask the provider what became of a payment (reconciliation); None when it cannot say."""
        return None

    def cancel(self, *, payment) -> None:
        """Close a payment still open (the buyer can no longer pay on its page)."""

    def refund(self, *, payment, amount: int, key: str, reason: str = "") -> RefundOutcome:
        """Give back `amount` đồng of a paid payment, once per `key`; raise PaymentError on failure."""
        raise NotImplementedError

    def find_refund(self, *, payment, key: str) -> str:
        """Return the provider's id of a refund already made with `key` ("" when there is none)."""
        return ""


class RefundsByHand:
    """For methods whose money staff give back by hand (cash, a bank transfer): the refund is a record.

    A refund waits, pending, until staff record it sent (`refund_mark_sent`); `refund` only
    checks it and names it `<prefix>-<key>`.
    """

    refunds_by_hand = True
    refund_prefix = "by-hand"

    def refund(self, *, payment, amount: int, key: str, reason: str = "") -> RefundOutcome:
        from django.utils.translation import gettext as _

        # The books (orders.services.payments) already cap the total refunded at what was paid.
        if amount <= 0 or amount > payment.paid_amount:
            raise PaymentError(
                _("A refund must be more than 0 and no more than what was paid."), code="refund_too_large"
            )
        return RefundOutcome(reference=f"{self.refund_prefix}-{key}")


@cache
def _provider_class(path: str):
    return import_string(path)


def provider_for(method: str) -> PaymentProvider:
    """Return the provider of a method, or raise PaymentError if the method is not set up."""
    path = settings.PAYMENT_PROVIDERS.get(method)
    if path is None:
        raise PaymentError(f"unknown payment method {method!r}", code="unknown_method")
    return _provider_class(path)()


def methods() -> list[str]:
    """Return the payment methods set up, in the setting's order."""
    return list(settings.PAYMENT_PROVIDERS)


def available_methods() -> list[str]:
    """Return the methods that can be offered now (a card method without keys is hidden)."""
    return [method for method in methods() if provider_for(method).is_available()]
