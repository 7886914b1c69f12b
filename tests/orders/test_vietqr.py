"""VietQR bank transfer: the code on the order, staff or the bank confirm, unpaid orders expire."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from farms.models import Product
from marketplace.accounts.models import Role
from orders.models import Order, StatusChange, WebhookEvent
from orders.payments.vietqr_payload import read_transfer
from orders.services import payments_expire_unpaid
from tests.orders.factories import delivery, fill_cart, listings

pytestmark = pytest.mark.django_db


@pytest.fixture
def transfer_order(buyer, make_user, api_as):
    (product,) = listings(make_user, price=62000, stock="10")
    fill_cart(buyer, [(product, 2)])
    response = api_as(buyer).post(
        "/api/v1/checkout/", {"delivery": delivery(), "payment_method": "vietqr"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_the_order_carries_a_vietqr_code_for_its_amount_and_number(transfer_order, settings):
    assert transfer_order["status"] == "pending_payment"
    payment = transfer_order["payment"]
    assert payment["url"] is None
    transfer = read_transfer(payment["qr_payload"])
    assert (transfer.bank_bin, transfer.account) == (settings.VIETQR_BANK_BIN, settings.VIETQR_ACCOUNT_NUMBER)
    assert (transfer.amount, transfer.note) == (transfer_order["total"], transfer_order["number"])
    assert payment["qr_png"].startswith("data:image/png;base64,")
    assert transfer_order["number"] in payment["instructions"]


def test_staff_mark_the_transfer_received_in_the_admin(transfer_order, make_user, client):
    staff = make_user(Role.STAFF)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    order = Order.objects.get(pk=transfer_order["id"])
    payment = order.payments.get()
    response = client.post(
        "/admin/orders/payment/", {"action": "transfer_received", "_selected_action": [payment.pk]}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("confirmed", "paid")
    note = StatusChange.objects.filter(order=order, by=staff).last()
    assert note.note == "Bank transfer received (checked by staff)."
    # Twice is once.
    client.post("/admin/orders/payment/", {"action": "transfer_received", "_selected_action": [payment.pk]})
    assert (
        StatusChange.objects.filter(order=order, from_status="pending_payment", to_status="confirmed").count()
        == 1
    )
    assert StatusChange.objects.filter(order=order, by=staff).count() == 1


def test_the_banks_notification_with_its_secret_pays_the_order(
    transfer_order, client, settings, django_capture_on_commit_callbacks
):
    settings.VIETQR_WEBHOOK_SECRET = "bank-secret"
    number = transfer_order["number"].replace("-", "")  # banks often drop the dashes
    body = json.dumps({"id": "FT2611001", "amount": transfer_order["total"], "note": f"{number} rau"})
    refused = client.post(
        "/webhooks/vietqr/", body, content_type="application/json", HTTP_X_WEBHOOK_SECRET="guess"
    )
    assert refused.status_code == 400 and not WebhookEvent.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            "/webhooks/vietqr/", body, content_type="application/json", HTTP_X_WEBHOOK_SECRET="bank-secret"
        )
    assert ok.status_code == 200
    order = Order.objects.get(pk=transfer_order["id"])
    assert (order.status, order.payment_status) == ("confirmed", "paid")


def test_a_short_transfer_does_not_pay_the_order(
    transfer_order, client, settings, django_capture_on_commit_callbacks
):
    settings.VIETQR_WEBHOOK_SECRET = "bank-secret"
    body = json.dumps({"id": "FT2611002", "amount": 1000, "note": transfer_order["number"]})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/webhooks/vietqr/", body, content_type="application/json", HTTP_X_WEBHOOK_SECRET="bank-secret"
        )
    event = WebhookEvent.objects.get()
    assert event.error.startswith("amount_mismatch")
    assert Order.objects.get(pk=transfer_order["id"]).status == "pending_payment"


def test_an_unpaid_transfer_order_expires_after_the_hold(transfer_order, settings):
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.PAYMENT_HOLD_MINUTES + 1)):
        assert payments_expire_unpaid() == 1
    assert Order.objects.get(pk=transfer_order["id"]).status == "cancelled"
    assert Product.objects.get().stock == 10


def test_the_order_page_shows_the_code(transfer_order, buyer, client):
    client.force_login(buyer)
    page = client.get(f"/don-hang/{transfer_order['number']}/").content.decode()
    assert 'class="qr" src="data:image/png;base64,' in page
    assert transfer_order["payment"]["qr_payload"] in page


def test_a_second_transfer_for_a_paid_order_is_flagged_not_kept_silently(
    transfer_order, client, settings, django_capture_on_commit_callbacks
):
    settings.VIETQR_WEBHOOK_SECRET = "bank-secret"
    paid = {"id": "FT-1", "amount": transfer_order["total"], "note": transfer_order["number"]}
    again = {**paid, "id": "FT-2"}
    with django_capture_on_commit_callbacks(execute=True):
        for body in (paid, paid, again):
            client.post(
                "/webhooks/vietqr/",
                json.dumps(body),
                content_type="application/json",
                HTTP_X_WEBHOOK_SECRET="bank-secret",
            )
    events = dict(WebhookEvent.objects.values_list("event_id", "error"))
    assert events["FT-1"] == ""
    assert events["FT-2"].startswith("second_transfer")
    assert Order.objects.get(pk=transfer_order["id"]).payments.get().paid_amount == transfer_order["total"]


def test_a_deeply_nested_notification_with_the_right_secret_is_a_400_not_a_500(client, settings, db):
    settings.VIETQR_WEBHOOK_SECRET = "bank-secret"
    body = "[" * 20_000 + "]" * 20_000  # deeper than Python's recursion limit
    response = client.post(
        "/webhooks/vietqr/", body, content_type="application/json", HTTP_X_WEBHOOK_SECRET="bank-secret"
    )
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()
