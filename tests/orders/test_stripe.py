"""Card payments through the real `stripe` library against a local stand-in of Stripe's API.

Checkout sessions, idempotency, an unreachable Stripe, webhooks signed as Stripe signs them,
events twice, late and out of order, refunds, the stock hold and reconciliation.
"""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from farms.models import Product
from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from orders import services
from orders.models import Order, Payment, Refund, StatusChange, WebhookEvent
from orders.payments import provider_for
from tests.orders.conftest import WEBHOOK_SECRET
from tests.orders.factories import delivery, fill_cart, listings
from tests.stripe_standin import sign

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/checkout/"
WEBHOOK = "/webhooks/stripe/"


@pytest.fixture
def products(make_user):
    # Two households, 50,000 đồng a kilo, 10 kg each.
    return listings(make_user, farms=2, price=50000, stock="10")


def stripe_checkout(client, **fields):
    return client.post(
        CHECKOUT, {"delivery": delivery(), "payment_method": "stripe", **fields}, format="json"
    )


@pytest.fixture
def card_order(buyer, products, api_as, stripe_standin):
    """A card order of 2 kg from each household, its session open on the stand-in."""
    fill_cart(buyer, [(p, 2) for p in products])
    response = stripe_checkout(api_as(buyer))
    assert response.status_code == 201, response.json()
    return Order.objects.get(pk=response.json()["id"])


def post_event(client, standin, type_, obj, *, secret=WEBHOOK_SECRET, timestamp=None, body=None):
    payload = json.dumps(standin.event(type_, obj)).encode() if body is None else body
    header = sign(payload, secret, timestamp)
    return client.post(
        WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    ), payload


def stocks():
    return list(Product.objects.order_by("pk").values_list("stock", flat=True))


# --- Checkout with a card ------------------------------------------------------------------


def test_a_card_checkout_waits_for_payment_with_a_stripe_page(card_order, stripe_standin, api_as, buyer):
    data = api_as(buyer).get(f"/api/v1/orders/{card_order.pk}/").json()
    assert (data["status"], data["payment_status"]) == ("pending_payment", "unpaid")
    assert {part["status"] for part in data["farm_orders"]} == {"awaiting_payment"}
    payment = data["payment"]
    assert payment["method"] == "stripe" and payment["url"].startswith(stripe_standin.url)
    (session,) = stripe_standin.all("checkout.session")
    assert session["currency"] == "vnd"
    assert session["amount_total"] == data["total"] == 100000 + 100000 + data["delivery_fee"]
    assert session["metadata"]["cho_noi_payment"] == str(payment["id"])
    assert session["metadata"]["cho_noi_order"] == data["number"]
    # Each line goes as quantity 1 with its total; the delivery fee is a line of its own.
    (create,) = stripe_standin.requests_to("POST", "/v1/checkout/sessions")
    amounts = [int(item["price_data"]["unit_amount"]) for item in create.params["line_items"]]  # form-encoded
    assert amounts == [100000, 100000, data["delivery_fee"]]
    assert {item["quantity"] for item in create.params["line_items"]} == {"1"}
    assert create.idempotency_key == f"cho-noi-{data['number']}-1-session"  # order and attempt
    # Households see nothing before payment, and the stock is held.
    assert stocks() == [8, 8]
    owner = card_order.farm_orders.first().farm.owner
    assert api_as(owner).get("/api/v1/farm-orders/").json()["count"] == 0


def test_a_retried_session_creation_makes_one_session(card_order, stripe_standin):
    payment = card_order.payments.get()
    provider = provider_for("stripe")
    first = provider.start(payment=payment)
    again = provider.start(payment=payment)
    assert first.reference == again.reference == payment.reference
    assert len(stripe_standin.all("checkout.session")) == 1
    keys = {r.idempotency_key for r in stripe_standin.requests_to("POST", "/v1/checkout/sessions")}
    assert keys == {f"cho-noi-{card_order.number}-1-session"}


def test_an_unreachable_stripe_keeps_the_order_and_pay_opens_a_page_later(
    buyer, products, api_as, stripe_standin
):
    fill_cart(buyer, [(products[0], 1)])
    stripe_standin.unreachable = True
    response = stripe_checkout(api_as(buyer))
    assert response.status_code == 201
    data = response.json()
    assert (data["status"], data["payment"]["url"]) == ("pending_payment", None)
    assert stocks() == [9, 10]
    stripe_standin.unreachable = False
    paid = api_as(buyer).post(f"/api/v1/orders/{data['id']}/pay/")
    assert paid.status_code == 200
    assert paid.json()["payment"]["url"].startswith(stripe_standin.url)
    assert Payment.objects.filter(order_id=data["id"]).count() == 1  # the same attempt, opened now
    # Asking again while the page is open gives the same page, not a second session.
    assert (
        api_as(buyer).post(f"/api/v1/orders/{data['id']}/pay/").json()["payment"]["url"]
        == (paid.json()["payment"]["url"])
    )
    assert len(stripe_standin.all("checkout.session")) == 1


def test_an_amount_over_stripes_maximum_is_refused_before_anything_is_made(
    buyer, make_user, api_as, stripe_standin, settings
):
    settings.STRIPE_MAX_AMOUNT = 150_000
    (product,) = listings(make_user, price=80000, stock="10")
    fill_cart(buyer, [(product, 2)])
    response = stripe_checkout(api_as(buyer))
    assert response.status_code == 409
    assert response.json()["code"] == "amount_too_large"
    assert "150.000 ₫" in response.json()["detail"]
    assert not Order.objects.exists() and stocks() == [10]
    assert stripe_standin.requests == []


def test_card_payment_is_hidden_without_keys(buyer, products, api_as, settings):
    settings.STRIPE_SECRET_KEY = ""
    fill_cart(buyer, [(products[0], 1)])
    response = stripe_checkout(api_as(buyer))
    assert response.status_code == 400 and "payment_method" in response.json()
    methods = [m["method"] for m in api_as(buyer).get(CHECKOUT).json()["payment_methods"]]
    assert "stripe" not in methods and "cod" in methods


# --- Webhooks -------------------------------------------------------------------------------


def test_a_paid_session_confirms_the_order(
    card_order, stripe_standin, client, django_capture_on_commit_callbacks
):
    payment = card_order.payments.get()
    session = stripe_standin.complete(payment.reference)
    with django_capture_on_commit_callbacks(execute=True):
        response, _ = post_event(client, stripe_standin, "checkout.session.completed", session)
    assert response.status_code == 200
    card_order.refresh_from_db()
    payment.refresh_from_db()
    assert (card_order.status, card_order.payment_status) == ("confirmed", "paid")
    assert (payment.status, payment.paid_amount, payment.intent) == (
        "paid",
        card_order.total,
        session["payment_intent"],
    )
    assert set(card_order.farm_orders.values_list("status", flat=True)) == {"new"}
    assert WebhookEvent.objects.get().processed_at is not None


@pytest.mark.parametrize(
    "spoil",
    ["tampered", "wrong_secret", "six_minutes_old", "no_signature"],
)
def test_webhooks_not_signed_by_stripe_are_refused_and_write_nothing(
    card_order, stripe_standin, client, spoil
):
    session = stripe_standin.complete(card_order.payments.get().reference)
    payload = json.dumps(stripe_standin.event("checkout.session.completed", session)).encode()
    header = sign(payload, WEBHOOK_SECRET)
    if spoil == "tampered":
        payload = payload.replace(b'"paid"', b'"unpaid"', 1)
    elif spoil == "wrong_secret":
        header = sign(payload, "whsec_someone_else")
    elif spoil == "six_minutes_old":
        header = sign(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 360)
    extra = {} if spoil == "no_signature" else {"HTTP_STRIPE_SIGNATURE": header}
    response = client.post(WEBHOOK, payload, content_type="application/json", **extra)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
    card_order.refresh_from_db()
    assert card_order.status == "pending_payment"


def test_the_same_event_five_times_has_one_effect(
    card_order, stripe_standin, client, django_capture_on_commit_callbacks
):
    session = stripe_standin.complete(card_order.payments.get().reference)
    payload = json.dumps(stripe_standin.event("checkout.session.completed", session)).encode()
    answers = []
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            answers.append(
                client.post(
                    WEBHOOK,
                    payload,
                    content_type="application/json",
                    HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
                )
            )
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicate"] for a in answers] == [False, True, True, True, True]
    assert WebhookEvent.objects.count() == 1
    assert StatusChange.objects.filter(order=card_order, farm_order=None, to_status="confirmed").count() == 1


def _final_state(order):
    order.refresh_from_db()
    payment = order.payments.get()
    return (
        order.status,
        order.payment_status,
        payment.status,
        payment.paid_amount,
        payment.refunded_amount,
        sorted(order.farm_orders.values_list("status", flat=True)),
    )


def test_events_out_of_order_end_in_the_same_state(
    buyer, products, api_as, stripe_standin, client, make_user, django_capture_on_commit_callbacks
):
    states = []
    for order_of_events in (("completed", "refunded", "expired"), ("refunded", "expired", "completed")):
        shopper = make_user(Role.BUYER)
        fill_cart(shopper, [(products[0], 1)])
        order = Order.objects.get(pk=stripe_checkout(api_as(shopper)).json()["id"])
        session = stripe_standin.complete(order.payments.get().reference)
        charge = stripe_standin.refund_in_dashboard(session["payment_intent"], 20000)
        expired = {**session, "status": "expired"}
        events = {
            "completed": ("checkout.session.completed", session),
            "refunded": ("charge.refunded", charge),
            "expired": ("checkout.session.expired", expired),
        }
        with django_capture_on_commit_callbacks(execute=True):
            for name in order_of_events:
                response, _ = post_event(client, stripe_standin, *events[name])
                assert response.status_code == 200
        states.append(_final_state(order))
    assert states[0] == states[1]
    assert states[0][:4] == ("confirmed", "partially_refunded", "paid", states[0][3])
    assert states[0][4] == 20000
    assert Refund.objects.filter(external=True).count() == 2  # one per order, from the dashboard


def test_a_payment_for_a_cancelled_order_is_refunded_exactly_once(
    card_order, stripe_standin, client, buyer, django_capture_on_commit_callbacks
):
    payment = card_order.payments.get()
    # The buyer pays on Stripe's page the moment the order is cancelled here (its page is
    # closed after the cancel commits: too late), and the event arrives after the cancel.
    session = stripe_standin.complete(payment.reference)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=card_order, by=buyer)
    assert stocks() == [10, 10]
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_standin, "checkout.session.completed", session)
        post_event(
            client, stripe_standin, "payment_intent.succeeded", stripe_standin.get(session["payment_intent"])
        )
        services.payments_reconcile(now=timezone.now() + timedelta(minutes=10))
    (refund,) = stripe_standin.all("refund")
    assert refund["amount"] == payment.amount
    stored = Refund.objects.get()
    assert (stored.status, stored.amount, stored.reference) == ("succeeded", payment.amount, refund["id"])
    card_order.refresh_from_db()
    assert (card_order.status, card_order.payment_status) == ("cancelled", "refunded")
    assert stocks() == [10, 10]


# --- Refunds ---------------------------------------------------------------------------------


def _pay(order, standin):
    payment = order.payments.get()
    session = standin.complete(payment.reference)
    outcome = provider_for("stripe").parse_event(
        payload={"id": "evt_direct", "type": "checkout.session.completed", "data": {"object": session}}
    )
    services.payment_outcome_apply(method="stripe", outcome=outcome)
    return session


def test_a_rejected_part_of_a_card_order_is_refunded_through_stripe_once(
    card_order, stripe_standin, django_capture_on_commit_callbacks
):
    session = _pay(card_order, stripe_standin)
    first = card_order.farm_orders.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.farm_order_reject(farm_order=first, by=first.farm.owner, reason="Hết hàng")
    (refund,) = stripe_standin.all("refund")
    assert (refund["amount"], refund["payment_intent"]) == (first.subtotal, session["payment_intent"])
    stored = Refund.objects.get()
    assert stored.status == "succeeded"
    # The task runs again (a retry after a crash): Stripe sees the same key, nothing more moves.
    services.refund_send(refund=stored)
    Refund.objects.filter(pk=stored.pk).update(status="pending")
    services.refund_send(refund=stored)
    assert len(stripe_standin.all("refund")) == 1
    keys = {r.idempotency_key for r in stripe_standin.requests_to("POST", "/v1/refunds")}
    assert keys == {f"cho-noi-refund-{stored.key}"}
    card_order.refresh_from_db()
    assert card_order.payment_status == "partially_refunded"


def test_a_refund_made_in_stripes_dashboard_is_reflected(
    card_order, stripe_standin, client, django_capture_on_commit_callbacks
):
    session = _pay(card_order, stripe_standin)
    paid = card_order.total
    charge = stripe_standin.refund_in_dashboard(session["payment_intent"], paid)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_standin, "charge.refunded", charge)
        post_event(client, stripe_standin, "charge.refunded", charge)  # a later copy of the same refund
    card_order.refresh_from_db()
    assert card_order.payment_status == "refunded"
    refund = Refund.objects.get()
    assert (refund.amount, refund.external, refund.status) == (paid, True, "succeeded")
    # Refunded in full before anyone packed it: nobody prepares goods nobody paid for.
    assert card_order.status == "cancelled"
    assert set(card_order.farm_orders.values_list("status", flat=True)) == {"cancelled"}
    assert stocks() == [10, 10]
    assert len(stripe_standin.all("refund")) == 1  # the dashboard's; nothing refunded twice


# --- Holding stock, reconciling --------------------------------------------------------------


def test_the_hold_expires_with_frozen_time_and_returns_the_stock_once(card_order, stripe_standin, settings):
    assert stocks() == [8, 8]
    payment = card_order.payments.get()
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES - 1)):
        assert services.payments_expire_unpaid() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES + 2)):
        assert services.payments_expire_unpaid() == 1
        assert services.payments_expire_unpaid() == 0
    assert stocks() == [10, 10]
    card_order.refresh_from_db()
    assert card_order.status == "cancelled"
    assert stripe_standin.get(payment.reference)["status"] == "expired"
    assert StatusChange.objects.filter(order=card_order, farm_order=None, to_status="cancelled").count() == 1


def test_reconciliation_repairs_a_webhook_that_never_came(card_order, stripe_standin):
    stripe_standin.complete(card_order.payments.get().reference)
    # Stripe's list of paid sessions shows it at once; asking about each unpaid order waits 5 minutes.
    assert services.payments_reconcile() == 1
    card_order.refresh_from_db()
    assert (card_order.status, card_order.payment_status) == ("confirmed", "paid")
    assert services.payments_reconcile(now=timezone.now() + timedelta(minutes=6)) == 0
    assert StatusChange.objects.filter(order=card_order, farm_order=None, to_status="confirmed").count() == 1


def test_reconciliation_finds_an_expired_page(card_order, stripe_standin):
    stripe_standin.get(card_order.payments.get().reference)
    provider_for("stripe").cancel(payment=card_order.payments.get())
    services.payments_reconcile(now=timezone.now() + timedelta(minutes=6))
    card_order.refresh_from_db()
    assert card_order.status == "cancelled" and stocks() == [10, 10]


def test_a_partial_cancel_closes_the_card_page_and_pay_opens_one_for_the_new_total(
    card_order, stripe_standin, buyer, api_as, django_capture_on_commit_callbacks
):
    first = card_order.payments.get()
    part = card_order.farm_orders.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=card_order, by=buyer, farm_order_ids=[part.pk])
    assert stripe_standin.get(first.reference)["status"] == "expired"  # the old total can't be paid
    response = api_as(buyer).post(f"/api/v1/orders/{card_order.pk}/pay/")
    assert response.status_code == 200
    card_order.refresh_from_db()
    attempts = list(card_order.payments.order_by("attempt").values_list("attempt", "status", "amount"))
    assert attempts == [(1, "cancelled", first.amount), (2, "pending", card_order.total)]
    session = stripe_standin.all("checkout.session")[-1]
    assert session["amount_total"] == card_order.total == first.amount - part.subtotal
    assert response.json()["payment"]["url"] == session["url"]


def test_an_old_page_paid_after_a_partial_cancel_confirms_and_refunds_the_difference(
    card_order, stripe_standin, buyer, client, django_capture_on_commit_callbacks
):
    first = card_order.payments.get()
    session = stripe_standin.complete(first.reference)  # paid the old total just before the cancel
    part = card_order.farm_orders.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=card_order, by=buyer, farm_order_ids=[part.pk])
        post_event(client, stripe_standin, "checkout.session.completed", session)
    card_order.refresh_from_db()
    # The old page's payment covers the new total: the order is confirmed, the difference refunded.
    assert (card_order.status, card_order.payment_status) == ("confirmed", "partially_refunded")
    assert [r["amount"] for r in stripe_standin.all("refund")] == [part.subtotal]
    first.refresh_from_db()
    assert (first.status, first.amount, first.paid_amount, first.refunded_amount) == (
        "paid",
        card_order.total,
        card_order.total + part.subtotal,
        part.subtotal,
    )


def test_pay_again_past_the_hold_is_refused(card_order, buyer, api_as, settings):
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES + 10)):
        response = api_as(buyer).post(f"/api/v1/orders/{card_order.pk}/pay/")
    assert response.status_code == 409 and response.json()["code"] == "hold_expired"
    assert card_order.payments.count() == 1


def test_a_paid_order_cannot_be_paid_again(card_order, stripe_standin, buyer, api_as):
    _pay(card_order, stripe_standin)
    response = api_as(buyer).post(f"/api/v1/orders/{card_order.pk}/pay/")
    assert response.status_code == 409 and response.json()["code"] == "not_payable"


def test_only_the_buyer_pays_their_order(card_order, make_user, api_as):
    other = make_user(Role.BUYER)
    assert api_as(other).post(f"/api/v1/orders/{card_order.pk}/pay/").status_code == 404
    assert Client().post(f"/api/v1/orders/{card_order.pk}/pay/").status_code in (401, 403)


def test_quantities_with_decimals_go_to_stripe_as_one_line_each(buyer, make_user, api_as, stripe_standin):
    (product,) = listings(make_user, price=45000, stock="10", min_order="0.5")
    fill_cart(buyer, [(product, Decimal("1.5"))])
    assert stripe_checkout(api_as(buyer)).status_code == 201
    (create,) = stripe_standin.requests_to("POST", "/v1/checkout/sessions")
    first = create.params["line_items"][0]
    assert int(first["price_data"]["unit_amount"]) == 67500
    assert "1.5" in first["price_data"]["product_data"]["name"]


# --- Pages -----------------------------------------------------------------------------------


def test_the_card_path_through_the_pages(buyer, products, stripe_standin, client):
    client.force_login(buyer)
    fill_cart(buyer, [(products[0], 2)])
    page = client.get("/thanh-toan/")
    assert 'value="stripe"' in page.content.decode()
    form = {
        "name": "Chị Lan",
        "phone": "0912 345 678",
        "ward": delivery()["ward"],
        "address": "12 đường 30/4",
        "payment_method": "stripe",
        "cart_version": page.context["form"].initial["cart_version"],
    }
    placed = client.post("/thanh-toan/", form)
    order = Order.objects.get()
    payment = order.payments.get()
    assert placed.status_code == 302 and placed["Location"] == payment.pay_url
    # The buyer gives up on Stripe's page and comes back.
    back = client.get(f"/don-hang/{order.number}/?payment=cancelled", follow=True)
    text = back.content.decode()
    assert f'action="/don-hang/{order.number}/thanh-toan/"' in text
    again = client.post(f"/don-hang/{order.number}/thanh-toan/")
    assert again["Location"] == payment.pay_url  # the same page while it is open
    # Paid: the order page no longer offers to pay.
    _pay(order, stripe_standin)
    done = client.get(f"/don-hang/{order.number}/?payment=done").content.decode()
    assert f'action="/don-hang/{order.number}/thanh-toan/"' not in done
    assert client.post(f"/don-hang/{order.number}/thanh-toan/").status_code == 302


# --- Found in review: races and lost messages ---------------------------------------------------


def test_the_hold_sweep_confirms_an_order_paid_at_the_last_minute(card_order, stripe_standin, settings):
    stripe_standin.complete(card_order.payments.get().reference)  # paid; its event is still on its way
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES + 2)):
        assert services.payments_expire_unpaid() == 0
    card_order.refresh_from_db()
    assert (card_order.status, card_order.payment_status) == ("confirmed", "paid")
    assert stocks() == [8, 8]


def test_two_paid_attempts_keep_one_and_give_the_other_back(
    card_order, stripe_standin, buyer, api_as, client, django_capture_on_commit_callbacks
):
    first = card_order.payments.get()
    part = card_order.farm_orders.order_by("pk").first()
    stripe_standin.unreachable = True  # closing the old page fails: it stays payable
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=card_order, by=buyer, farm_order_ids=[part.pk])
    stripe_standin.unreachable = False
    api_as(buyer).post(f"/api/v1/orders/{card_order.pk}/pay/")
    second = card_order.payments.get(attempt=2)
    paid_second = stripe_standin.complete(second.reference)
    paid_first = stripe_standin.complete(first.reference)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_standin, "checkout.session.completed", paid_second)
        post_event(client, stripe_standin, "checkout.session.completed", paid_first)
    card_order.refresh_from_db()
    assert (card_order.status, card_order.payment_status) == ("confirmed", "paid")
    first.refresh_from_db()
    assert (first.status, first.refunded_amount) == ("returned", first.paid_amount)
    # A later rejection (of the last part: the delivery fee goes back too) refunds from the
    # payment that holds the money.
    other = card_order.farm_orders.order_by("pk").last()
    fee = card_order.delivery_fee
    with django_capture_on_commit_callbacks(execute=True):
        services.farm_order_reject(farm_order=other, by=other.farm.owner, reason="Hết hàng")
    refunds = stripe_standin.all("refund")
    assert sorted((r["payment_intent"], r["amount"]) for r in refunds) == sorted(
        [
            (paid_first["payment_intent"], first.paid_amount),
            (paid_second["payment_intent"], other.subtotal),
            (paid_second["payment_intent"], fee),
        ]
    )


def test_an_event_received_while_the_broker_is_down_is_processed_when_it_is_back(
    card_order, stripe_standin, client, broker_down, django_capture_on_commit_callbacks
):
    session = stripe_standin.complete(card_order.payments.get().reference)
    payload = json.dumps(stripe_standin.event("checkout.session.completed", session)).encode()
    header = sign(payload, WEBHOOK_SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert first.status_code == 200  # acknowledged: the event is stored with its task
    event = WebhookEvent.objects.get()
    assert event.processed_at is None
    # Stripe sends it again: still one event, acknowledged as a duplicate.
    again = client.post(WEBHOOK, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert again.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1
    broker_down.back()
    event.refresh_from_db()
    card_order.refresh_from_db()
    assert event.processed_at is not None
    assert card_order.status == "confirmed"


def test_unprocessed_events_are_queued_again_by_the_sweep(
    card_order, stripe_standin, django_capture_on_commit_callbacks
):
    session = stripe_standin.complete(card_order.payments.get().reference)
    WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_lost",
        type="checkout.session.completed",
        payload=stripe_standin.event("checkout.session.completed", session),
    )
    assert services.webhooks_reprocess() == 0  # just received: its own task may still be running
    with django_capture_on_commit_callbacks(execute=True):
        assert services.webhooks_reprocess(now=timezone.now() + timedelta(minutes=3)) == 1
    card_order.refresh_from_db()
    assert card_order.status == "confirmed"


def test_a_refund_stripe_refuses_is_failed_and_taken_off_the_books_until_retried(
    card_order, stripe_standin, client, django_capture_on_commit_callbacks
):
    session = _pay(card_order, stripe_standin)
    charge = stripe_standin.refund_in_dashboard(session["payment_intent"])  # all of it, behind our back
    part = card_order.farm_orders.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.farm_order_reject(farm_order=part, by=part.farm.owner, reason="Hết hàng")
    refund = Refund.objects.get()
    payment = card_order.payments.get()
    assert refund.status == "failed" and refund.error.startswith("stripe_refused")
    assert payment.refunded_amount == 0  # not sent: off the books until we know better
    with django_capture_on_commit_callbacks(execute=True):
        services.refund_retry(refund=refund)
    refund.refresh_from_db()
    assert refund.status == "failed"  # Stripe still refuses: staff see it again, nothing counted twice
    # Stripe's event about the dashboard refund puts the books right.
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_standin, "charge.refunded", charge)
    payment.refresh_from_db()
    card_order.refresh_from_db()
    assert payment.refunded_amount == payment.paid_amount == charge["amount_refunded"]
    assert card_order.payment_status == "refunded"
    with pytest.raises(Conflict):
        services.refund_retry(refund=refund)  # nothing left to refund on this payment


def test_a_refund_whose_answer_was_lost_is_found_not_failed(card_order, stripe_standin):
    import stripe as stripe_library

    _pay(card_order, stripe_standin)
    part = card_order.farm_orders.order_by("pk").first()
    services.farm_order_reject(farm_order=part, by=part.farm.owner, reason="Hết hàng")  # not sent yet
    refund = Refund.objects.get()
    payment = card_order.payments.get()
    # Stripe made it (its answer never reached us), and then all the rest was refunded too.
    stripe_library.StripeClient(
        "sk_test_standin", base_addresses={"api": stripe_standin.url}
    ).v1.refunds.create(
        params={
            "payment_intent": payment.intent,
            "amount": payment.paid_amount,
            "metadata": {"key": refund.key},
        }
    )
    assert services.refund_send(refund=refund).status == "succeeded"
    refund.refresh_from_db()
    assert refund.reference.startswith("re_")


def test_a_partially_cancelled_card_order_nobody_pays_again_expires(
    card_order, stripe_standin, buyer, settings, django_capture_on_commit_callbacks
):
    part = card_order.farm_orders.order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=card_order, by=buyer, farm_order_ids=[part.pk])
    assert stocks() == [10, 8]
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES + 2)):
        assert services.payments_expire_unpaid() == 1
    card_order.refresh_from_db()
    assert card_order.status == "cancelled" and stocks() == [10, 10]


def test_a_full_dashboard_refund_leaves_parts_being_packed_to_staff(
    card_order, stripe_standin, client, django_capture_on_commit_callbacks
):
    session = _pay(card_order, stripe_standin)
    packing, untouched = card_order.farm_orders.order_by("pk")
    services.farm_order_accept(farm_order=packing, by=packing.farm.owner)
    charge = stripe_standin.refund_in_dashboard(session["payment_intent"])
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_standin, "charge.refunded", charge)
    statuses = dict(card_order.farm_orders.values_list("pk", "status"))
    assert statuses == {packing.pk: "accepted", untouched.pk: "cancelled"}


def test_card_refunds_cannot_be_marked_paid_back_by_hand(card_order, stripe_standin):
    _pay(card_order, stripe_standin)
    part = card_order.farm_orders.order_by("pk").first()
    services.farm_order_reject(farm_order=part, by=part.farm.owner, reason="Hết hàng")
    with pytest.raises(Conflict):
        services.refund_mark_sent(refund=Refund.objects.get(), by=None)
    assert Refund.objects.get().status == "pending"


def test_one_payment_that_cannot_be_repaired_does_not_stop_reconciliation(
    card_order, stripe_standin, buyer, make_user, api_as
):
    Payment.objects.filter(order=card_order).update(amount=card_order.total + 1)  # disagrees with Stripe
    stripe_standin.complete(card_order.payments.get().reference)
    shopper = make_user(Role.BUYER)
    fill_cart(shopper, [(Product.objects.order_by("pk").last(), 1)])
    other = Order.objects.get(pk=stripe_checkout(api_as(shopper)).json()["id"])
    stripe_standin.complete(other.payments.get().reference)
    services.payments_reconcile(now=timezone.now() + timedelta(minutes=6))
    other.refresh_from_db()
    card_order.refresh_from_db()
    assert other.status == "confirmed"
    assert card_order.status == "pending_payment"


def test_a_stripe_refusal_at_checkout_still_answers_the_order_without_a_page(
    buyer, products, api_as, stripe_standin, settings
):
    fill_cart(buyer, [(products[0], 1)])
    settings.STRIPE_SECRET_KEY = "rk_revoked_1234567890"  # Stripe answers 401
    response = stripe_checkout(api_as(buyer))
    assert response.status_code == 201
    assert response.json()["payment"]["url"] is None
    assert "rk_revoked" not in response.content.decode()


def test_an_event_naming_our_payment_id_for_another_order_is_not_applied(card_order, stripe_standin):
    payment = card_order.payments.get()
    foreign = {
        "id": "cs_someone_else",
        "object": "checkout.session",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": payment.amount,
        "currency": "vnd",
        "payment_intent": "pi_someone_else",
        "metadata": {"cho_noi_payment": str(payment.pk), "cho_noi_order": "CN-0101-0000"},
    }
    outcome = provider_for("stripe").parse_event(
        payload={"id": "evt_x", "type": "checkout.session.completed", "data": {"object": foreign}}
    )
    assert services.payment_outcome_apply(method="stripe", outcome=outcome) is None
    card_order.refresh_from_db()
    assert card_order.status == "pending_payment"


def test_a_card_order_weighed_lighter_is_refunded_the_difference(
    card_order, stripe_standin, django_capture_on_commit_callbacks
):
    session = _pay(card_order, stripe_standin)
    part = card_order.farm_orders.order_by("pk").first()
    services.farm_order_accept(farm_order=part, by=part.farm.owner)
    line = part.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.farm_order_ready(farm_order=part, by=part.farm.owner, actual_quantities={line.pk: "1.8"})
    # 0.2 kg lighter at 50,000 đồng a kilo
    (refund,) = stripe_standin.all("refund")
    assert (refund["amount"], refund["payment_intent"]) == (10000, session["payment_intent"])
    card_order.refresh_from_db()
    assert card_order.payment_status == "partially_refunded"
    payment = card_order.payments.get()
    assert payment.paid_amount - payment.refunded_amount == card_order.total
