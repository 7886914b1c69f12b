"""Checkout API: server-side prices, cart_version, stock, suspended households, query counts, limits."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from farms import services as farm_services
from farms.models import Product
from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from marketplace.notifications.models import Notification
from marketplace.outbox.models import OutboxMessage
from orders import services
from orders.models import CartLine, FarmOrder, Order, OrderLine, Payment, StatusChange
from tests.farms.factories import make_farm, make_product, ward
from tests.orders.factories import buyer_with_cart, delivery, fill_cart, listings, place, set_tariff

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/checkout/"


def body(**fields):
    data = {"delivery": delivery(), "payment_method": "cod"}
    data.update(fields)
    return data


def checkout(client, **fields):
    return client.post(CHECKOUT, body(**fields), format="json")


# --- Placing an order -------------------------------------------------------------------------


def test_checkout_creates_one_order_and_one_part_per_household(make_user, buyer, api_as):
    products = listings(make_user, farms=2, per_farm=2, price=20000)
    fill_cart(buyer, [(p, 3) for p in products])
    response = checkout(api_as(buyer), note="Giao buổi sáng")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "confirmed"
    assert data["payment_status"] == "unpaid"
    assert data["payment"]["method"] == "cod"
    assert data["payment"]["amount"] == data["total"]
    assert [len(part["lines"]) for part in data["farm_orders"]] == [2, 2]
    assert {part["status"] for part in data["farm_orders"]} == {"new"}
    # Prices: 20000 and 20001 đồng a kilo, 3 kg each, two households.
    assert data["subtotal"] == 2 * (3 * 20000 + 3 * 20001)
    assert data["total"] == data["subtotal"] + data["delivery_fee"]
    assert data["number"].startswith("CN-")
    assert data["delivery"]["phone"] == "+84912345678"
    assert data["note"] == "Giao buổi sáng"
    assert [(e["from_status"], e["status"]) for e in data["timeline"][:2]] == [
        ("", "pending_payment"),
        ("pending_payment", "confirmed"),
    ]
    # The cart is emptied and the stock taken.
    assert not CartLine.objects.filter(cart__user=buyer).exists()
    assert sorted(Product.objects.values_list("stock", flat=True)) == [Decimal("97")] * 4


def test_lines_keep_a_snapshot_of_what_was_sold(make_user, buyer):
    (product,) = listings(make_user, price=45000)
    order = place(buyer, [(product, "1.5")])
    farm_services.product_update(product=product, name="Đổi tên", price=99000)
    line = OrderLine.objects.get(farm_order__order=order)
    assert (line.product_name, line.unit, line.unit_price, line.quantity, line.line_total) == (
        "Sản phẩm 0-0",
        "kg",
        45000,
        Decimal("1.5"),
        67500,
    )


def test_client_prices_and_totals_are_ignored(make_user, buyer, api_as):
    (product,) = listings(make_user, price=30000)
    fill_cart(buyer, [(product, 2)])
    tampered = body(
        subtotal=1,
        total=1,
        delivery_fee=0,
        lines=[{"product": product.pk, "quantity": "2", "unit_price": 1, "line_total": 1}],
        items=[{"product": product.pk, "price": 1}],
        price=1,
    )
    response = api_as(buyer).post(CHECKOUT, tampered, format="json")
    assert response.status_code == 201
    order = Order.objects.get(pk=response.json()["id"])
    assert order.subtotal == 60000
    assert order.delivery_fee == 20000  # the default tariff: 2 kg is inside the included 5 kg
    assert order.total == 80000
    assert OrderLine.objects.get(farm_order__order=order).unit_price == 30000


def test_the_fee_comes_from_the_ward_table(make_user, buyer, api_as):
    (product,) = listings(make_user, price=10000, stock="500")
    set_tariff(ward(3), base_fee=15000, included_kg=10, per_kg_fee=1000)
    fill_cart(buyer, [(product, "12.5")])
    quote = api_as(buyer).get(CHECKOUT, {"ward": ward(3).pk}).json()
    assert quote["weight_kg"] == "12.500"
    assert quote["delivery_fee"] == 15000 + 3 * 1000  # 2.5 extra kg count as 3 started kilograms
    response = checkout(api_as(buyer))
    assert response.json()["delivery_fee"] == quote["delivery_fee"]
    assert response.json()["total"] == 125000 + 18000


def test_counted_units_weigh_by_their_unit_weight(make_user, buyer, api_as):
    farm = make_farm(make_user)
    pomelo = make_product(farm, name="Bưởi", unit="trai", unit_weight_kg="1.5", price=30000, status="active")
    fill_cart(buyer, [(pomelo, 6)])
    quote = api_as(buyer).get(CHECKOUT, {"ward": ward(0).pk}).json()
    assert quote["weight_kg"] == "9.000"
    assert quote["delivery_fee"] == 20000 + 4 * 2000


def test_free_delivery_over_the_threshold(make_user, buyer, api_as):
    (product,) = listings(make_user, price=100000)
    set_tariff(ward(3), base_fee=25000, free_over=500000)
    fill_cart(buyer, [(product, 5)])
    assert checkout(api_as(buyer)).json()["delivery_fee"] == 0


def test_a_quote_without_a_ward_has_no_fee_yet(make_user, buyer, api_as):
    (product,) = listings(make_user)
    fill_cart(buyer, [(product, 1)])
    quote = api_as(buyer).get(CHECKOUT).json()
    assert quote["delivery_fee"] is None and quote["total"] is None
    # Card payment is hidden without Stripe keys; cash and the demo bank account are offered.
    assert [(m["method"], m["available"], m["reason"]) for m in quote["payment_methods"]] == [
        ("cod", True, ""),
        ("vietqr", True, ""),
    ]
    assert api_as(buyer).get(CHECKOUT, {"ward": "99999"}).status_code == 400


# --- Refusals ---------------------------------------------------------------------------------


def test_checkout_needs_a_token(api):
    assert api.post(CHECKOUT, body(), format="json").status_code == 401


def test_an_empty_cart_is_a_conflict(buyer, api_as):
    response = checkout(api_as(buyer))
    assert response.status_code == 409
    assert response.json()["code"] == "cart_empty"


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "12345"), ("ward", "00000"), ("name", ""), ("address", "   "), ("ward", "abc")],
)
def test_bad_delivery_fields_answer_400_under_delivery(make_user, buyer, api_as, field, value):
    (product,) = listings(make_user)
    fill_cart(buyer, [(product, 1)])
    response = checkout(api_as(buyer), delivery=delivery(**{field: value}))
    assert response.status_code == 400
    assert field in response.json()["delivery"]
    assert not Order.objects.exists()
    assert Product.objects.get().stock == 100


def test_bad_options_answer_400(make_user, buyer, api_as):
    (product,) = listings(make_user)
    fill_cart(buyer, [(product, 1)])
    assert checkout(api_as(buyer), payment_method="bitcoin").status_code == 400
    response = checkout(api_as(buyer), delivery_date="2001-01-01")
    assert response.status_code == 400 and "delivery_date" in response.json()
    assert checkout(api_as(buyer), note="x" * 1001).status_code == 400
    assert not Order.objects.exists()


def test_a_changed_price_against_cart_version_is_a_conflict_naming_the_line(make_user, buyer, api_as):
    first, second = listings(make_user, per_farm=2, price=40000)
    fill_cart(buyer, [(first, 1), (second, 1)])
    client = api_as(buyer)
    version = client.get("/api/v1/cart/").json()["version"]
    farm_services.product_update(product=second, price=45000)
    response = checkout(client, cart_version=version)
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "cart_changed"
    assert [line["product"] for line in data["lines"]] == [second.pk]
    assert data["lines"][0]["problem"] == "price_changed"
    assert data["version"] != version
    assert not Order.objects.exists()
    assert set(Product.objects.values_list("stock", flat=True)) == {Decimal(100)}
    assert CartLine.objects.filter(cart__user=buyer).count() == 2
    # Confirming the new version orders at the new price.
    response = checkout(client, cart_version=data["version"])
    assert response.status_code == 201
    assert response.json()["subtotal"] == 40000 + 45000


def test_a_changed_quantity_against_cart_version_is_a_conflict(make_user, buyer, api_as):
    (product,) = listings(make_user)
    fill_cart(buyer, [(product, 1)])
    client = api_as(buyer)
    version = client.get("/api/v1/cart/").json()["version"]
    fill_cart(buyer, [(product, 1)])  # another tab adds one more
    response = checkout(client, cart_version=version)
    assert response.status_code == 409 and response.json()["code"] == "cart_changed"
    assert not Order.objects.exists()


def test_not_enough_stock_is_a_conflict_and_takes_nothing(make_user, buyer, api_as):
    plenty, scarce = listings(make_user, per_farm=2, stock="10")
    fill_cart(buyer, [(plenty, 2), (scarce, 8)])
    Product.objects.filter(pk=scarce.pk).update(stock=5)  # another buyer took some since
    response = checkout(api_as(buyer))
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "cart_conflict"
    assert [(line["product"], line["problem"], line["available"]) for line in data["lines"]] == [
        (scarce.pk, "insufficient_stock", "5.000")
    ]
    assert not Order.objects.exists()
    assert Product.objects.get(pk=plenty.pk).stock == 10


def test_a_suspended_households_items_are_refused(make_user, buyer, api_as):
    farm = make_farm(make_user, name="Hộ bị đình chỉ")
    product = make_product(farm, status="active")
    other = listings(make_user)[0]
    fill_cart(buyer, [(product, 1), (other, 1)])
    farm_services.farm_suspend(farm=farm, by=make_user(Role.OFFICIAL), reason="Kiểm tra lại")
    response = checkout(api_as(buyer))
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "cart_conflict"
    assert [(line["product"], line["problem"]) for line in data["lines"]] == [(product.pk, "unavailable")]
    assert not Order.objects.exists()
    assert Product.objects.get(pk=other.pk).stock == 100


def test_the_last_unit_sells_out_the_listing(make_user, buyer):
    (product,) = listings(make_user, stock="2")
    place(buyer, [(product, 2)])
    product.refresh_from_db()
    assert (product.stock, product.status) == (0, "sold_out")


# --- Query counts -----------------------------------------------------------------------------


def _checkout_queries(make_user, api_as, *, farms, per_farm):
    products = listings(make_user, farms=farms, per_farm=per_farm)
    buyer = buyer_with_cart(make_user, [(p, 1) for p in products])
    client = api_as(buyer)
    with CaptureQueriesContext(connection) as queries:
        response = checkout(client)
    assert response.status_code == 201, response.json()
    assert len(response.json()["farm_orders"]) == farms
    assert sum(len(part["lines"]) for part in response.json()["farm_orders"]) == farms * per_farm
    return len(queries)


def test_checkout_queries_do_not_grow_with_lines_or_households(make_user, api_as):
    one = _checkout_queries(make_user, api_as, farms=1, per_farm=1)
    many = _checkout_queries(make_user, api_as, farms=5, per_farm=4)
    assert one == many
    assert one <= 43  # a ceiling to notice a new query per request (3 are outbox rows)


def test_order_list_queries_do_not_grow(make_user, api_as):
    products = listings(make_user, farms=2, per_farm=1, stock="500")
    buyer = make_user(Role.BUYER)
    place(buyer, [(products[0], 1)])
    client = api_as(buyer)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/orders/").json()["count"] == 1
    for _ in range(4):
        place(buyer, [(p, 1) for p in products])
    with CaptureQueriesContext(connection) as more:
        assert client.get("/api/v1/orders/").json()["count"] == 5
    assert len(few) == len(more)


def test_order_detail_queries_do_not_grow(make_user, api_as):
    small = listings(make_user, farms=1, per_farm=1, stock="500")
    large = listings(make_user, farms=4, per_farm=3, stock="500")
    buyer = make_user(Role.BUYER)
    one = place(buyer, [(small[0], 1)])
    many = place(buyer, [(p, 1) for p in large])
    services.order_cancel(order=many, by=buyer, farm_order_ids=[many.farm_orders.first().pk])
    client = api_as(buyer)
    counts = []
    for order in (one, many):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- Orders belong to their buyer ---------------------------------------------------------------


def test_orders_are_the_buyers_own(make_user, api_as):
    (product,) = listings(make_user)
    owner, other = make_user(Role.BUYER), make_user(Role.BUYER)
    order = place(owner, [(product, 1)])
    client = api_as(other)
    assert client.get("/api/v1/orders/").json()["count"] == 0
    assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 404
    assert client.post(f"/api/v1/orders/{order.pk}/cancel/", {}, format="json").status_code == 404
    assert Order.objects.get().status == "confirmed"
    assert api_as(owner).get(f"/api/v1/orders/{order.pk}/").json()["number"] == order.number


def test_order_numbers_read_over_the_phone_and_retry_on_a_clash(make_user, buyer, monkeypatch):
    products = listings(make_user, per_farm=2)
    first = place(buyer, [(products[0], 1)])
    assert len(first.number) == 12 and first.number[:3] == "CN-" and first.number[7] == "-"
    drawn = iter([first.number, "CN-0101-0001"])
    monkeypatch.setattr("orders.services.checkout.order_number_new", lambda: next(drawn))
    second = place(buyer, [(products[1], 1)])
    assert second.number == "CN-0101-0001"
    assert Order.objects.count() == 2


def test_every_status_change_of_a_checkout_is_recorded(make_user, buyer):
    products = listings(make_user, farms=2)
    order = place(buyer, [(p, 1) for p in products])
    changes = list(
        StatusChange.objects.filter(order=order).values_list("farm_order", "from_status", "to_status")
    )
    parts = list(FarmOrder.objects.filter(order=order).values_list("pk", flat=True))
    assert changes == [
        (None, "", "pending_payment"),
        (None, "pending_payment", "confirmed"),
        *[(pk, "awaiting_payment", "new") for pk in parts],
    ]
    assert Payment.objects.get(order=order).status == "pending"


def test_fractional_quantities_add_up_exactly_on_every_database(make_user):
    (product,) = listings(make_user, stock="0.3", min_order="0.1")
    buyers = [make_user(Role.BUYER) for _ in range(3)]
    orders = [place(buyer, [(product, "0.1")]) for buyer in buyers]
    product.refresh_from_db()
    assert (product.stock, product.status) == (0, "sold_out")
    assert Product.objects.filter(pk=product.pk, stock=0).exists()  # exactly zero in the database
    services.order_cancel(order=orders[0], by=buyers[0])
    assert Product.objects.filter(pk=product.pk, stock=Decimal("0.1"), status="active").exists()
    (other,) = listings(make_user, stock="1", min_order="0.1")
    place(make_user(Role.BUYER), [(other, "0.7")])
    place(make_user(Role.BUYER), [(other, "0.3")])
    assert Product.objects.filter(pk=other.pk, stock=0, status="sold_out").exists()


def test_cart_changed_names_each_line_and_how_it_changed(make_user, buyer, api_as):
    kept, repriced, more, dropped = listings(make_user, per_farm=4, price=40000)
    fill_cart(buyer, [(kept, 1), (repriced, 1), (more, 1), (dropped, 1)])
    client = api_as(buyer)
    version = client.get("/api/v1/cart/").json()["version"]
    farm_services.product_update(product=repriced, price=41000)
    client.get("/api/v1/cart/")  # another tab sees the new price: it is no longer "changed since shown"
    fill_cart(buyer, [(more, 2)])
    CartLine.objects.filter(cart__user=buyer, product=dropped).delete()
    added = listings(make_user, price=5000)[0]
    fill_cart(buyer, [(added, 1)])
    response = checkout(client, cart_version=version)
    assert response.status_code == 409
    lines = {line["product"]: line for line in response.json()["lines"]}
    assert set(lines) == {repriced.pk, more.pk, dropped.pk, added.pk}
    assert (lines[repriced.pk]["problem"], lines[repriced.pk]["previous_price"]) == (
        "price_changed",
        40001,
    )  # listings price each one a đồng apart
    assert (lines[more.pk]["problem"], lines[more.pk]["previous_quantity"]) == ("quantity_changed", "1.000")
    assert (lines[dropped.pk]["problem"], lines[dropped.pk]["id"]) == ("removed", None)
    assert lines[added.pk]["problem"] == "added"
    assert not Order.objects.exists()


def test_a_version_the_server_never_made_names_every_line(make_user, buyer, api_as):
    first, second = listings(make_user, per_farm=2)
    fill_cart(buyer, [(first, 1), (second, 1)])
    response = checkout(api_as(buyer), cart_version="not-a-version")
    assert response.status_code == 409
    assert [(line["product"], line["problem"]) for line in response.json()["lines"]] == [
        (first.pk, "changed"),
        (second.pk, "changed"),
    ]


@pytest.mark.parametrize("ward", ["%00", "3115\x00", "³1150", "abcde", " "])
def test_odd_ward_codes_in_a_quote_are_a_400(make_user, buyer, api_as, ward):
    (product,) = listings(make_user)
    fill_cart(buyer, [(product, 1)])
    assert api_as(buyer).get(CHECKOUT, {"ward": ward}).status_code == 400


def test_a_broker_outage_after_commit_does_not_fail_the_checkout(
    make_user, buyer, api_as, broker_down, django_capture_on_commit_callbacks, caplog
):
    (product,) = listings(make_user)
    fill_cart(buyer, [(product, 1)])
    before = OutboxMessage.objects.order_by("pk").last().pk  # the setup's own, never published here
    setup_rows = OutboxMessage.objects.filter(sent_at__isnull=True).count()
    notices = Notification.objects.filter(user=product.farm.owner)
    heard = notices.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = checkout(api_as(buyer))
    assert response.status_code == 201
    assert Order.objects.get().number == response.json()["number"]
    # The order's tasks were recorded with it, and wait in the outbox for the broker.
    pending = OutboxMessage.objects.filter(sent_at__isnull=True, pk__gt=before)
    assert sorted(pending.values_list("task", flat=True)) == [
        "orders.notify", "orders.notify", "reports.refresh_order"
    ]
    # The first was tried once and refused; the process then leaves the others to the relay,
    # due at once, rather than make the buyer wait on a broker that might hang.
    first, *others = sorted(pending, key=lambda m: m.pk)
    assert first.attempts == 1 and "Connection refused" in first.last_error
    assert all(m.attempts == 0 and m.available_at <= timezone.now() for m in others)
    recorded = [m.pk for m in pending]
    assert caplog.text.count("not published yet") == 1
    assert notices.count() == heard
    # The broker is back: the relay publishes them, and the household hears of the order.
    assert broker_down.back() == 3 + setup_rows
    assert not OutboxMessage.objects.filter(pk__in=recorded, sent_at__isnull=True).exists()
    assert notices.count() == heard + 1


def test_a_line_taken_by_a_checkout_cannot_be_changed_after(make_user, buyer, api_as):
    (product,) = listings(make_user)
    fill_cart(buyer, [(product, 1)])
    line = CartLine.objects.get(cart__user=buyer)
    place(buyer)
    with pytest.raises(Conflict) as gone:
        services.cart_line_set_quantity(line=line, quantity=2)
    assert gone.value.code == "line_gone"


def test_the_payment_says_what_to_do_until_it_is_settled(make_user, buyer, api_as):
    (product,) = listings(make_user, price=50000)
    fill_cart(buyer, [(product, 1)])
    client = api_as(buyer)
    placed = checkout(client).json()
    assert "70.000 ₫" in placed["payment"]["instructions"]
    assert (
        client.get(f"/api/v1/orders/{placed['id']}/").json()["payment"]["instructions"]
        == (placed["payment"]["instructions"])
    )
    cancelled = client.post(f"/api/v1/orders/{placed['id']}/cancel/", {}, format="json").json()
    assert cancelled["payment"]["instructions"] == ""
