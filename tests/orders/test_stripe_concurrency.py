"""The same Stripe event delivered five times at once has one effect (committed data, real threads)."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from orders.models import Order, Payment, StatusChange, WebhookEvent
from tests.orders.conftest import WEBHOOK_SECRET
from tests.orders.factories import delivery, fill_cart, listings
from tests.stripe_standin import sign

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def test_the_same_event_five_times_at_once_has_one_effect(buyer, make_user, api_as, stripe_standin):
    (product,) = listings(make_user, price=50000, stock="10")
    fill_cart(buyer, [(product, 2)])
    response = api_as(buyer).post(
        "/api/v1/checkout/", {"delivery": delivery(), "payment_method": "stripe"}, format="json"
    )
    order = Order.objects.get(pk=response.json()["id"])
    session = stripe_standin.complete(order.payments.get().reference)
    payload = json.dumps(stripe_standin.event("checkout.session.completed", session)).encode()
    header = sign(payload, WEBHOOK_SECRET)
    barrier = threading.Barrier(5)
    answers, errors = [], []

    def deliver():
        try:
            barrier.wait(timeout=30)
            answer = Client().post(
                "/webhooks/stripe/", payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            answers.append((answer.status_code, answer.json()["duplicate"]))
        except Exception as exc:  # reported below, never swallowed
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(answers) == [(200, False)] + [(200, True)] * 4
    assert WebhookEvent.objects.count() == 1
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    assert (
        StatusChange.objects.filter(order=order, from_status="pending_payment", to_status="confirmed").count()
        == 1
    )
    assert Payment.objects.get(order=order).paid_amount == order.total
