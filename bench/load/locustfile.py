"""The load scenario: buyers browsing and searching, checkouts with cash on delivery, households
editing stock, officials on the dashboard.

Run by `python -m bench.load` (one locust process per step); by hand:

    LOAD_CREDENTIALS=var/bench/load/credentials.json LOAD_USER_RATE=0.5 \\
        locust -f bench/load/locustfile.py --headless --host http://127.0.0.1:8000 -u 40 -r 10 -t 60s

Environment:
- LOAD_CREDENTIALS: the JSON written by the seeding step (`bench.load.seed`): tokens, the
  officials' session cookies, listing, household, category and ward ids, the checkout pool.
- LOAD_USER_RATE: requests per second each simulated user sends (0.5 by default). Each user paces
  itself in requests, not in tasks (`paced` below): a checkout of five requests waits five times as
  long as a page view, so the users together send `users × rate` requests a second as long as the
  server keeps up, whatever mix of tasks they draw.
- LOAD_BUYER_OFFSET: the first buyer a checkout uses (the orchestrator moves it on every step, so
  no buyer checks out twice in a run: see "Answers" below).
- LOAD_MARKER: a file written when every user is running (statistics are reset then with
  `--reset-stats`): the orchestrator starts counting CPU time at that moment.

Answers: every request names the one status it must get (200, or 201 for a cart line and a
placed order) and anything else is a failure, redirects included (the dashboard redirecting to the
login page is a failure, not a success). No business refusal is accepted as correct, because the
seed makes them impossible rather than excusing them:
- sold out or too little stock (409 `cart_conflict`): checkouts buy the minimum order of listings
  whose stock was raised to a million units, and households set stock between 500,000 and
  1,000,000, never less;
- cash-on-delivery cap (409 `cod_limit`): each checkout uses a buyer who has no open order, and
  lines cost at most 300,000 đồng, far below the 2,000,000 cap;
- the checkout rate limit (429, 30 an hour per buyer): one checkout per buyer per run;
- a cart that changed under the buyer (409 `cart_changed`): a buyer is used by one user only.
So any 4xx or 5xx is either a bug or the server falling over, and counts against the step.
"""

import itertools
import json
import os
import random
import time
from pathlib import Path
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, events, task

CREDENTIALS_FILE = Path(os.environ.get("LOAD_CREDENTIALS", "var/bench/load/credentials.json"))
CREDENTIALS = json.loads(CREDENTIALS_FILE.read_text())
USER_RATE = float(os.environ.get("LOAD_USER_RATE", "0.5"))
BUYER_OFFSET = int(os.environ.get("LOAD_BUYER_OFFSET", "0"))

PRODUCTS = CREDENTIALS["products"]
FARMS = CREDENTIALS["farms"]
CATEGORIES = CREDENTIALS["categories"]
CATEGORY_IDS = CREDENTIALS["category_ids"]
WARDS = CREDENTIALS["wards"]
TERMS = CREDENTIALS["search_terms"]
POOL = CREDENTIALS["checkout_pool"]
STOCK_LOW, STOCK_HIGH = CREDENTIALS["stock_range"]
SESSION_COOKIE = CREDENTIALS["session_cookie_name"]

MARKER = os.environ.get("LOAD_MARKER")

_buyers = itertools.islice(itertools.cycle(CREDENTIALS["buyers"]), BUYER_OFFSET, None)
_households = itertools.cycle(CREDENTIALS["households"])
_officials = itertools.cycle(CREDENTIALS["officials"])


@events.spawning_complete.add_listener
def _all_running(user_count, **_kwargs):
    if MARKER:
        Path(MARKER).write_text(f"{time.time()} {user_count}\n")


class Paced(FastHttpUser):
    """A user that sends USER_RATE requests a second on average, counting requests, not tasks."""

    abstract = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent = 0
        self.next_start = None

    def on_start(self):
        # Users start spread over one pacing interval instead of all at once.
        gevent.sleep(random.uniform(0, 1 / USER_RATE))

    def wait_time(self) -> float:
        now = time.monotonic()
        if self.next_start is None:
            self.next_start = now
        self.next_start += max(self.sent, 1) / USER_RATE
        self.sent = 0
        if self.next_start < now:  # behind (a slow server): start now, do not catch up in a burst
            self.next_start = now
        return self.next_start - now

    def call(self, method: str, path: str, *, name: str, expect: int = 200, **kwargs):
        """Send one request; return the response when its status is `expect`, else fail it and return None."""
        self.sent += 1
        with self.client.request(
            method, path, name=name, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            if response.status_code == expect:
                response.success()
                return response
            body = (response.text or "")[:300] if response.status_code else str(response.error)
            response.failure(f"{response.status_code} (expected {expect}): {body}")
            return None

    def api(self, method: str, path: str, *, name: str, token: str | None = None, **kwargs):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        return self.call(method, path, name=name, headers=headers, **kwargs)

    def page(self, path: str, *, name: str, cookie: str | None = None):
        headers = {"Accept": "text/html", "Accept-Language": "vi"}
        if cookie:
            headers["Cookie"] = cookie
        return self.call("GET", path, name=name, headers=headers)


class BrowsingBuyer(Paced):
    """Someone looking around: the home page, categories, listings and farms, pages and API."""

    weight = 10

    @task(1)
    def home(self):
        self.page("/", name="page /")

    @task(2)
    def category(self):
        page = random.choice(["", "", "?page=2", "?ordering=price"])
        self.page(f"/danh-muc/{random.choice(CATEGORIES)}/{page}", name="page /danh-muc/[slug]/")

    @task(2)
    def api_list(self):
        query = random.choice(
            [
                f"?page={random.randint(1, 5)}",
                f"?category={random.choice(CATEGORY_IDS)}",
                "?ordering=price&in_stock=true",
                "?page_size=50",
            ]
        )
        self.api("GET", f"/api/v1/products/{query}", name="api GET /products/")

    @task(3)
    def product_page(self):
        self.page(f"/san-pham/{random.choice(PRODUCTS)}/", name="page /san-pham/[id]/")

    @task(1)
    def api_product(self):
        self.api("GET", f"/api/v1/products/{random.choice(PRODUCTS)}/", name="api GET /products/[id]/")

    @task(1)
    def farm_page(self):
        self.page(f"/nong-ho/{random.choice(FARMS)}/", name="page /nong-ho/[id]/")


class SearchingBuyer(Paced):
    """Someone searching in Vietnamese, with and without accents, then opening a result."""

    weight = 5

    @task(1)
    def search_page(self):
        self.page(f"/tim-kiem/?{urlencode({'q': random.choice(TERMS)})}", name="page /tim-kiem/?q=")

    @task(1)
    def api_search_then_open(self):
        query = urlencode({"q": random.choice(TERMS)})
        found = self.api("GET", f"/api/v1/products/?{query}", name="api GET /products/?q=")
        results = found.json().get("results", []) if found is not None else []
        if results:
            self.page(f"/san-pham/{random.choice(results[:5])['id']}/", name="page /san-pham/[id]/")


class CheckoutBuyer(Paced):
    """A buyer (API token) who fills a cart, asks for the delivery fee and orders, cash on delivery."""

    weight = 2

    @task
    def checkout(self):
        buyer = next(_buyers)
        token = buyer["token"]
        lines = random.sample(POOL, random.choice([1, 1, 2]))
        cart = None
        for line in lines:
            cart = self.api(
                "POST",
                "/api/v1/cart/items/",
                token=token,
                json=line,
                name="api POST /cart/items/",
                expect=201,
            )
            if cart is None:
                return
        ward = random.choice(WARDS)
        quote = self.api(
            "GET", f"/api/v1/checkout/?ward={ward}", token=token, name="api GET /checkout/?ward="
        )
        if quote is None:
            return
        order = self.api(
            "POST",
            "/api/v1/checkout/",
            token=token,
            name="api POST /checkout/ (cod)",
            expect=201,
            json={
                "delivery": {
                    "name": "Người nhận",
                    "phone": buyer["phone"],
                    "address": "Ấp Mỹ Ái",
                    "ward": ward,
                },
                "payment_method": "cod",
                "note": "",
                "cart_version": cart.json()["version"],
            },
        )
        if order is not None:
            path = f"/api/v1/orders/{order.json()['id']}/"
            self.api("GET", path, token=token, name="api GET /orders/[id]/")


class Household(Paced):
    """A farm household on its phone: its listings, its orders, and a stock count after the harvest."""

    weight = 2

    def on_start(self):
        household = next(_households)
        self.token, self.products = household["token"], household["products"]
        super().on_start()

    @task(1)
    def my_products(self):
        self.api("GET", "/api/v1/my/products/", token=self.token, name="api GET /my/products/")

    @task(3)
    def edit_stock(self):
        self.api(
            "PATCH",
            f"/api/v1/products/{random.choice(self.products)}/",
            token=self.token,
            json={"stock": str(random.randrange(STOCK_LOW, STOCK_HIGH))},
            name="api PATCH /products/[id]/ (stock)",
        )

    @task(1)
    def farm_orders(self):
        self.api("GET", "/api/v1/farm-orders/", token=self.token, name="api GET /farm-orders/")


class Official(Paced):
    """An agricultural official: the sales dashboard (session cookie) and the stats API (token)."""

    weight = 1

    def on_start(self):
        official = next(_officials)
        self.token = official["token"]
        self.cookie = f"{SESSION_COOKIE}={official['session']}"
        super().on_start()

    @task(2)
    def dashboard(self):
        preset = random.choice(["month", "month", "week", "quarter"])
        self.page(f"/official/stats/?preset={preset}", name="page /official/stats/", cookie=self.cookie)

    @task(2)
    def sales_by_day(self):
        self.api("GET", "/api/v1/stats/sales/?group_by=day", token=self.token, name="api GET /stats/sales/")

    @task(1)
    def sales_by_category(self):
        self.api(
            "GET", "/api/v1/stats/sales/?group_by=category", token=self.token, name="api GET /stats/sales/"
        )

    @task(1)
    def prices(self):
        product = random.choice(POOL)["product"]
        self.api(
            "GET", f"/api/v1/stats/prices/?product={product}", token=self.token, name="api GET /stats/prices/"
        )

    @task(1)
    def fulfilment(self):
        self.api("GET", "/api/v1/stats/fulfilment/", token=self.token, name="api GET /stats/fulfilment/")
