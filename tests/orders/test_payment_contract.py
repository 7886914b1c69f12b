"""The contract every payment provider keeps: cash on delivery (#5), Stripe cards and VietQR transfers (#6).

Each test runs once per method in settings.PAYMENT_PROVIDERS, through the real provider class
(Stripe through the real library against its local stand-in). A provider-specific maker builds
the genuine callback that pays a payment: the courier's cash report, a webhook signed as Stripe
signs it, the bank's notification with its shared secret.
"""

import json

import pytest
from django.conf import settings

from marketplace.accounts.models import Role
from orders import services
from orders.models import Payment, Refund
from orders.payments import PaymentError, PaymentProvider, PaymentStart, methods, provider_for
from tests.orders.conftest import WEBHOOK_SECRET
from tests.orders.factories import listings, place
from tests.stripe_standin import sign

pytestmark = pytest.mark.django_db


BANK_SECRET = "bank-shared-secret"


def _cod_callback(payment, amount, env):
    return json.dumps({"payment": payment.pk, "event": "collected", "amount": amount}).encode(), {}


def _stripe_callback(payment, amount, standin):
    session = standin.get(payment.reference)
    if session["status"] == "open":
        session = standin.complete(payment.reference)
    body = json.dumps(standin.event("checkout.session.completed", session)).encode()
    return body, {"Stripe-Signature": sign(body, WEBHOOK_SECRET)}


def _vietqr_callback(payment, amount, env):
    body = {"id": f"FT{payment.pk:08d}", "amount": amount, "note": f"{payment.order.number} chuyen tien"}
    return json.dumps(body).encode(), {"X-Webhook-Secret": BANK_SECRET}


#: How to make a genuine "paid" callback for each provider.
GOOD_CALLBACKS = {"cod": _cod_callback, "stripe": _stripe_callback, "vietqr": _vietqr_callback}


@pytest.fixture(params=list(settings.PAYMENT_PROVIDERS))
def method(request, settings):
    return request.param


@pytest.fixture
def env(method, request, settings):
    """What each provider needs to run here: Stripe's stand-in, the bank's shared secret."""
    settings.VIETQR_WEBHOOK_SECRET = BANK_SECRET
    return request.getfixturevalue("stripe_standin") if method == "stripe" else None


@pytest.fixture
def order(method, env, make_user):
    product = listings(make_user, price=50000)[0]
    return place(make_user(Role.BUYER), [(product, 2)], payment_method=method)


def pay(order, method, env):
    payment = order.payments.get()
    body, headers = GOOD_CALLBACKS[method](payment, order.total, env)
    return services.payment_callback_apply(method=method, body=body, headers=headers)


def test_every_provider_has_a_callback_maker_here():
    assert set(methods()) == set(GOOD_CALLBACKS)


def test_the_provider_implements_the_interface(method):
    provider = provider_for(method)
    assert isinstance(provider, PaymentProvider)
    assert provider.method == method
    assert provider.is_available() in (True, False)


def test_start_opens_one_payment_of_the_total(order, method):
    payment = Payment.objects.get(order=order)
    assert (payment.method, payment.amount, payment.status) == (method, order.total, "pending")
    start = provider_for(method).start(payment=payment)
    assert isinstance(start, PaymentStart)
    assert start.confirms_order or start.redirect_url or start.instructions
    assert provider_for(method).instructions(payment=payment)  # the buyer is told what to do


def test_a_genuine_callback_pays_once(order, method, env):
    payment = pay(order, method, env)
    again = pay(order, method, env)
    payment.refresh_from_db()
    order.refresh_from_db()
    assert again.pk == payment.pk
    assert (payment.status, payment.paid_amount) == ("paid", order.total)
    assert order.payment_status == "paid"
    assert order.status == "confirmed"
    assert order.status_changes.filter(to_status="confirmed", farm_order=None).count() == 1


@pytest.mark.parametrize(
    "body", [b"", b"{", b"[]", b'{"payment": "x"}', b'{"event": "collected"}', b"\xff\xfe"]
)
def test_garbage_callbacks_are_refused_with_a_payment_error(order, method, body):
    with pytest.raises(PaymentError):
        services.payment_callback_apply(method=method, body=body, headers={})
    assert Payment.objects.get(order=order).status == "pending"


def test_a_refund_happens_once_per_key_and_never_more_than_paid(order, method, env):
    pay(order, method, env)
    first = services.payment_refund(order=order, amount=30000, key="contract-1", reason="thiếu hàng")
    repeat = services.payment_refund(order=order, amount=30000, key="contract-1", reason="thiếu hàng")
    assert first.pk == repeat.pk
    order.refresh_from_db()
    assert order.payment_status == "partially_refunded"
    rest = services.payment_refund(order=order, amount=10**9, key="contract-2")
    assert rest.amount == order.total - 30000
    order.refresh_from_db()
    assert order.payment_status == "refunded"
    assert services.payment_refund(order=order, amount=1, key="contract-3") is None
    assert Refund.objects.filter(payment__order=order).count() == 2
    payment = Payment.objects.get(order=order)
    with pytest.raises(PaymentError):
        provider_for(method).refund(payment=payment, amount=payment.paid_amount + 1, key="direct")


def test_a_refund_moves_through_the_provider_after_commit_once(
    order, method, env, django_capture_on_commit_callbacks
):
    pay(order, method, env)
    with django_capture_on_commit_callbacks(execute=True):
        refund = services.payment_refund(order=order, amount=25000, key="contract-sent")
    refund.refresh_from_db()
    if provider_for(method).refunds_by_hand:
        # Cash and bank transfers are paid back by staff: the refund waits until they record it.
        assert (refund.status, refund.amount) == ("pending", 25000)
        assert services.refund_send(refund=refund).status == "pending"
        refund = services.refund_mark_sent(refund=refund, by=None, reference="FT-back-1")
    assert (refund.status, refund.amount) == ("succeeded", 25000)
    assert refund.reference
    assert services.refund_send(refund=refund).status == "succeeded"  # a retried task: nothing more
    if provider_for(method).refunds_by_hand:
        assert (
            services.refund_mark_sent(refund=refund, by=None, reference="again").reference == refund.reference
        )


def test_nothing_is_refunded_before_payment(order, method):
    assert services.payment_refund(order=order, amount=1000, key="unpaid") is None
    assert not Refund.objects.exists()


def test_an_unknown_method_is_a_payment_error():
    with pytest.raises(PaymentError):
        provider_for("barter")
