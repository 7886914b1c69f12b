"""The contract every payment provider keeps (issue #5; card and bank transfer join in #6).

Each test runs once per method in settings.PAYMENT_PROVIDERS, through the real provider class.
A provider-specific `good_callback` builds the genuine callback that pays a payment.
"""

import json

import pytest
from django.conf import settings

from marketplace.accounts.models import Role
from orders import services
from orders.models import Payment, Refund
from orders.payments import PaymentError, PaymentProvider, PaymentStart, methods, provider_for
from tests.orders.factories import listings, place

pytestmark = pytest.mark.django_db


def _cod_callback(payment, amount):
    return json.dumps({"payment": payment.pk, "event": "collected", "amount": amount}).encode(), {}


#: How to make a genuine "paid" callback for each provider.
GOOD_CALLBACKS = {"cod": _cod_callback}


@pytest.fixture(params=list(settings.PAYMENT_PROVIDERS))
def method(request):
    return request.param


@pytest.fixture
def order(method, make_user):
    product = listings(make_user, price=50000)[0]
    return place(make_user(Role.BUYER), [(product, 2)], payment_method=method)


def pay(order, method):
    payment = order.payments.get()
    body, headers = GOOD_CALLBACKS[method](payment, order.total)
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
    assert start.confirms_order or start.redirect_url


def test_a_genuine_callback_pays_once(order, method):
    payment = pay(order, method)
    again = pay(order, method)
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


def test_a_refund_happens_once_per_key_and_never_more_than_paid(order, method):
    pay(order, method)
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
    with pytest.raises(PaymentError):
        provider_for(method).refund(payment=Payment.objects.get(order=order), amount=1, key="direct")


def test_nothing_is_refunded_before_payment(order, method):
    assert services.payment_refund(order=order, amount=1000, key="unpaid") is None
    assert not Refund.objects.exists()


def test_an_unknown_method_is_a_payment_error():
    with pytest.raises(PaymentError):
        provider_for("barter")
