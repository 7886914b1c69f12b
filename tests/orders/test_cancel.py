"""Cancelling and the household's answer: who may, stock back exactly once, notices once each."""

from decimal import Decimal

import pytest

from farms.models import Product
from logistics.models import Shipment
from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from marketplace.notifications.models import Notification
from orders import services
from orders.models import FarmOrder, OrderLine, OrderNotice
from orders.services.notices import order_notify
from orders.services.stock import stock_return
from tests.orders.factories import listings, place

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_farms(make_user):
    return listings(make_user, farms=2, stock="10")


def stocks():
    return list(Product.objects.order_by("pk").values_list("stock", flat=True))


def parts(order):
    return list(order.farm_orders.order_by("pk"))


def test_buyer_cancels_the_whole_order_before_anyone_accepts(buyer, two_farms, api_as):
    order = place(buyer, [(p, 4) for p in two_farms])
    assert stocks() == [6, 6]
    response = api_as(buyer).post(f"/api/v1/orders/{order.pk}/cancel/", {"reason": "Đổi ý"}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "cancelled"
    assert {part["status"] for part in data["farm_orders"]} == {"cancelled"}
    assert data["can_cancel"] is False
    assert data["payment"]["status"] == "cancelled"
    assert stocks() == [10, 10]
    assert [e["note"] for e in data["timeline"] if e["status"] == "cancelled" and e["farm_order"]] == [
        "Đổi ý"
    ] * 2


def test_sold_out_listings_come_back_on_sale(buyer, make_user):
    (product,) = listings(make_user, stock="3")
    order = place(buyer, [(product, 3)])
    assert Product.objects.get().status == "sold_out"
    services.order_cancel(order=order, by=buyer)
    assert Product.objects.values_list("stock", "status").get() == (Decimal(3), "active")


def test_a_paused_listing_stays_paused_when_stock_comes_back(buyer, make_user):
    (product,) = listings(make_user, stock="3")
    order = place(buyer, [(product, 1)])
    Product.objects.filter(pk=product.pk).update(status="paused")
    services.order_cancel(order=order, by=buyer)
    assert Product.objects.values_list("stock", "status").get() == (Decimal(3), "paused")


def test_once_one_household_accepts_only_the_other_part_can_be_cancelled(buyer, two_farms, api_as):
    order = place(buyer, [(p, 2) for p in two_farms])
    first, _second = parts(order)
    services.farm_order_accept(farm_order=first, by=first.farm.owner)
    response = api_as(buyer).post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert [p["status"] for p in data["farm_orders"]] == ["accepted", "cancelled"]
    assert data["status"] == "processing"
    assert stocks() == [8, 10]
    # Nothing left to cancel now.
    again = api_as(buyer).post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "not_cancellable"
    assert stocks() == [8, 10]


def test_naming_an_accepted_part_refuses_the_whole_request(buyer, two_farms, api_as):
    order = place(buyer, [(p, 2) for p in two_farms])
    first, second = parts(order)
    services.farm_order_accept(farm_order=first, by=first.farm.owner)
    client = api_as(buyer)
    url = f"/api/v1/orders/{order.pk}/cancel/"
    assert client.post(url, {"farm_orders": [first.pk, second.pk]}, format="json").status_code == 409
    assert [p.status for p in parts(order)] == ["accepted", "new"]
    assert client.post(url, {"farm_orders": [999999]}, format="json").status_code == 400
    response = client.post(url, {"farm_orders": [second.pk]}, format="json")
    assert response.status_code == 200
    assert [p.status for p in parts(order)] == ["accepted", "cancelled"]


def test_household_rejects_with_a_reason_and_stock_comes_back(buyer, two_farms, api_as):
    order = place(buyer, [(p, 3) for p in two_farms])
    first, _second = parts(order)
    household = api_as(first.farm.owner)
    url = f"/api/v1/farm-orders/{first.pk}/reject/"
    missing = household.post(url, {"reason": "  "}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    response = household.post(url, {"reason": "Mưa lớn, chưa thu hoạch được"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert stocks() == [10, 7]
    order.refresh_from_db()
    assert order.status == "confirmed"  # the other household's part is still live
    # Rejecting twice is an illegal move, and gives nothing back twice.
    twice = household.post(url, {"reason": "lại"}, format="json")
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_transition"
    assert stocks() == [10, 7]


def test_households_reach_only_their_own_parts(buyer, two_farms, api_as, make_user):
    order = place(buyer, [(p, 1) for p in two_farms])
    first, second = parts(order)
    client = api_as(first.farm.owner)
    listed = client.get("/api/v1/farm-orders/").json()
    assert [row["id"] for row in listed["results"]] == [first.pk]
    assert "delivery_phone" not in str(listed) and "+8491234" not in str(listed)
    assert client.get(f"/api/v1/farm-orders/{second.pk}/").status_code == 404
    assert client.post(f"/api/v1/farm-orders/{second.pk}/accept/").status_code == 404
    assert FarmOrder.objects.get(pk=second.pk).status == "new"
    assert api_as(buyer).get("/api/v1/farm-orders/").status_code == 403
    assert api_as(make_user(Role.FARMER)).get("/api/v1/farm-orders/").json()["count"] == 0
    assert client.get("/api/v1/farm-orders/", {"status": "bogus"}).status_code == 400


def test_households_do_not_see_parts_awaiting_payment(buyer, two_farms, api_as):
    order = place(buyer, [(p, 1) for p in two_farms])
    first, _second = parts(order)
    FarmOrder.objects.filter(pk=first.pk).update(status="awaiting_payment")
    assert api_as(first.farm.owner).get("/api/v1/farm-orders/").json()["count"] == 0
    assert api_as(first.farm.owner).get(f"/api/v1/farm-orders/{first.pk}/").status_code == 404


def test_accepting_then_the_buyer_cannot_cancel(buyer, make_user, api_as):
    (product,) = listings(make_user)
    order = place(buyer, [(product, 1)])
    (part,) = parts(order)
    response = api_as(part.farm.owner).post(f"/api/v1/farm-orders/{part.pk}/accept/")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    assert api_as(buyer).get(f"/api/v1/orders/{order.pk}/").json()["status"] == "processing"
    refused = api_as(buyer).post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json")
    assert refused.status_code == 409
    assert "accepted" in refused.json()["detail"] or "nhận" in refused.json()["detail"]


def test_stock_comes_back_exactly_once_whatever_path_runs(buyer, make_user):
    (product,) = listings(make_user, stock="10")
    order = place(buyer, [(product, 4)])
    (part,) = parts(order)
    services.order_cancel(order=order, by=buyer)
    assert stocks() == [10]
    # A second path (a retried task, staff) finds every line already returned.
    assert stock_return(farm_order_ids=[part.pk]) == 0
    assert stocks() == [10]
    assert OrderLine.objects.filter(stock_returned_at__isnull=True).count() == 0


def test_cancelling_tells_households_and_buyer_once(buyer, two_farms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = place(buyer, [(p, 1) for p in two_farms])
    first, second = parts(order)
    subjects = list(Notification.objects.filter(user=first.farm.owner).values_list("subject", flat=True))
    assert any(order.number in subject for subject in subjects)
    before = Notification.objects.count()
    last = Notification.objects.latest("pk").pk
    with django_capture_on_commit_callbacks(execute=True):
        services.order_cancel(order=order, by=buyer, farm_order_ids=[first.pk])
    told = Notification.objects.count() - before
    assert told == 2  # the buyer and the household whose part was cancelled
    assert set(Notification.objects.filter(pk__gt=last).values_list("user", flat=True)) == {
        buyer.pk,
        first.farm.owner_id,
    }
    assert not Notification.objects.filter(user=second.farm.owner, pk__gt=last).exists()
    # The task runs again (a retry): nobody is told twice.
    assert order_notify(order=order, event="cancelled", farm_order_ids=[first.pk], informed=[first.pk]) == 0
    assert Notification.objects.count() - before == 2
    assert OrderNotice.objects.filter(order=order).count() == 5  # placed, 2 × new, 2 × cancelled


def test_a_rejection_tells_the_buyer_the_reason(buyer, make_user, django_capture_on_commit_callbacks):
    (product,) = listings(make_user)
    order = place(buyer, [(product, 1)])
    (part,) = parts(order)
    with django_capture_on_commit_callbacks(execute=True):
        services.farm_order_reject(farm_order=part, by=part.farm.owner, reason="Hết hàng do mưa")
    note = Notification.objects.filter(user=buyer).latest("pk")
    assert "Hết hàng do mưa" in note.body


def test_an_unknown_event_is_refused(buyer, make_user):
    (product,) = listings(make_user)
    order = place(buyer, [(product, 1)])
    with pytest.raises(ValueError, match="unknown order event"):
        order_notify(order=order, event="exploded")


def test_rejecting_needs_a_reason_in_the_service(buyer, make_user):
    (product,) = listings(make_user)
    order = place(buyer, [(product, 1)])
    (part,) = parts(order)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.farm_order_reject(farm_order=part, by=part.farm.owner, reason="")
    services.farm_order_accept(farm_order=part, by=part.farm.owner)
    with pytest.raises(Conflict):  # accepted: past the point of rejecting
        services.farm_order_reject(farm_order=part, by=part.farm.owner, reason="muộn")
    assert FarmOrder.objects.get(pk=part.pk).status == "accepted"


def test_deleting_an_account_strips_delivery_contacts_and_export_lists_orders(buyer, make_user, api_as):
    from marketplace.accounts.services import user_anonymise

    (product,) = listings(make_user)
    order = place(buyer, [(product, 2)], note="Gọi trước 0912 345 678")
    part = order.farm_orders.get()
    services.farm_order_accept(farm_order=part, by=part.farm.owner)
    services.farm_order_ready(farm_order=part, by=part.farm.owner)  # the carrier has a copy of the contact
    exported = api_as(buyer).get("/api/v1/me/export/").json()["orders"]
    assert [(o["number"], o["delivery"]["phone"]) for o in exported] == [(order.number, "+84912345678")]
    assert exported[0]["households"][0]["lines"][0]["quantity"] == "2.000"
    user_anonymise(user=buyer)
    order.refresh_from_db()
    assert (order.delivery_name, order.delivery_phone, order.delivery_address, order.note) == ("", "", "", "")
    assert order.total > 0 and order.delivery_ward_id
    shipment = Shipment.objects.get(reference=f"farm-order-{part.pk}")
    assert (shipment.dropoff_name, shipment.dropoff_phone, shipment.dropoff_address) == ("", "", "")
    assert shipment.dropoff_ward_id == order.delivery_ward_id  # the ward stays for the run's route


# --- Every path that stops a part settles it the same way ------------------------------------


def test_a_partial_cancel_lowers_what_is_owed(buyer, two_farms, api_as):
    order = place(buyer, [(two_farms[0], 2), (two_farms[1], 3)])  # 20000 + 30000 + 20000 delivery
    first, _second = parts(order)
    data = (
        api_as(buyer)
        .post(f"/api/v1/orders/{order.pk}/cancel/", {"farm_orders": [first.pk]}, format="json")
        .json()
    )
    assert (data["subtotal"], data["delivery_fee"], data["total"]) == (30000, 20000, 50000)
    assert (data["payment"]["amount"], data["payment"]["status"]) == (50000, "pending")
    everything = api_as(buyer).post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json").json()
    assert (everything["subtotal"], everything["delivery_fee"], everything["total"]) == (0, 0, 0)
    assert everything["payment"]["status"] == "cancelled"
    # What each household's part was worth stays on the part.
    assert [part["subtotal"] for part in everything["farm_orders"]] == [20000, 30000]


def test_cancelling_the_order_itself_cancels_its_parts_and_returns_stock(buyer, two_farms, api_as):
    order = place(buyer, [(p, 4) for p in two_farms])
    first, _second = parts(order)
    services.order_transition(order=order, to="cancelled", note="Nhân viên hủy theo yêu cầu")
    assert stocks() == [10, 10]
    assert {p.status for p in parts(order)} == {"cancelled"}
    late = api_as(first.farm.owner).post(f"/api/v1/farm-orders/{first.pk}/accept/")
    assert late.status_code == 409
    assert stocks() == [10, 10]


def test_cancelling_an_accepted_part_directly_returns_its_stock(buyer, two_farms):
    order = place(buyer, [(p, 4) for p in two_farms])
    first, _second = parts(order)
    fee = order.delivery_fee  # 8 kg: 20000 for the first 5 kg, 3 × 2000 after
    assert fee == 26000
    services.farm_order_accept(farm_order=first, by=first.farm.owner)
    services.farm_order_transition(farm_order=first, to="cancelled", note="Hết hạn")
    assert stocks() == [10, 6]
    order.refresh_from_db()
    assert (order.subtotal, order.delivery_fee, order.total) == (40000, fee, 40000 + fee)


def test_returned_goods_are_not_owed_and_not_put_back_on_sale(buyer, make_user):
    (product,) = listings(make_user, stock="10")
    order = place(buyer, [(product, 4)])
    (part,) = parts(order)
    for status in ("accepted", "ready", "picked_up", "failed_delivery", "returned"):
        services.farm_order_transition(farm_order=part, to=status)
    order.refresh_from_db()
    assert (order.status, order.total) == ("cancelled", 0)
    assert stocks() == [6]  # the household decides what it puts back on sale


def test_a_paid_share_is_refunded_once_when_a_household_rejects(buyer, two_farms):
    import json

    order = place(buyer, [(two_farms[0], 2), (two_farms[1], 3)])
    payment = order.payments.get()
    body = json.dumps({"payment": payment.pk, "event": "collected", "amount": order.total}).encode()
    services.payment_callback_apply(method="cod", body=body, headers={})
    first, _second = parts(order)
    services.farm_order_reject(farm_order=first, by=first.farm.owner, reason="Hết hàng")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.payment_status, order.total) == ("partially_refunded", 50000)
    assert (payment.paid_amount, payment.refunded_amount) == (70000, 20000)
    assert payment.paid_amount - payment.refunded_amount == order.total


def test_a_part_cancelled_before_payment_is_never_shown_to_its_household(buyer, two_farms, api_as):
    from orders.models import Order

    order = place(buyer, [(p, 1) for p in two_farms])
    first, _second = parts(order)
    # As a card order would be (#6): unpaid, its parts not yet released to the households.
    Order.objects.filter(pk=order.pk).update(status="pending_payment")
    FarmOrder.objects.filter(order=order).update(status="awaiting_payment", released_at=None)
    services.order_cancel(order=order, by=buyer)
    assert FarmOrder.objects.get(pk=first.pk).status == "cancelled"
    assert api_as(first.farm.owner).get("/api/v1/farm-orders/").json()["count"] == 0


def test_the_households_order_list_queries_do_not_grow(buyer, make_user, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    products = listings(make_user, farms=1, per_farm=3, stock="500")
    owner = products[0].farm.owner
    place(buyer, [(products[0], 1)])
    client = api_as(owner)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/farm-orders/").json()["count"] == 1
    for _ in range(5):
        place(make_user(Role.BUYER), [(p, 1) for p in products])
    with CaptureQueriesContext(connection) as more:
        assert client.get("/api/v1/farm-orders/").json()["count"] == 6
    assert len(few) == len(more)


def test_households_filter_their_parts_by_order(buyer, two_farms, api_as):
    first_order = place(buyer, [(two_farms[0], 1)])
    second_order = place(buyer, [(two_farms[0], 2)])
    client = api_as(two_farms[0].farm.owner)
    rows = client.get("/api/v1/farm-orders/", {"order": second_order.pk}).json()["results"]
    assert [(row["order"], row["order_number"]) for row in rows] == [(second_order.pk, second_order.number)]
    assert client.get("/api/v1/farm-orders/").json()["count"] == 2
    assert first_order.number != second_order.number
    assert client.get("/api/v1/farm-orders/", {"order": "¹"}).status_code == 400
