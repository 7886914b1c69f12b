"""Orders from checkout to completed, driven the way people drive them (issue #7, first "done when").

Each actor uses its own token on the REST API: the buyer fills a cart, asks for a quote and
checks out (a card buyer pays on the Stripe stand-in's page and Stripe calls the signed webhook);
households accept and mark ready (weighing a line sold by weight); the scheduler builds each
day's collection runs with `build_collection_runs --date`; the courier takes its run and taps
each step (collecting the cash on delivery); the buyer reports a problem within the window and
the household refunds part of the line; staff pay a household out; the periodic task completes
the order once the 48 hours are over. The clock moves with `time_machine` between days.

Every task a transaction enqueues runs after its commit, as a worker would run it
(`django_capture_on_commit_callbacks(execute=True)` around each action; Celery is eager in
tests), so the settlement task, the notices and the refund to Stripe really run.

The expected money is written as integers worked out by hand in the comments, never computed
by the code under test. COMMISSION_PERCENT is 5 and TAX_WITHHELD_PERCENT 1.5 (the settings'
defaults, pinned by `_rates`). Prices are chosen so commission and tax land on exactly half a
đồng with an EVEN đồng below it: rounding half-up goes to the odd đồng above, where rounding
half-to-even (or truncating) would stay on the even one, so the test tells them apart.
"""

import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from farms.models import Category, Product
from logistics.models import Zone
from marketplace.accounts.models import Role
from marketplace.accounts.services import token_for
from marketplace.notifications.models import Notification
from orders.models import LedgerEntry
from orders.tasks import complete_delivered_orders
from tests.farms.factories import make_farm, make_product, ward
from tests.orders import conftest as orders_fixtures
from tests.orders.conftest import WEBHOOK_SECRET
from tests.stripe_standin import sign

pytestmark = pytest.mark.django_db

# The orders tests' fixtures, used here too: media in a temporary folder (autouse) and the Stripe
# stand-in with the app's keys pointing the real `stripe` library at it.
_media_in_tmp = orders_fixtures._media_in_tmp
stripe_standin = orders_fixtures.stripe_standin

CAN_THO = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 12, 7, 8, 0, tzinfo=CAN_THO)  # checkout; the whole story stays in 2026-12
WINDOW = timedelta(hours=48)  # PROBLEM_REPORT_HOURS
SEEDED_FEE = 20000  # every seeded zone: 20,000 đồng covers the first 5 kg
API = "/api/v1"

MANGOSTEEN, POMELO, RAMBUTAN, RICE, BERRIES, HONEY = 203, 202, 204, 101, 210, 603


# --- Helpers ---------------------------------------------------------------------------------------


class Actor:
    """One person on the API with their own token.

    Every call checks the status it expects (and that nothing answered 5xx), and runs the tasks
    its transaction enqueued after commit, as a worker would.
    """

    def __init__(self, user, capture):
        self.user = user
        self.capture = capture
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=user)}")

    def _answer(self, response, method: str, url: str, expect: int):
        assert response.status_code < 500, (method, url, response.status_code)
        assert response.status_code == expect, (method, url, response.status_code, response.content)
        return response.json()

    def get(self, url: str, *, expect: int = 200):
        with self.capture(execute=True):
            response = self.client.get(url)
        return self._answer(response, "GET", url, expect)

    def post(self, url: str, data=None, *, expect: int = 200):
        with self.capture(execute=True):
            response = self.client.post(url, data, format="json")
        return self._answer(response, "POST", url, expect)


@pytest.fixture
def actor(make_user, django_capture_on_commit_callbacks):
    """Create a user of a role and return them as an `Actor`."""

    def make(role, **fields):
        return Actor(make_user(role, **fields), django_capture_on_commit_callbacks)

    return make


@pytest.fixture
def run_after_commit(django_capture_on_commit_callbacks):
    """Run a callable (a task, a command) and then the tasks its transactions enqueued."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture(autouse=True)
def _rates(settings):
    # The figures below are worked out by hand for these rates (the settings' defaults).
    settings.COMMISSION_PERCENT = "5"
    settings.TAX_WITHHELD_PERCENT = "1.5"
    settings.PROBLEM_REPORT_HOURS = 48


@pytest.fixture
def clock():
    """Cần Thơ, Monday 7 December 2026, 08:00; `clock.move_to(...)` moves on (time keeps ticking)."""
    with time_machine.travel(MONDAY, tick=True) as traveller:
        yield traveller


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CAN_THO)


def first_ward_of(zone_name: str):
    """The first ward on a seeded zone's route."""
    return Zone.objects.get(name=zone_name).route.order_by("position", "ward").first().ward


def household(make_user, name: str, **fields):
    """A verified household (registered and approved through the farms services)."""
    return make_farm(make_user, name=name, **fields)


def listing(farm, *, name, category, price, stock, unit="kg", **fields):
    return make_product(
        farm, name=name, category=category, unit=unit, price=price, stock=stock, status="active", **fields
    )


def stock_of(product) -> Decimal:
    return Product.objects.get(pk=product.pk).stock


def checkout(buyer: Actor, items, *, payment_method: str, delivery_ward=None) -> tuple[dict, dict]:
    """Put `items` [(listing, quantity)] in the cart, ask for the quote, place the order.

    Return (quote, placed order) as the API answered them.
    """
    for product, quantity in items:
        buyer.post(f"{API}/cart/items/", {"product": product.pk, "quantity": quantity}, expect=201)
    code = (delivery_ward or ward(3)).pk
    quote = buyer.get(f"{API}/checkout/?ward={code}")
    placed = buyer.post(
        f"{API}/checkout/",
        {
            "delivery": {
                "name": "Chị Lan",
                "phone": "0912 345 678",
                "address": "12 đường 30/4",
                "ward": code,
            },
            "payment_method": payment_method,
            "cart_version": quote["cart"]["version"],
        },
        expect=201,
    )
    assert (placed["subtotal"], placed["delivery_fee"], placed["total"]) == (
        quote["subtotal"],
        quote["delivery_fee"],
        quote["total"],
    )
    return quote, placed


def part_of(farmer: Actor, order_id: int) -> dict:
    """The household's own part of an order, as `GET farm-orders/?order=` lists it."""
    listed = farmer.get(f"{API}/farm-orders/?order={order_id}")
    (part,) = listed["results"]
    return part


def build_runs(run_after_commit, day: date) -> str:
    """The scheduler's step for a day: `build_collection_runs --date` (its output returned)."""
    out = io.StringIO()
    run_after_commit(call_command, "build_collection_runs", "--date", day.isoformat(), stdout=out)
    return out.getvalue()


def run_of_day(courier: Actor, day: date, *, claim: bool) -> dict:
    """The courier's one run of the day (claimed first when its zone has no courier), in detail."""
    (run,) = courier.get(f"{API}/runs/?date={day.isoformat()}")["results"]
    if claim:
        assert run["courier"] is None
        courier.post(f"{API}/runs/{run['id']}/claim/")
    else:
        assert run["courier"] == courier.user.pk  # assigned: the courier works the zone
    detail = courier.get(f"{API}/runs/{run['id']}/")
    assert detail["courier"] == courier.user.pk
    return detail


def step(courier: Actor, shipment_id: int, type_: str, **data) -> dict:
    return courier.post(f"{API}/shipments/{shipment_id}/events/", {"type": type_, **data}, expect=201)


def carry(courier: Actor, shipment_id: int, *, cash_collected: int | None = None) -> dict:
    """Pick up, carry and deliver one shipment, one tap each; return the shipment as delivered."""
    step(courier, shipment_id, "picked_up")
    step(courier, shipment_id, "in_transit")
    extra = {} if cash_collected is None else {"cash_collected": cash_collected}
    return step(courier, shipment_id, "delivered", **extra)


def vi(message: str, **params) -> str:
    with translation.override("vi"):
        text = gettext(message)
    return text % params if params else text


def step_notices(farm_name: str) -> list[str]:
    """What the buyer is told (in Vietnamese) as one household's goods are picked up, carried, delivered."""
    return [
        vi("Your goods from %(farm)s are picked up", farm=farm_name),
        vi("Your goods from %(farm)s are on the way", farm=farm_name),
        vi("Your goods from %(farm)s are delivered", farm=farm_name),
    ]


def shipment_notices(buyer, order_number: str, farm_name: str) -> list[str]:
    """The subjects of the buyer's notices about one household's shipment, oldest first."""
    wanted = set(step_notices(farm_name))
    prefix = f"{order_number}: "
    subjects = (
        Notification.objects.filter(user=buyer, subject__startswith=prefix)
        .order_by("created_at", "id")
        .values_list("subject", flat=True)
    )
    return [subject.removeprefix(prefix) for subject in subjects if subject.removeprefix(prefix) in wanted]


def stripe_calls(run_after_commit, standin, type_: str, obj: dict):
    """Stripe posts a signed event to the webhook; return the response (its tasks have run)."""
    payload = json.dumps(standin.event(type_, obj)).encode()
    response = run_after_commit(
        Client().post,
        "/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, WEBHOOK_SECRET),
    )
    assert response.status_code == 200, response.content
    return response


def entries_of(farm) -> list[tuple]:
    """(kind, gross, commission, tax, net) of a household's ledger entries, oldest first."""
    return list(
        LedgerEntry.objects.filter(farm=farm)
        .order_by("at", "id")
        .values_list("kind", "gross", "commission", "tax", "net")
    )


def order_status(buyer: Actor, order_id: int) -> tuple[str, str]:
    data = buyer.get(f"{API}/orders/{order_id}/")
    return data["status"], data["payment_status"]


# --- 1. Cash on delivery, one household, a line weighed lighter ------------------------------------


def test_cash_on_delivery_from_checkout_to_completed(clock, actor, make_user, run_after_commit):
    inner = Zone.objects.get(name="Nội thành")
    courier = actor(Role.COURIER, full_name="Anh Ba")
    inner.couriers.add(courier.user)  # staff put the courier on the zone: its runs are assigned
    farmer = actor(Role.FARMER)
    farm = household(make_user, name="Hộ ông Tư", owner=farmer.user, ward_index=0)  # in Nội thành
    mangosteen = listing(farm, name="Măng cụt Phong Điền", category=MANGOSTEEN, price=47000, stock="50")
    pomelo = listing(
        farm, name="Bưởi da xanh", category=POMELO, unit="trai", price=45000, stock="20", unit_weight_kg="1.2"
    )
    buyer = actor(Role.BUYER, full_name="Chị Lan")

    # Checkout: 2 kg × 47,000 = 94,000 and 2 trái × 45,000 = 90,000: subtotal 184,000. Weight
    # 2 kg + 2 × 1.2 kg = 4.4 kg, within the 5 kg the seeded 20,000 đồng fee covers.
    quote, placed = checkout(buyer, [(mangosteen, "2"), (pomelo, "2")], payment_method="cod")
    assert (quote["subtotal"], quote["delivery_fee"], quote["total"]) == (184000, SEEDED_FEE, 204000)
    order_id = placed["id"]
    assert (placed["status"], placed["payment_status"]) == ("confirmed", "unpaid")  # cash: confirmed at once
    assert (stock_of(mangosteen), stock_of(pomelo)) == (Decimal("48"), Decimal("18"))  # taken at checkout

    # The household accepts, then packs: the mangosteen weighs 1.87 kg (within 10% of 2 kg).
    part = part_of(farmer, order_id)
    assert part["status"] == "new" and part["subtotal"] == 184000
    farmer.post(f"{API}/farm-orders/{part['id']}/accept/")
    assert order_status(buyer, order_id) == ("processing", "unpaid")
    weighed = next(line for line in part["lines"] if line["product"] == mangosteen.pk)
    clock.move_to(at(MONDAY.date(), 10))
    ready = farmer.post(
        f"{API}/farm-orders/{part['id']}/ready/", {"actual_quantities": {str(weighed["id"]): "1.87"}}
    )
    # 1.87 kg × 47,000 = 87,890 (was 94,000): subtotal 87,890 + 90,000 = 177,890.
    assert ready["status"] == "ready" and ready["subtotal"] == 177890
    assert {line["id"]: line["line_total"] for line in ready["lines"]}[weighed["id"]] == 87890
    assert stock_of(mangosteen) == Decimal("48.13")  # the 0.13 kg not sent goes back on sale
    assert stock_of(pomelo) == Decimal("18")
    shipment_id = ready["shipment"]["id"]

    # The scheduler builds the day's runs; the zone's courier gets the run and sees the cash to
    # collect: 177,890 of goods + the 20,000 fee (the order's first shipment) = 197,890.
    assert "1 run(s) built" in build_runs(run_after_commit, MONDAY.date())
    run = run_of_day(courier, MONDAY.date(), claim=False)
    (pickup,) = run["pickups"]
    assert (pickup["id"], pickup["cash_to_collect"]) == (shipment_id, 197890)
    assert courier.get(f"{API}/shipments/{shipment_id}/")["cash_to_collect"] == 197890
    clock.move_to(at(MONDAY.date(), 14))
    delivered = carry(courier, shipment_id, cash_collected=197890)
    assert (delivered["status"], delivered["cash_collected"]) == ("delivered", 197890)

    data = buyer.get(f"{API}/orders/{order_id}/")
    assert (data["status"], data["payment_status"], data["total"]) == ("delivered", "paid", 197890)
    assert data["payment"]["status"] == "paid" and data["payment"]["paid_amount"] == 197890
    assert data["farm_orders"][0]["shipment"]["id"] == shipment_id
    assert shipment_notices(buyer.user, data["number"], "Hộ ông Tư") == step_notices("Hộ ông Tư")

    # The ledger: gross 177,890; commission 5% = 8,894.5 → 8,895 half-up (half-even: 8,894);
    # no tax on the household's own fruit; net 177,890 − 8,895 = 168,995.
    assert entries_of(farm) == [("sale", 177890, 8895, 0, 168995)]

    # The sweep before the 48 hours are over completes nothing; after them, the order.
    clock.move_to(at(MONDAY.date(), 13) + WINDOW)
    assert run_after_commit(complete_delivered_orders.delay).get() == 0
    assert order_status(buyer, order_id) == ("delivered", "paid")
    clock.move_to(at(MONDAY.date(), 15) + WINDOW)
    assert run_after_commit(complete_delivered_orders.delay).get() == 1
    assert order_status(buyer, order_id) == ("completed", "paid")
    assert entries_of(farm) == [("sale", 177890, 8895, 0, 168995)]  # completing books nothing more


# --- 2. Card through Stripe, processed goods taxed, a problem partly refunded ----------------------


def test_card_order_with_taxed_goods_and_a_problem_refund(
    clock, actor, make_user, run_after_commit, stripe_standin
):
    honey_category = Category.objects.get(slug="mat-ong-tra")
    assert honey_category.pk == HONEY and honey_category.processed
    courier = actor(Role.COURIER, full_name="Anh Năm")  # works no zone; claims the open run
    farmer = actor(Role.FARMER)
    # "Ngoại thành Cần Thơ" has no courier: its runs wait for one to claim them.
    farm = household(
        make_user, name="Hộ bà Sáu", owner=farmer.user, ward=first_ward_of("Ngoại thành Cần Thơ")
    )
    honey = listing(
        farm,
        name="Mật ong hoa tràm",
        category=HONEY,
        unit="hop",
        price=90150,
        stock="10",
        unit_weight_kg="0.5",
    )
    rambutan = listing(farm, name="Chôm chôm Thái", category=RAMBUTAN, price=47995, stock="30")
    buyer = actor(Role.BUYER)

    # 2 hộp × 90,150 = 180,300 (taxed) and 2 kg × 47,995 = 95,990: subtotal 276,290; weight
    # 2 × 0.5 + 2 = 3 kg: fee 20,000; total 296,290.
    quote, placed = checkout(buyer, [(honey, "2"), (rambutan, "2")], payment_method="stripe")
    assert (quote["subtotal"], quote["delivery_fee"], quote["total"]) == (276290, SEEDED_FEE, 296290)
    order_id = placed["id"]
    assert (placed["status"], placed["payment_status"]) == ("pending_payment", "unpaid")
    assert (stock_of(honey), stock_of(rambutan)) == (Decimal("8"), Decimal("28"))  # held for the payment
    assert farmer.get(f"{API}/farm-orders/")["count"] == 0  # nothing to prepare before payment

    # The buyer pays on the Stripe page they were sent to; Stripe calls the signed webhook.
    (session,) = [s for s in stripe_standin.all("checkout.session") if s["url"] == placed["payment"]["url"]]
    assert (session["amount_total"], session["currency"]) == (296290, "vnd")
    paid_session = stripe_standin.complete(session["id"])
    stripe_calls(run_after_commit, stripe_standin, "checkout.session.completed", paid_session)
    assert order_status(buyer, order_id) == ("confirmed", "paid")

    part = part_of(farmer, order_id)
    farmer.post(f"{API}/farm-orders/{part['id']}/accept/")
    clock.move_to(at(MONDAY.date(), 10))
    ready = farmer.post(f"{API}/farm-orders/{part['id']}/ready/", {})
    assert ready["subtotal"] == 276290
    shipment_id = ready["shipment"]["id"]

    assert "1 run(s) built" in build_runs(run_after_commit, MONDAY.date())
    run = run_of_day(courier, MONDAY.date(), claim=True)
    (pickup,) = run["pickups"]
    assert (pickup["id"], pickup["cash_to_collect"]) == (shipment_id, 0)  # paid by card
    clock.move_to(at(MONDAY.date(), 14))
    carry(courier, shipment_id)
    data = buyer.get(f"{API}/orders/{order_id}/")
    assert (data["status"], data["payment_status"]) == ("delivered", "paid")
    assert shipment_notices(buyer.user, data["number"], "Hộ bà Sáu") == step_notices("Hộ bà Sáu")

    # The sale: gross 276,290; commission 5% = 13,814.5 → 13,815 (half-even: 13,814); tax 1.5% of
    # the honey only, 180,300 × 0.015 = 2,704.5 → 2,705 (half-even: 2,704); net 276,290 − 13,815 −
    # 2,705 = 259,770.
    assert entries_of(farm) == [("sale", 276290, 13815, 2705, 259770)]

    # The next evening (within 48 hours) the buyer reports one jar cracked; the household refunds
    # 60,000 of the 180,300 the honey cost.
    clock.move_to(at(MONDAY.date() + timedelta(days=1), 19))
    honey_line = next(line for line in data["farm_orders"][0]["lines"] if line["product"] == honey.pk)
    problem = buyer.post(
        f"{API}/orders/{order_id}/problems/",
        {"line": honey_line["id"], "kind": "damaged", "quantity": "1", "description": "Vỡ một hũ"},
        expect=201,
    )
    assert problem["status"] == "open"
    resolved = farmer.post(f"{API}/problems/{problem['id']}/resolve/", {"refund_amount": 60000})
    assert (resolved["status"], resolved["refund_amount"]) == ("resolved", 60000)

    # Stripe got the refund, once, on the buyer's payment, keyed by the problem.
    (refund,) = stripe_standin.all("refund")
    assert (refund["amount"], refund["payment_intent"], refund["status"]) == (
        60000,
        paid_session["payment_intent"],
        "succeeded",
    )
    (sent,) = stripe_standin.requests_to("POST", "/v1/refunds")
    assert sent.idempotency_key == f"cho-noi-refund-problem-{problem['id']}"
    # Stripe then tells us of the refund it made: nothing is counted twice.
    charge = stripe_standin.get(refund["charge"])
    stripe_calls(run_after_commit, stripe_standin, "charge.refunded", charge)
    data = buyer.get(f"{API}/orders/{order_id}/")
    assert data["payment_status"] == "partially_refunded"
    assert (data["payment"]["paid_amount"], data["payment"]["refunded_amount"]) == (296290, 60000)
    assert len(stripe_standin.all("refund")) == 1

    # The refund entry books the difference to the rule on 276,290 − 60,000 = 216,290:
    # commission 10,814.5 → 10,815 (half-even: 10,814); tax on 180,300 − 60,000 = 120,300:
    # 1,804.5 → 1,805 (half-even: 1,804); net 216,290 − 10,815 − 1,805 = 203,670. So the refund
    # entry is gross −60,000, commission 10,815 − 13,815 = −3,000, tax 1,805 − 2,705 = −900,
    # net 203,670 − 259,770 = −56,100.
    assert entries_of(farm) == [
        ("sale", 276290, 13815, 2705, 259770),
        ("refund", -60000, -3000, -900, -56100),
    ]
    totals = [sum(column) for column in zip(*(entry[1:] for entry in entries_of(farm)), strict=True)]
    assert totals == [216290, 10815, 1805, 203670]

    # Completed once the window of the delivery (Monday 14:00) is over.
    clock.move_to(at(MONDAY.date(), 15) + WINDOW)
    assert run_after_commit(complete_delivered_orders.delay).get() == 1
    assert order_status(buyer, order_id) == ("completed", "partially_refunded")
    assert len(entries_of(farm)) == 2


# --- 3. Two households, delivered on different days; a statement and a payout ----------------------


def test_mixed_order_from_two_households_delivered_on_two_days(clock, actor, make_user, run_after_commit):
    inner = Zone.objects.get(name="Nội thành")
    courier = actor(Role.COURIER, full_name="Anh Ba")
    inner.couriers.add(courier.user)
    rice_farmer, berry_farmer = actor(Role.FARMER), actor(Role.FARMER)
    rice_farm = household(make_user, name="Hộ ông Bảy", owner=rice_farmer.user, ward_index=0)
    berry_farm = household(make_user, name="Hộ cô Tám", owner=berry_farmer.user, ward_index=1)
    rice = listing(rice_farm, name="Gạo ST25", category=RICE, price=34990, stock="100")
    berries = listing(berry_farm, name="Dâu Hạ Châu", category=BERRIES, price=120060, stock="10")
    buyer = actor(Role.BUYER)
    staff = actor(Role.STAFF)

    # 3 kg × 34,990 = 104,970 and 1.5 kg × 120,060 = 180,090: subtotal 285,060; 4.5 kg: fee
    # 20,000; total 305,060.
    quote, placed = checkout(buyer, [(rice, "3"), (berries, "1.5")], payment_method="cod")
    assert (quote["subtotal"], quote["delivery_fee"], quote["total"]) == (285060, SEEDED_FEE, 305060)
    order_id = placed["id"]
    assert (stock_of(rice), stock_of(berries)) == (Decimal("97"), Decimal("8.5"))
    rice_part, berry_part = part_of(rice_farmer, order_id), part_of(berry_farmer, order_id)
    assert (rice_part["subtotal"], berry_part["subtotal"]) == (104970, 180090)
    rice_farmer.post(f"{API}/farm-orders/{rice_part['id']}/accept/")
    berry_farmer.post(f"{API}/farm-orders/{berry_part['id']}/accept/")

    # Day 1: the rice is packed and goes out on Tuesday's run; the berries are not ready yet.
    tuesday = MONDAY.date() + timedelta(days=1)
    clock.move_to(at(tuesday, 5))
    rice_ready = rice_farmer.post(f"{API}/farm-orders/{rice_part['id']}/ready/")
    rice_shipment = rice_ready["shipment"]["id"]
    clock.move_to(at(tuesday, 6))
    assert "1 run(s) built" in build_runs(run_after_commit, tuesday)
    run = run_of_day(courier, tuesday, claim=False)
    # The first shipment carries the fee: 104,970 + 20,000 = 124,970.
    assert [(p["id"], p["cash_to_collect"]) for p in run["pickups"]] == [(rice_shipment, 124970)]
    clock.move_to(at(tuesday, 9))
    carry(courier, rice_shipment, cash_collected=124970)
    # The roll-up (orders/states.py): "shipped" only once every live part is with the carrier or
    # delivered; the berries are still at the farm, so the order stays "processing", and the cash
    # collected so far (124,970 of 305,060) does not make it paid.
    assert order_status(buyer, order_id) == ("processing", "unpaid")
    # The rice household's sale is booked at once: 104,970 × 5% = 5,248.5 → 5,249 (half-even:
    # 5,248); net 104,970 − 5,249 = 99,721.
    assert entries_of(rice_farm) == [("sale", 104970, 5249, 0, 99721)]
    assert entries_of(berry_farm) == []

    # Day 2: the berries go out on Wednesday's run.
    wednesday = tuesday + timedelta(days=1)
    clock.move_to(at(wednesday, 5))
    berry_ready = berry_farmer.post(f"{API}/farm-orders/{berry_part['id']}/ready/")
    berry_shipment = berry_ready["shipment"]["id"]
    clock.move_to(at(wednesday, 6))
    assert "1 run(s) built" in build_runs(run_after_commit, wednesday)
    assert courier.get(f"{API}/runs/?date={tuesday.isoformat()}")["results"][0]["done"] == 1
    run = run_of_day(courier, wednesday, claim=False)
    assert [(p["id"], p["cash_to_collect"]) for p in run["pickups"]] == [(berry_shipment, 180090)]
    clock.move_to(at(wednesday, 8))
    step(courier, berry_shipment, "picked_up")
    assert order_status(buyer, order_id) == ("shipped", "unpaid")  # every live part out or delivered
    step(courier, berry_shipment, "in_transit")
    clock.move_to(at(wednesday, 9))
    step(courier, berry_shipment, "delivered", cash_collected=180090)
    assert order_status(buyer, order_id) == ("delivered", "paid")  # 124,970 + 180,090 = 305,060
    # 180,090 × 5% = 9,004.5 → 9,005 (half-even: 9,004); net 180,090 − 9,005 = 171,085.
    assert entries_of(berry_farm) == [("sale", 180090, 9005, 0, 171085)]
    assert entries_of(rice_farm) == [("sale", 104970, 5249, 0, 99721)]

    data = buyer.get(f"{API}/orders/{order_id}/")
    assert shipment_notices(buyer.user, data["number"], "Hộ ông Bảy") == step_notices("Hộ ông Bảy")
    assert shipment_notices(buyer.user, data["number"], "Hộ cô Tám") == step_notices("Hộ cô Tám")

    # The rice household's December statement: its sale, closing at its net.
    statement = rice_farmer.get(f"{API}/ledger/?month=2026-12")
    assert (statement["opening_balance"], statement["closing_balance"]) == (0, 99721)
    assert [
        (e["kind"], e["order_number"], e["gross"], e["commission"], e["tax"], e["net"])
        for e in statement["results"]
    ] == [("sale", data["number"], 104970, 5249, 0, 99721)]
    # Staff transfer that balance; it comes to 0.
    clock.move_to(at(wednesday, 15))
    payout = staff.post(
        f"{API}/payouts/",
        {"farm": rice_farm.pk, "amount": 99721, "reference": "VCB 20261209 0001"},
        expect=201,
    )
    assert (payout["amount"], payout["net"], payout["balance"]) == (99721, -99721, 0)
    statement = rice_farmer.get(f"{API}/ledger/?month=2026-12")
    assert statement["closing_balance"] == 0
    assert [e["kind"] for e in statement["results"]] == ["sale", "payout"]

    # Completed once 48 hours have passed since the LAST delivery (Wednesday 09:00).
    clock.move_to(at(wednesday, 8) + WINDOW)
    assert run_after_commit(complete_delivered_orders.delay).get() == 0
    clock.move_to(at(wednesday, 10) + WINDOW)
    assert run_after_commit(complete_delivered_orders.delay).get() == 1

    # The buyer's timeline shows every change, with its day: the order's own, and each part's.
    data = buyer.get(f"{API}/orders/{order_id}/")
    assert data["status"] == "completed"

    def changes(farm_order):
        return [
            (entry["status"], datetime.fromisoformat(entry["at"]).astimezone(CAN_THO).date())
            for entry in data["timeline"]
            if entry["farm_order"] == farm_order
        ]

    monday, friday = MONDAY.date(), wednesday + timedelta(days=2)
    assert changes(None) == [
        ("pending_payment", monday),
        ("confirmed", monday),  # cash on delivery: confirmed at once
        ("processing", monday),  # the first household accepted
        ("shipped", wednesday),  # the berries picked up: every live part out or delivered
        ("delivered", wednesday),
        ("completed", friday),
    ]
    assert changes(rice_part["id"]) == [
        ("new", monday),
        ("accepted", monday),
        ("ready", tuesday),
        ("picked_up", tuesday),
        ("delivered", tuesday),
    ]
    assert changes(berry_part["id"]) == [
        ("new", monday),
        ("accepted", monday),
        ("ready", wednesday),
        ("picked_up", wednesday),
        ("delivered", wednesday),
    ]
