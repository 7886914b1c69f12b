"""Cash-on-delivery limits: a cap until a first delivery, suspension after refused deliveries."""

import json

import pytest

from farms.models import Product
from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from orders import services
from orders.models import CodStanding, Order
from tests.orders.factories import fill_cart, listings, place

pytestmark = pytest.mark.django_db
CHECKOUT = "/api/v1/checkout/"


@pytest.fixture
def product(make_user):
    # 100,000 đồng a kilo; the default delivery fee is 20,000 đồng up to 5 kg.
    return listings(make_user, price=100000, stock="1000")[0]


def deliver(order):
    """Walk every part of an order to delivered, as the couriers will (#7)."""
    for part in order.farm_orders.all():
        for status in ("accepted", "ready", "picked_up", "delivered"):
            services.farm_order_transition(farm_order=part, to=status)


def test_a_new_buyers_cod_orders_are_capped_in_all(buyer, product, api_as, settings):
    settings.COD_FIRST_ORDERS_CAP = 500_000
    place(buyer, [(product, 3)])  # 320,000 đồng open
    fill_cart(buyer, [(product, 2)])  # 220,000 more would pass 500,000
    response = api_as(buyer).post(CHECKOUT, {"delivery": _delivery(), "payment_method": "cod"}, format="json")
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "cod_limit"
    assert "500.000 ₫" in data["detail"] and "320.000 ₫" in data["detail"]
    assert Order.objects.count() == 1
    assert Product.objects.get().stock == 997  # nothing taken by the refused checkout
    quote = api_as(buyer).get(CHECKOUT, {"ward": _delivery()["ward"]}).json()
    (cod,) = [m for m in quote["payment_methods"] if m["method"] == "cod"]
    assert (cod["available"], cod["code"]) == (False, "cod_limit")
    assert "500.000 ₫" in cod["reason"]


def test_a_single_order_over_the_cap_is_refused(buyer, product, settings):
    settings.COD_FIRST_ORDERS_CAP = 200_000
    with pytest.raises(Conflict) as refused:
        place(buyer, [(product, 2)])  # 220,000 with delivery
    assert refused.value.code == "cod_limit"


def test_the_cap_lifts_after_a_first_delivery(buyer, product, settings):
    settings.COD_FIRST_ORDERS_CAP = 200_000
    order = place(buyer, [(product, 1)])
    deliver(order)
    assert Order.objects.get(pk=order.pk).status == "delivered"
    big = place(buyer, [(product, 10)])
    assert big.total == 1_000_000 + 20_000 + 5 * 2_000


def test_cancelled_orders_do_not_count_against_the_cap(buyer, product, settings):
    settings.COD_FIRST_ORDERS_CAP = 250_000
    first = place(buyer, [(product, 2)])
    services.order_cancel(order=first, by=buyer)
    assert place(buyer, [(product, 2)]).total == 220_000


def test_two_refused_deliveries_suspend_cod_until_staff_restore_it(buyer, product, make_user, api_as):
    first = place(buyer, [(product, 1)])
    assert services.delivery_refused_record(order=first) is True
    assert services.delivery_refused_record(order=first) is False  # the same refusal, reported twice
    assert services.cod_refusal(buyer=buyer, total=1) is None
    second = place(buyer, [(product, 1)])
    services.delivery_refused_record(order=second)
    refusal = services.cod_refusal(buyer=buyer, total=1)
    assert refusal is not None and refusal.code == "cod_suspended"
    fill_cart(buyer, [(product, 1)])
    response = api_as(buyer).post(CHECKOUT, {"delivery": _delivery(), "payment_method": "cod"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "cod_suspended"
    assert "2" in response.json()["detail"]
    services.cod_restore(buyer=buyer, by=make_user(Role.STAFF))
    standing = CodStanding.objects.get(buyer=buyer)
    assert (standing.refusals, standing.suspended) == (0, False)
    response = api_as(buyer).post(CHECKOUT, {"delivery": _delivery(), "payment_method": "cod"}, format="json")
    assert response.status_code == 201


def test_staff_restore_from_the_admin(buyer, product, make_user, client):
    first, second = place(buyer, [(product, 1)]), place(buyer, [(product, 1)])
    services.delivery_refused_record(order=first)
    services.delivery_refused_record(order=second)
    staff = make_user(Role.STAFF)
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    assert client.get("/admin/orders/codstanding/").status_code == 200
    standing = CodStanding.objects.get(buyer=buyer)
    response = client.post(
        "/admin/orders/codstanding/",
        {"action": "restore_cod", "_selected_action": [standing.pk]},
    )
    assert response.status_code == 302
    standing.refresh_from_db()
    assert (standing.suspended, standing.restored_by) == (False, staff)


def test_a_cod_collection_callback_marks_the_order_paid(buyer, product):
    order = place(buyer, [(product, 1)])
    payment = order.payments.get()
    body = json.dumps({"payment": payment.pk, "event": "collected", "amount": order.total}).encode()
    services.payment_callback_apply(method="cod", body=body, headers={})
    services.payment_callback_apply(method="cod", body=body, headers={})  # repeated: no change
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.payment_status, payment.status, payment.paid_amount) == ("paid", "paid", order.total)


def _delivery():
    from tests.orders.factories import delivery

    return delivery()


def test_cash_reported_for_a_cancelled_order_is_refused_not_booked(buyer, product):
    from orders.payments import PaymentError

    order = place(buyer, [(product, 1)])
    payment = order.payments.get()
    services.order_cancel(order=order, by=buyer)
    body = json.dumps({"payment": payment.pk, "event": "collected", "amount": order.total}).encode()
    with pytest.raises(PaymentError) as refused:
        services.payment_callback_apply(method="cod", body=body, headers={})
    assert refused.value.code == "payment_not_pending"
    order.refresh_from_db()
    assert order.payment_status == "unpaid"


def test_cash_of_another_amount_is_refused(buyer, product):
    from orders.payments import PaymentError

    order = place(buyer, [(product, 1)])
    payment = order.payments.get()
    body = json.dumps({"payment": payment.pk, "event": "collected", "amount": order.total + 1}).encode()
    with pytest.raises(PaymentError) as refused:
        services.payment_callback_apply(method="cod", body=body, headers={})
    assert refused.value.code == "amount_mismatch"
    payment.refresh_from_db()
    assert payment.status == "pending"
