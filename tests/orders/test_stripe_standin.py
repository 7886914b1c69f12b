"""The Stripe stand-in (tests/stripe_standin.py), exercised through the real stripe library.

These tests pin the stand-in to the calls the app makes, so that when the app's Stripe tests pass
against it, they pass for the reasons real Stripe would give. No database.
"""

import http.client
import json
import threading
import time
import urllib.request
from urllib.parse import urlsplit

import pytest
import stripe

from tests.stripe_standin import API_VERSION, VND_MAX, StripeStandin, parse_form, sign

SECRET = "whsec_standin"


@pytest.fixture
def standin():
    with StripeStandin() as running:
        yield running


@pytest.fixture
def client(standin):
    return stripe.StripeClient("sk_test_standin", base_addresses={"api": standin.url}, max_network_retries=0)


def session_params(**overrides):
    """What the app sends for an order of mangosteens and durian."""
    params = {
        "mode": "payment",
        "currency": "vnd",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "vnd",
                    "unit_amount": 96000,
                    "product_data": {"name": "Măng cụt × 2 kg"},
                },
            },
            {
                "quantity": 3,
                "price_data": {
                    "currency": "vnd",
                    "unit_amount": 150000,
                    "product_data": {"name": "Sầu riêng Ri6 × 1 kg"},
                },
            },
        ],
        "client_reference_id": "CN-3011-1234",
        "metadata": {"order_id": "12", "payment_id": "34"},
        "payment_intent_data": {"metadata": {"order_id": "12", "payment_id": "34"}},
        "success_url": "http://127.0.0.1:8000/orders/12/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:8000/orders/12/",
        "expires_at": int(time.time()) + 3600,
        "locale": "vi",
    }
    return params | overrides


def one_item(quantity=1, unit_amount=96000, currency="vnd"):
    return [
        {
            "quantity": quantity,
            "price_data": {
                "currency": currency,
                "unit_amount": unit_amount,
                "product_data": {"name": "Bưởi"},
            },
        }
    ]


def paid_session(client, standin, **overrides):
    session = client.v1.checkout.sessions.create(params=session_params(**overrides))
    return standin.complete(session.id)


# -- the wire format --------------------------------------------------------------------------------


def test_parse_form_builds_nested_dicts_and_lists():
    query = (
        "mode=payment&line_items[0][quantity]=1&line_items[1][price_data][unit_amount]=5"
        "&metadata[order_id]=12&created%5Bgte%5D=7&expand[]=a&expand[]=b&name=M%C4%83ng+c%E1%BB%A5t"
    )
    assert parse_form(query) == {
        "mode": "payment",
        "line_items": [{"quantity": "1"}, {"price_data": {"unit_amount": "5"}}],
        "metadata": {"order_id": "12"},
        "created": {"gte": "7"},
        "expand": ["a", "b"],
        "name": "Măng cụt",
    }


def test_requests_are_recorded_as_the_library_sends_them(client, standin):
    client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-1"})
    (request,) = standin.requests
    assert (request.method, request.path, request.idempotency_key, request.status) == (
        "POST",
        "/v1/checkout/sessions",
        "k-1",
        200,
    )
    # Form values arrive as strings, lists by index, Vietnamese intact.
    assert request.params["line_items"][1]["price_data"]["unit_amount"] == "150000"
    assert request.params["line_items"][0]["price_data"]["product_data"]["name"] == "Măng cụt × 2 kg"
    assert request.params["payment_intent_data"] == {"metadata": {"order_id": "12", "payment_id": "34"}}


def test_a_wrong_key_is_refused(standin):
    for key in ("sk_live_real_money", "pk_test_publishable"):
        other = stripe.StripeClient(key, base_addresses={"api": standin.url}, max_network_retries=0)
        with pytest.raises(stripe.AuthenticationError):
            other.v1.checkout.sessions.retrieve("cs_test_x")
    assert [r.status for r in standin.requests] == [401, 401]


def test_unknown_urls_and_parameters_fail_loudly(client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.customers.create(params={"email": "an@example.vn"})
    assert error.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.create(params=session_params(customer_email="an@example.vn"))
    assert (error.value.code, error.value.param) == ("parameter_unknown", "customer_email")


# -- checkout sessions ------------------------------------------------------------------------------


def test_create_a_session(client, standin):
    expires_at = int(time.time()) + 1800
    session = client.v1.checkout.sessions.create(
        params=session_params(expires_at=expires_at),
        options={"idempotency_key": "cho-noi-payment-34-session"},
    )
    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.url == f"{standin.url}/pay/{session.id}"
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert session.amount_total == 96000 + 3 * 150000
    assert session.currency == "vnd"
    assert session.expires_at == expires_at
    assert abs(session.created - time.time()) < 5
    assert session.metadata.to_dict() == {"order_id": "12", "payment_id": "34"}
    assert (session.client_reference_id, session.locale) == ("CN-3011-1234", "vi")
    assert client.v1.checkout.sessions.retrieve(session.id).to_dict() == session.to_dict()


def test_the_hosted_payment_page_takes_the_payment_and_sends_the_buyer_back(client, standin):
    session = client.v1.checkout.sessions.create(params=session_params())
    with urllib.request.urlopen(session.url) as page:
        shown = page.read().decode()
    assert "546.000 VND" in shown and '<button type="submit">Pay</button>' in shown
    host, port = urlsplit(session.url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", urlsplit(session.url).path)
    answer = connection.getresponse()
    assert answer.status == 303
    assert answer.getheader("Location") == session.success_url.replace("{CHECKOUT_SESSION_ID}", session.id)
    paid = client.v1.checkout.sessions.retrieve(session.id)
    assert (paid.status, paid.payment_status) == ("complete", "paid")


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"currency": "usd"}, "currency"),
        ({"line_items": one_item(currency="usd")}, "line_items[0][price_data]"),
        ({"line_items": one_item(quantity=0)}, "line_items[0][quantity]"),
        ({"line_items": one_item(quantity=-2)}, "line_items[0][quantity]"),
        ({"line_items": one_item(quantity="1.5")}, "line_items[0][quantity]"),
        ({"line_items": one_item(unit_amount=-1)}, "line_items[0][price_data][unit_amount]"),
        ({"line_items": one_item(quantity=2, unit_amount=50_000_000)}, "amount"),
        ({"line_items": []}, "line_items"),
        ({"mode": "subscription"}, "mode"),
        ({"payment_intent_data": {"capture_method": "manual"}}, "payment_intent_data[capture_method]"),
        ({"expires_at": int(time.time()) + 600}, "expires_at"),  # under 30 minutes
        ({"expires_at": int(time.time()) + 25 * 3600}, "expires_at"),  # over 24 hours
    ],
)
def test_invalid_sessions_are_refused(client, standin, change, param):
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.create(params=session_params(**change))
    assert error.value.http_status == 400
    assert error.value.param == param
    assert error.value.error.type == "invalid_request_error"
    assert standin.all("checkout.session") == []


def test_the_vnd_maximum_itself_is_accepted(client):
    top = session_params(line_items=one_item(unit_amount=VND_MAX))
    assert client.v1.checkout.sessions.create(params=top).amount_total == VND_MAX
    over = session_params(line_items=one_item(unit_amount=VND_MAX + 1))
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.create(params=over)
    assert error.value.code == "amount_too_large"


def test_an_unknown_session_is_a_404(client):
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (error.value.http_status, error.value.code) == (404, "resource_missing")


def test_expire_an_open_session_but_not_a_complete_one(client, standin):
    session = client.v1.checkout.sessions.create(params=session_params())
    expired = client.v1.checkout.sessions.expire(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(ValueError, match="expired"):
        standin.complete(session.id)

    paid = paid_session(client, standin)
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.checkout.sessions.expire(paid["id"])
    assert error.value.http_status == 400
    assert "complete" in error.value.user_message


def test_a_session_expires_at_its_expires_at(client, standin):
    session = client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + 1800))
    standin.clock = lambda: session.expires_at
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


# -- idempotency --------------------------------------------------------------------------------


def test_same_key_same_body_returns_the_same_session(client, standin):
    options = {"idempotency_key": "cho-noi-payment-34-session"}
    params = session_params()
    first = client.v1.checkout.sessions.create(params=params, options=options)
    second = client.v1.checkout.sessions.create(params=params, options=options)
    assert second.id == first.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(standin.requests_to("POST", "/v1/checkout/sessions")) == 2
    assert len(standin.all("checkout.session")) == 1


def test_a_replay_answers_what_was_first_answered(client, standin):
    options = {"idempotency_key": "k-replay"}
    params = session_params()
    first = client.v1.checkout.sessions.create(params=params, options=options)
    standin.complete(first.id)
    assert client.v1.checkout.sessions.create(params=params, options=options).status == "open"


def test_same_key_other_body_is_an_idempotency_error(client, standin):
    options = {"idempotency_key": "k-2"}
    client.v1.checkout.sessions.create(params=session_params(), options=options)
    other = session_params(client_reference_id="CN-3011-9999")
    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(params=other, options=options)
    assert len(standin.all("checkout.session")) == 1


def test_a_refused_request_is_not_saved_for_replay(client, standin):
    options = {"idempotency_key": "k-3"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=session_params(currency="usd"), options=options)
    assert client.v1.checkout.sessions.create(params=session_params(), options=options).status == "open"


def test_the_library_adds_a_key_of_its_own_to_every_post(client, standin):
    session = client.v1.checkout.sessions.create(params=session_params())
    client.v1.checkout.sessions.expire(session.id)
    client.v1.checkout.sessions.retrieve(session.id)
    keys = [r.idempotency_key for r in standin.requests]
    assert keys[0] and keys[1] and keys[0] != keys[1]
    assert keys[2] is None


def test_concurrent_calls_with_one_key_create_one_session(client, standin):
    ids, params = [], session_params()

    def create():
        ids.append(client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k-4"}).id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert len(standin.all("checkout.session")) == 1


# -- listing --------------------------------------------------------------------------------------


def test_list_filters_by_status_and_created(client, standin):
    now = int(time.time())
    standin.clock = lambda: now - 7200
    old = paid_session(client, standin, expires_at=now)
    standin.clock = lambda: now
    paid = [paid_session(client, standin, expires_at=now + 3600)["id"] for _ in range(2)]
    client.v1.checkout.sessions.create(params=session_params(expires_at=now + 3600))  # still open
    found = client.v1.checkout.sessions.list(
        params={"status": "complete", "created": {"gte": now - 60}, "limit": 100}
    )
    assert [s.id for s in found.data] == paid[::-1]  # newest first
    assert found.has_more is False
    assert old["id"] not in {s.id for s in found.data}
    (request,) = standin.requests_to("GET", "/v1/checkout/sessions")
    assert request.params == {"status": "complete", "created": {"gte": str(now - 60)}, "limit": "100"}


def test_auto_paging_walks_every_page_keeping_the_filters(client, standin):
    ids = {paid_session(client, standin)["id"] for _ in range(5)}
    client.v1.checkout.sessions.create(params=session_params())  # open: filtered out
    pages = client.v1.checkout.sessions.list(params={"status": "complete", "limit": 2})
    assert {s.id for s in pages.auto_paging_iter()} == ids
    requests = standin.requests_to("GET", "/v1/checkout/sessions")
    assert len(requests) == 3
    assert all(r.params["status"] == "complete" for r in requests)
    assert "starting_after" in requests[1].params


# -- paying, failing, refunding -------------------------------------------------------------------


def test_complete_pays_the_session(client, standin):
    session = client.v1.checkout.sessions.create(params=session_params())
    paid = standin.complete(session.id)
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    intent = client.v1.payment_intents.retrieve(paid["payment_intent"])
    assert intent.id.startswith("pi_")
    assert (intent.status, intent.amount, intent.amount_received, intent.currency) == (
        "succeeded",
        session.amount_total,
        session.amount_total,
        "vnd",
    )
    assert intent.metadata.to_dict() == {"order_id": "12", "payment_id": "34"}
    charge = standin.get(intent.latest_charge)
    assert (charge["amount"], charge["amount_refunded"]) == (session.amount_total, 0)
    assert (charge["payment_intent"], charge["refunded"]) == (intent.id, False)
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_a_declined_card_leaves_the_session_open(client, standin):
    session = client.v1.checkout.sessions.create(params=session_params())
    intent = standin.fail_payment(session.id)
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["code"] == "card_declined"
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert (again.status, again.payment_status, again.payment_intent) == ("open", "unpaid", intent["id"])
    assert standin.complete(session.id)["payment_intent"] == intent["id"]  # the retry succeeds


def test_refunds_up_to_what_is_left(client, standin):
    intent_id = paid_session(client, standin, line_items=one_item(unit_amount=100000))["payment_intent"]
    refund = client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 30000, "metadata": {"refund_id": "7"}},
        options={"idempotency_key": "cho-noi-refund-7"},
    )
    assert refund.id.startswith("re_")
    assert (refund.object, refund.status, refund.amount, refund.payment_intent) == (
        "refund",
        "succeeded",
        30000,
        intent_id,
    )
    assert refund.metadata.to_dict() == {"refund_id": "7"}
    charge = standin.get(refund.charge)
    assert (charge["amount_refunded"], charge["refunded"]) == (30000, False)

    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 70001})
    assert (error.value.http_status, error.value.code) == (400, "amount_too_large")

    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 70000})
    assert standin.get(refund.charge)["refunded"] is True
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 1})
    assert error.value.code == "charge_already_refunded"


def test_a_retried_refund_refunds_once(client, standin):
    intent_id = paid_session(client, standin)["payment_intent"]
    params, options = {"payment_intent": intent_id, "amount": 50000}, {"idempotency_key": "cho-noi-refund-8"}
    first = client.v1.refunds.create(params=params, options=options)
    assert client.v1.refunds.create(params=params, options=options).id == first.id
    assert standin.get(first.charge)["amount_refunded"] == 50000
    assert len(standin.all("refund")) == 1


def test_a_dashboard_refund_leaves_less_to_refund(client, standin):
    intent_id = paid_session(client, standin, line_items=one_item(unit_amount=100000))["payment_intent"]
    charge = standin.refund_in_dashboard(intent_id, 60000)
    assert (charge["object"], charge["amount_refunded"], charge["refunded"]) == ("charge", 60000, False)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 50000})
    assert standin.refund_in_dashboard(intent_id)["refunded"] is True  # the rest


def test_an_unpaid_intent_cannot_be_refunded(client, standin):
    session = client.v1.checkout.sessions.create(params=session_params())
    intent = standin.fail_payment(session.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent["id"], "amount": 1000})


# -- an unreachable Stripe ------------------------------------------------------------------------


def test_unreachable_raises_a_connection_error_at_once(client, standin):
    standin.unreachable = True
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-5"})
    assert time.monotonic() - started < 2
    assert [r.status for r in standin.requests] == [None]  # one attempt: no retries
    assert standin.all("checkout.session") == []

    standin.unreachable = False
    assert client.v1.checkout.sessions.create(params=session_params(), options={"idempotency_key": "k-5"}).id


def test_a_stopped_standin_is_a_connection_error(client, standin):
    standin.stop()
    with pytest.raises(stripe.APIConnectionError):
        client.v1.checkout.sessions.retrieve("cs_test_x")


# -- webhooks -------------------------------------------------------------------------------------


def test_events_carry_a_copy_of_the_object(client, standin):
    session = paid_session(client, standin)
    event = standin.event("checkout.session.completed", session)
    assert event["id"].startswith("evt_")
    assert (event["object"], event["type"]) == ("event", "checkout.session.completed")
    assert event["livemode"] is False
    assert event["data"]["object"] == session and event["data"]["object"] is not session
    assert event["api_version"] == API_VERSION == stripe.api_version


def test_signed_events_are_accepted_by_the_library(client, standin):
    payload = json.dumps(standin.event("checkout.session.completed", paid_session(client, standin))).encode()
    event = stripe.Webhook.construct_event(payload, sign(payload, SECRET), SECRET)
    assert event.type == "checkout.session.completed"
    assert event.data.object.payment_status == "paid"


@pytest.mark.parametrize("tamper", ["payload", "secret", "old"])
def test_bad_signatures_are_refused_by_the_library(standin, tamper):
    payload = json.dumps(standin.event("charge.refunded", {"id": "ch_x", "object": "charge"})).encode()
    header = sign(payload, SECRET, timestamp=int(time.time()) - 360 if tamper == "old" else None)
    body = payload.replace(b"ch_x", b"ch_y") if tamper == "payload" else payload
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_other" if tamper == "secret" else SECRET)
