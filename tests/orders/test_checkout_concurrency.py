"""A crowd at checkout: many buyers want the last units of one listing at the same moment.

Each buyer has the listing in their own server-side cart; all their checkouts are released
together (a barrier) against a live server that serves them on a bounded pool of threads
(`tests/orders/liveserver.py`: at most WORKERS requests, so WORKERS database connections, at
once). Whatever the interleaving, the listing gives exactly its stock: no unit sold twice,
none lost, no 5xx, and every refusal is a clean 409 `cart_conflict` naming the line.

PostgreSQL (row locks, one conditional UPDATE): 200 buyers. SQLite (a file, IMMEDIATE write
transactions that queue on the busy timeout): 30 buyers for 10 units.
"""

import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from farms.models import Product, ProductStatus
from marketplace.accounts.models import Role
from marketplace.accounts.services import token_for
from orders.models import CartLine, FarmOrder, FarmOrderStatus, Order, OrderLine, OrderNotice, OrderStatus
from orders.selectors import LineProblem
from tests.farms.factories import make_farm, make_product
from tests.orders.factories import delivery, fill_cart
from tests.orders.liveserver import PooledLiveServer

# Committed data: the server's threads have their own connections.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]

WORKERS = 16
TIMEOUT = 60  # seconds, per request and for the barrier
CHECKOUT = "/api/v1/checkout/"
SOLD_OUT_PROBLEMS = {LineProblem.INSUFFICIENT_STOCK, LineProblem.UNAVAILABLE}


# --- The crowd ---------------------------------------------------------------------------


@dataclass
class Buyer:
    user: object
    token: str
    quantity: Decimal
    status: int | None = None
    body: object = None


@dataclass
class Watch:
    """What the main thread saw while the checkouts ran: the lowest stock, the most connections."""

    product_id: int
    lowest_stock: Decimal | None = None
    peak_connections: int = 0
    samples: int = 0

    def sample(self) -> None:
        stock = Product.objects.filter(pk=self.product_id).values_list("stock", flat=True).get()
        self.lowest_stock = stock if self.lowest_stock is None else min(self.lowest_stock, stock)
        self.peak_connections = max(self.peak_connections, other_connections())
        self.samples += 1


@dataclass
class Run:
    buyers: list[Buyer]
    failures: list[str] = field(default_factory=list)

    @property
    def statuses(self) -> Counter:
        return Counter(buyer.status for buyer in self.buyers)

    def with_status(self, status: int) -> list[Buyer]:
        return [buyer for buyer in self.buyers if buyer.status == status]

    def server_errors(self) -> list[str]:
        failed = [b for b in self.buyers if b.status is None or b.status >= 500]
        return [f"{b.status}: {str(b.body)[:300]}" for b in failed]


def other_connections() -> int:
    """Client connections to the test database other than this thread's (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def crowd(make_user, product, quantities) -> list[Buyer]:
    """One buyer per quantity, each with that much of `product` in their own cart."""
    buyers = []
    for quantity in quantities:
        user = make_user(Role.BUYER)
        fill_cart(user, [(product, Decimal(quantity))])
        buyers.append(Buyer(user=user, token=token_for(user=user), quantity=Decimal(quantity)))
    return buyers


def check_out_together(server: PooledLiveServer, buyers: list[Buyer], watch: Watch) -> Run:
    """POST every buyer's checkout from a thread of its own, all released by one barrier."""
    run = Run(buyers=buyers)
    url = server.url + CHECKOUT
    payload = json.dumps({"delivery": delivery(), "payment_method": "cod"}).encode()
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    barrier = threading.Barrier(len(buyers))

    def client(buyer: Buyer) -> None:
        request = urllib.request.Request(
            url,
            data=payload,
            method="POST",
            headers={
                "Authorization": f"Token {buyer.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            barrier.wait(timeout=TIMEOUT)
            try:
                with opener.open(request, timeout=TIMEOUT) as response:
                    buyer.status, raw = response.status, response.read()
            except urllib.error.HTTPError as error:
                with error:
                    buyer.status, raw = error.code, error.read()
            try:
                buyer.body = json.loads(raw)
            except ValueError:
                buyer.body = raw.decode(errors="replace")
        except Exception as exc:
            run.failures.append(f"buyer {buyer.user.phone}: {exc!r}")

    threads = [threading.Thread(target=client, args=(buyer,), daemon=True) for buyer in buyers]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 2 * TIMEOUT + 10
    while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
        watch.sample()
        time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} client threads still waiting after {2 * TIMEOUT + 10} s"
    watch.sample()
    return run


@pytest.fixture
def server(db, settings, sms_outbox):
    """The project served on 127.0.0.1 by WORKERS threads; SMS go to a file, not stdout."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    with PooledLiveServer(max_workers=WORKERS) as live:
        yield live


@pytest.fixture
def listing(make_user):
    """Return a maker of an active listing (kg, 10,000 đồng) of a verified household with `stock`."""
    farm = make_farm(make_user)

    def make(stock) -> Product:
        return make_product(farm, status="active", stock=str(stock), price=10_000)

    return make


# --- What every run must show ----------------------------------------------------------------


def assert_clean_answers(run: Run, product: Product) -> None:
    """No client error, no 5xx; only 201 and 409 `cart_conflict` naming this listing's line."""
    assert run.failures == []
    assert run.server_errors() == []
    assert set(run.statuses) <= {201, 409}, run.statuses
    for buyer in run.with_status(409):
        body = buyer.body
        assert isinstance(body, dict), body
        assert body["code"] == "cart_conflict", body
        assert [line["product"] for line in body["lines"]] == [product.pk], body
        assert body["lines"][0]["problem"] in SOLD_OUT_PROBLEMS, body
        # What was left when this checkout was refused did not cover it.
        assert Decimal(body["lines"][0]["available"]) < buyer.quantity, body
    for buyer in run.with_status(201):
        assert buyer.body["status"] == OrderStatus.CONFIRMED, buyer.body
        assert [fo["status"] for fo in buyer.body["farm_orders"]] == [FarmOrderStatus.NEW], buyer.body


def assert_orders_match(run: Run, product: Product) -> Decimal:
    """One confirmed order per 201 (its buyer's, for their cart); carts emptied only then.

    Return the units sold (the sum of the order lines of `product`).
    """
    winners = run.with_status(201)
    losers = run.with_status(409)
    orders = Order.objects.all()
    assert orders.count() == len(winners)
    assert {o.buyer_id: o.pk for o in orders} == {b.user.pk: b.body["id"] for b in winners}
    assert set(orders.values_list("status", flat=True)) <= {OrderStatus.CONFIRMED}
    farm_orders = FarmOrder.objects.all()
    assert farm_orders.count() == len(winners)
    assert set(farm_orders.values_list("status", flat=True)) <= {FarmOrderStatus.NEW}

    lines = OrderLine.objects.filter(product=product)
    assert OrderLine.objects.count() == lines.count() == len(winners)
    bought = dict(lines.values_list("farm_order__order__buyer_id", "quantity"))
    assert bought == {b.user.pk: b.quantity for b in winners}
    sold = lines.aggregate(total=Sum("quantity"))["total"] or Decimal(0)
    assert sold == sum((b.quantity for b in winners), Decimal(0))

    # A refusal takes nothing: the refused buyers still hold their line, the others do not.
    left = dict(CartLine.objects.filter(product=product).values_list("cart__user_id", "quantity"))
    assert left == {b.user.pk: b.quantity for b in losers}
    # The notices of each order were sent after its commit, once: "placed" and the household's "new".
    assert OrderNotice.objects.count() == 2 * len(winners)
    return sold


def assert_bounded(server: PooledLiveServer, watch: Watch, requests: int) -> None:
    """Every request went through the pool, some at once, never more than WORKERS.

    Each worker thread holds at most one connection, so at most WORKERS are open at once.
    PostgreSQL may still list a backend for a moment after its client closed it (the backend
    exits asynchronously) while that worker already opened its next one: hence 2 × WORKERS,
    still far below one connection per request and below max_connections (100).
    """
    assert server.httpd.handled == requests
    assert 2 <= server.httpd.peak_active <= WORKERS
    assert len(server.httpd.threads) <= WORKERS
    assert watch.peak_connections <= 2 * WORKERS
    server.stop()
    # Every worker closed its connection (their backends may take a moment to exit).
    deadline = time.monotonic() + 5
    while other_connections() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert other_connections() == 0


def one_unit_each(make_user, server, listing, *, buyers: int, stock: int) -> None:
    """`buyers` buyers with 1 unit each in their cart, `stock` units: exactly `stock` orders."""
    product = listing(stock)
    people = crowd(make_user, product, [1] * buyers)
    watch = Watch(product_id=product.pk)

    run = check_out_together(server, people, watch)

    assert_clean_answers(run, product)
    assert run.statuses == {201: stock, 409: buyers - stock}
    sold = assert_orders_match(run, product)
    assert sold == stock
    product.refresh_from_db()
    assert product.stock == 0
    assert product.status == ProductStatus.SOLD_OUT
    assert watch.lowest_stock >= 0
    assert_bounded(server, watch, buyers)


# --- The tests ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.slow
def test_200_buyers_for_50_units_make_exactly_50_orders_on_postgresql(make_user, server, listing):
    one_unit_each(make_user, server, listing, buyers=200, stock=50)


@pytest.mark.postgres
@pytest.mark.slow
def test_random_quantities_sell_exactly_the_stock_taken_on_postgresql(make_user, server, listing):
    stock = 250
    rng = random.Random(20260505)
    quantities = [rng.randint(1, 5) for _ in range(200)]
    assert sum(quantities) > stock  # the crowd wants more than there is
    product = listing(stock)
    people = crowd(make_user, product, quantities)
    watch = Watch(product_id=product.pk)

    run = check_out_together(server, people, watch)

    assert_clean_answers(run, product)
    assert run.with_status(201) and run.with_status(409)
    sold = assert_orders_match(run, product)
    product.refresh_from_db()
    assert product.stock >= 0
    assert watch.lowest_stock >= 0
    assert sold == stock - product.stock  # units sold == stock taken
    # Nobody was refused while their quantity still fitted: the stock only goes down.
    assert all(buyer.quantity > product.stock for buyer in run.with_status(409))
    assert (product.status == ProductStatus.SOLD_OUT) == (product.stock == 0)
    assert_bounded(server, watch, len(quantities))


# The SQLite tier of CI runs this one (PostgreSQL runs it too, beside the two crowds above).
def test_30_buyers_for_10_units_make_exactly_10_orders_on_every_database(make_user, server, listing):
    one_unit_each(make_user, server, listing, buyers=30, stock=10)
