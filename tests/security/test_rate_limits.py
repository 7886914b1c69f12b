"""Rate limits (settings.RATE_LIMITS) on login, registration, password reset, checkout and webhooks.

Each limited endpoint, page and API, answers 429 with Retry-After once its scope's limit is spent,
counting per client address when nobody is signed in and per user when someone is; pages and the
API share one counter per scope. Webhook calls count only when they fail verification, so a call
Stripe signed is never limited.

The second half starts a throwaway redis-server of its own (never the shared one), shows a limit
enforced through it, stops it, and shows that every limited endpoint then answers normally and
quickly: limits, the cache and the lockouts fail open.
"""

import itertools
import json
import logging
import signal
import socket
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.core.cache import caches
from django.db.models import F, Sum
from django.utils import translation

from marketplace.accounts.models import PasswordResetCode, PhoneVerification, Role
from marketplace.throttling import client_address, too_many_attempts_message
from orders.models import CartLine, Order, WebhookEvent
from tests.conftest import TEST_PASSWORD
from tests.orders.conftest import WEBHOOK_SECRET, stripe_standin  # noqa: F401 (fixture)
from tests.orders.factories import delivery, fill_cart, listings
from tests.services import OwnRedis
from tests.signup import after_commit
from tests.stripe_standin import sign

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
RESET = "/api/v1/auth/password-reset/"
CONFIRM = "/api/v1/auth/password-reset/confirm/"
CHECKOUT = "/api/v1/checkout/"
LOGIN_PAGE = "/account/login/"
SIGNUP_PAGE = "/account/signup/"
RESET_PAGE = "/account/password/reset/"
CODE_PAGE = "/account/password/reset/code/"
CHECKOUT_PAGE = "/thanh-toan/"
STRIPE_WEBHOOK = "/webhooks/stripe/"
VIETQR_WEBHOOK = "/webhooks/vietqr/"

HERE = "203.113.0.7"
ELSEWHERE = "198.51.100.23"
LIMIT = 3


def limit(settings, scope: str, rate: str = f"{LIMIT}/min") -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, scope: rate}


def assert_api_throttled(response, *, period: int = 60) -> None:
    assert response.status_code == 429, response.content
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "throttled"
    assert body["detail"] == too_many_attempts_message(int(response["Retry-After"]))
    assert 1 <= int(response["Retry-After"]) <= period


def assert_page_throttled(response, *, kept: tuple[str, ...] = (), period: int = 60) -> str:
    """A 429 page saying how long to wait (in Vietnamese, the default) and keeping what was typed."""
    assert response.status_code == 429, response.content[:500]
    wait = int(response["Retry-After"])
    assert 1 <= wait <= period
    html = response.content.decode()
    with translation.override("vi"):
        assert too_many_attempts_message(wait) in html
    assert '<html lang="vi">' in html
    for value in kept:
        assert f'value="{value}"' in html, value
    return html


# --- The anonymous endpoints: one attempt each, from an address ----------------------------


def token_login(client, ip, n=0):
    return client.post(TOKEN, {"phone": "0912345678", "password": "wrong-password"}, REMOTE_ADDR=ip)


def page_login(client, ip, n=0):
    return client.post(LOGIN_PAGE, {"username": "0912 345 678", "password": "wrong-password"}, REMOTE_ADDR=ip)


def api_register(client, ip, n=0):
    body = {"phone": f"0913{n:06d}", "password": TEST_PASSWORD, "full_name": "Chị Lan", "role": "buyer"}
    return client.post(REGISTER, body, REMOTE_ADDR=ip)


def page_signup(client, ip, n=0):
    form = {
        "role": "buyer",
        "full_name": "Chị Lan",
        "phone": f"0914 {n:06d}",
        "email": "lan@example.vn",
        "password": TEST_PASSWORD,
        "privacy_consent": "on",
    }
    response = client.post(SIGNUP_PAGE, form, REMOTE_ADDR=ip)
    client.logout()  # a signed-in visitor is sent away from the sign-up page
    return response


def api_reset(client, ip, n=0):
    with after_commit(execute=True):  # the code is texted by a task enqueued at commit
        return client.post(RESET, {"phone": "0912345678"}, REMOTE_ADDR=ip)


def page_reset(client, ip, n=0):
    with after_commit(execute=True):
        return client.post(RESET_PAGE, {"phone": "0912 345 678"}, REMOTE_ADDR=ip)


def api_confirm(client, ip, n=0):
    body = {"phone": "0912345678", "code": "000000", "new_password": TEST_PASSWORD}
    return client.post(CONFIRM, body, REMOTE_ADDR=ip)


def page_confirm(client, ip, n=0):
    form = {"phone": "0912 345 678", "code": "000000", "new_password": TEST_PASSWORD}
    return client.post(CODE_PAGE, form, REMOTE_ADDR=ip)


# (scope, how to try once, the answer below the limit, page?, what a limited page keeps)
ANONYMOUS = [
    ("login", token_login, 400, False, ()),
    ("login", page_login, 200, True, ("0912 345 678",)),
    ("register", api_register, 202, False, ()),
    ("register", page_signup, 302, True, ("Chị Lan", "lan@example.vn")),
    ("password_reset", api_reset, 202, False, ()),
    ("password_reset", page_reset, 302, True, ("0912 345 678",)),
    ("password_reset_confirm", api_confirm, 400, False, ()),
    ("password_reset_confirm", page_confirm, 200, True, ("0912 345 678", "000000")),
]
IDS = [f"{scope}-{attempt.__name__}" for scope, attempt, *_ in ANONYMOUS]


@pytest.fixture
def owner(make_user):
    """The account the attempts name: no email, so a reset sends an SMS code."""
    return make_user(phone="0912345678", email="")


@pytest.fixture
def clients(client, api):
    return {True: client, False: api}


@pytest.mark.parametrize(("scope", "attempt", "normal", "page", "kept"), ANONYMOUS, ids=IDS)
def test_an_address_is_limited_after_its_attempts(
    settings, clients, owner, sms_outbox, scope, attempt, normal, page, kept
):
    limit(settings, scope)
    client = clients[page]
    for n in range(LIMIT):
        assert attempt(client, HERE, n).status_code == normal
    limited = attempt(client, HERE, LIMIT)
    if page:
        html = assert_page_throttled(limited, kept=kept)
        assert "wrong-password" not in html and TEST_PASSWORD not in html  # passwords are never echoed
    else:
        assert_api_throttled(limited)
    # Another address is not limited, and the limited one stays limited.
    assert attempt(client, ELSEWHERE, LIMIT + 1).status_code == normal
    assert attempt(client, HERE, LIMIT + 2).status_code == 429


def side_effects(scope: str, sms_outbox) -> int:
    """What one attempt of the scope changes: failures counted, accounts, texts sent, code tries."""
    if scope == "login":
        return AccessAttempt.objects.aggregate(n=Sum("failures_since_start"))["n"] or 0
    if scope == "register":
        return PhoneVerification.objects.count()
    if scope == "password_reset":
        # Past the one-code-a-minute rule, so only the rate limit can stop the next text.
        PasswordResetCode.objects.update(created_at=F("created_at") - timedelta(minutes=2))
        return len(sms_outbox.messages())
    return PasswordResetCode.objects.aggregate(n=Sum("attempts"))["n"] or 0


@pytest.mark.parametrize(("scope", "attempt", "normal", "page", "kept"), ANONYMOUS, ids=IDS)
def test_a_limited_attempt_does_nothing(
    settings, clients, owner, sms_outbox, scope, attempt, normal, page, kept
):
    limit(settings, scope, "1/min")
    if scope == "password_reset_confirm":
        api_reset(clients[False], ELSEWHERE)  # a code to guess at
    client = clients[page]
    assert attempt(client, HERE, 0).status_code == normal
    before = side_effects(scope, sms_outbox)
    assert before > 0, "the first attempt should have had an effect"
    assert attempt(client, HERE, 1).status_code == 429
    assert side_effects(scope, sms_outbox) == before


def test_pages_and_the_api_share_one_counter(settings, client, api, owner):
    limit(settings, "login")
    page_login(client, HERE)
    token_login(api, HERE)
    page_login(client, HERE)
    assert_api_throttled(token_login(api, HERE))
    assert_page_throttled(page_login(client, HERE), kept=("0912 345 678",))


def test_a_limited_login_does_not_try_the_password(settings, client, api, owner):
    limit(settings, "login")
    for _ in range(LIMIT):
        page_login(client, HERE)
    right = client.post(LOGIN_PAGE, {"username": "0912345678", "password": TEST_PASSWORD}, REMOTE_ADDR=HERE)
    assert_page_throttled(right, kept=("0912345678",))
    assert "_auth_user_id" not in client.session
    token = api.post(TOKEN, {"phone": "0912345678", "password": TEST_PASSWORD}, REMOTE_ADDR=HERE)
    assert_api_throttled(token)
    # Reading the page is not an attempt.
    assert client.get(LOGIN_PAGE, REMOTE_ADDR=HERE).status_code == 200


def test_the_limit_lifts_when_the_window_has_passed(settings, api, owner):
    limit(settings, "login", "2/s")
    token_login(api, HERE)
    token_login(api, HERE)
    limited = token_login(api, HERE)
    assert_api_throttled(limited, period=1)
    time.sleep(1.05)
    assert token_login(api, HERE).status_code == 400


def test_a_scope_set_off_is_not_limited(settings, api, owner):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": None}
    assert all(api_reset(api, HERE).status_code == 202 for _ in range(25))


def test_the_configured_login_limit_holds(settings, api, db):
    count, period = settings.RATE_LIMITS["login"].split("/")  # 30/min unless RATE_LIMIT_LOGIN says
    assert period in ("m", "min", "minute")

    def attempt(n):
        # A different (unknown) phone each time: the account lockout never comes into it.
        return api.post(TOKEN, {"phone": f"0915{n:06d}", "password": "x"}, REMOTE_ADDR=HERE)

    assert [attempt(n).status_code for n in range(int(count))] == [400] * int(count)
    assert_api_throttled(attempt(int(count)))


# --- Addresses --------------------------------------------------------------------------------


def test_forwarded_for_is_ignored_without_trusted_proxies(settings, api, owner):
    limit(settings, "login")

    def forged(n):
        body = {"phone": "0912345678", "password": "x"}
        return api.post(TOKEN, body, REMOTE_ADDR=HERE, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")

    assert [forged(n).status_code for n in range(LIMIT)] == [400] * LIMIT
    assert_api_throttled(forged(99))


def test_behind_a_trusted_proxy_the_forwarded_address_counts(settings, api, owner):
    limit(settings, "login")
    settings.RATE_LIMIT_TRUSTED_PROXIES = 1
    proxy = "10.1.1.1"

    def via_proxy(chain):
        body = {"phone": "0912345678", "password": "x"}
        return api.post(TOKEN, body, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=chain)

    for n in range(LIMIT):
        # The client may put anything first; the proxy appends the address it saw.
        assert via_proxy(f"1.2.3.{n}, {HERE}").status_code == 400
    assert_api_throttled(via_proxy(f"9.9.9.9, {HERE}"))
    assert via_proxy(ELSEWHERE).status_code == 400


def test_an_ipv6_network_counts_as_one_address(settings, api, owner):
    limit(settings, "login")
    for n in range(LIMIT):
        token_login(api, f"2001:db8:5:7::{n + 1}")
    assert_api_throttled(token_login(api, "2001:db8:5:7:abcd::9"))
    assert token_login(api, "2001:db8:5:8::1").status_code == 400


def test_client_address_forms(rf, settings):
    assert client_address(rf.get("/", REMOTE_ADDR="203.113.0.7")) == "203.113.0.7"
    assert client_address(rf.get("/", REMOTE_ADDR="2001:db8::1")) == "2001:db8::/64"
    assert client_address(rf.get("/", REMOTE_ADDR="::ffff:203.113.0.7")) == "203.113.0.7"
    settings.RATE_LIMIT_TRUSTED_PROXIES = 2
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.113.0.7, 10.0.0.1")
    assert client_address(request) == "203.113.0.7"


# --- Checkout: per user ---------------------------------------------------------------------


@pytest.fixture
def product(make_user, reference_data):
    (product,) = listings(make_user, price=20000, stock="100")
    return product


def checkout_form(page) -> dict:
    return {
        "name": "Chị Lan",
        "phone": "0912 345 678",
        "ward": delivery()["ward"],
        "address": "12 đường 30/4",
        "payment_method": "cod",
        "note": "Giao trước 9 giờ",
        "cart_version": page.context["form"].initial["cart_version"],
    }


def api_checkout(client, ip=HERE):
    body = {"delivery": delivery(), "payment_method": "cod"}
    return client.post(CHECKOUT, body, format="json", REMOTE_ADDR=ip)


def test_api_checkout_is_limited_per_user(settings, make_user, api_as, product):
    limit(settings, "checkout", "2/hour")
    buyer, other = make_user(Role.BUYER), make_user(Role.BUYER)
    client = api_as(buyer)
    for _ in range(2):
        fill_cart(buyer, [(product, 1)])
        assert api_checkout(client).status_code == 201
    fill_cart(buyer, [(product, 1)])
    assert_api_throttled(api_checkout(client), period=3600)
    # Keyed by the user: another address does not help, and nothing was placed.
    assert_api_throttled(api_checkout(client, ip=ELSEWHERE), period=3600)
    assert Order.objects.filter(buyer=buyer).count() == 2
    assert CartLine.objects.filter(cart__user=buyer).count() == 1
    # Reading the checkout is not limited; another buyer at the same address is not limited.
    assert client.get(CHECKOUT, REMOTE_ADDR=HERE).status_code == 200
    fill_cart(other, [(product, 1)])
    assert api_checkout(api_as(other)).status_code == 201


def test_the_checkout_page_is_limited_per_user_and_keeps_the_form(
    settings, make_user, client, api_as, product
):
    limit(settings, "checkout", "2/hour")
    buyer = make_user(Role.BUYER)
    client.force_login(buyer)
    fill_cart(buyer, [(product, 1)])
    assert client.post(CHECKOUT_PAGE, checkout_form(client.get(CHECKOUT_PAGE))).status_code == 302
    fill_cart(buyer, [(product, 1)])
    assert api_checkout(api_as(buyer)).status_code == 201  # the page and the API count together
    fill_cart(buyer, [(product, Decimal("1.5"))])
    form = checkout_form(client.get(CHECKOUT_PAGE))
    limited = client.post(CHECKOUT_PAGE, form, REMOTE_ADDR=ELSEWHERE)
    html = assert_page_throttled(limited, kept=("Chị Lan", "0912 345 678", "12 đường 30/4"), period=3600)
    assert "Giao trước 9 giờ" in html
    assert Order.objects.filter(buyer=buyer).count() == 2
    # A fee quote is not an order: it is never limited.
    quote = client.post(CHECKOUT_PAGE, {**form, "quote": "1"})
    assert quote.status_code == 200


# --- Webhooks: only calls that fail verification count ----------------------------------------


def stripe_call(client, standin, ip, *, secret=WEBHOOK_SECRET):
    payload = json.dumps(standin.event("customer.created", {"id": "cus_1", "object": "customer"})).encode()
    return client.post(
        STRIPE_WEBHOOK,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload, secret),
        REMOTE_ADDR=ip,
    )


def test_badly_signed_webhooks_are_limited_per_address(settings, client, stripe_standin):  # noqa: F811
    limit(settings, "webhook_invalid")
    for _ in range(LIMIT):
        assert stripe_call(client, stripe_standin, HERE, secret="whsec_guess").status_code == 400
    unsigned = client.post(STRIPE_WEBHOOK, b"{}", content_type="application/json", REMOTE_ADDR=HERE)
    assert_api_throttled(unsigned)
    assert stripe_call(client, stripe_standin, ELSEWHERE, secret="whsec_guess").status_code == 400
    assert not WebhookEvent.objects.exists()


def test_signed_webhooks_are_never_limited(settings, client, stripe_standin):  # noqa: F811
    limit(settings, "webhook_invalid")
    for _ in range(LIMIT + 1):
        stripe_call(client, stripe_standin, HERE, secret="whsec_guess")
    assert stripe_call(client, stripe_standin, HERE, secret="whsec_guess").status_code == 429
    # The same address, over its limit, still gets every genuine event through.
    for _ in range(LIMIT * 3):
        assert stripe_call(client, stripe_standin, HERE).status_code == 200
    assert WebhookEvent.objects.count() == LIMIT * 3


def test_the_banks_webhook_counts_wrong_secrets_only(settings, client):
    limit(settings, "webhook_invalid")
    settings.VIETQR_WEBHOOK_SECRET = "bank-secret"

    def notify(n, secret):
        body = json.dumps({"id": f"FT26{n:05d}", "amount": 10000, "note": "chuyen tien"})
        return client.post(
            VIETQR_WEBHOOK,
            body,
            content_type="application/json",
            HTTP_X_WEBHOOK_SECRET=secret,
            REMOTE_ADDR=HERE,
        )

    for n in range(LIMIT):
        assert notify(n, "guess").status_code == 400
    assert_api_throttled(notify(LIMIT, "guess"))
    assert notify(LIMIT + 1, "bank-secret").status_code == 200


# --- Fail open: the cache's Redis stops -------------------------------------------------------

@pytest.fixture
def own_redis(settings, tmp_path):
    """Point the default cache at a redis-server of the test's own, configured as settings.py does."""
    server = OwnRedis.started(tmp_path)
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
            "OPTIONS": dict(settings.REDIS_CACHE_OPTIONS),
        }
    }
    # Changing CACHES resets django.core.cache.caches (Django's setting_changed receiver).
    assert caches["default"].__class__.__name__ == "RedisCache"
    assert f":{server.port}/" in caches["default"]._server
    try:
        yield server
    finally:
        server.kill()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


QUICK = 1.5  # seconds; a dead Redis must cost milliseconds, this leaves room for a busy machine


def test_with_redis_stopped_every_limited_endpoint_answers_normally(
    settings,
    own_redis,
    client,
    api,
    api_as,
    make_user,
    owner,
    product,
    stripe_standin,  # noqa: F811
    caplog,
):
    for scope in settings.RATE_LIMITS:
        limit(settings, scope, "2/min")
    # Redis up: the limit holds, and its counter is in that Redis.
    for _ in range(2):
        assert token_login(api, HERE).status_code == 400
    assert_api_throttled(token_login(api, HERE))
    assert own_redis.keys("*throttle_login_*")

    own_redis.kill()
    buyer = make_user(Role.BUYER)
    buyer_page = client
    buyer_page.force_login(buyer)
    anonymous = type(client)()
    numbers = itertools.count(900)

    def place_on_page():
        fill_cart(buyer, [(product, 1)])
        return buyer_page.post(CHECKOUT_PAGE, checkout_form(buyer_page.get(CHECKOUT_PAGE)), REMOTE_ADDR=HERE)

    def place_by_api():
        fill_cart(buyer, [(product, 1)])
        return api_checkout(api_as(buyer))

    right = {"phone": "0912345678", "password": TEST_PASSWORD}
    right_form = {"username": "0912345678", "password": TEST_PASSWORD}

    calls = {
        # The address limited a moment ago logs in: its counter is out of reach, so it passes.
        "token": (lambda: api.post(TOKEN, right, REMOTE_ADDR=HERE), 200),
        "login page": (lambda: anonymous.post(LOGIN_PAGE, right_form, REMOTE_ADDR=HERE), 302),
        "register": (lambda: api_register(api, HERE, next(numbers)), 202),
        "signup page": (lambda: page_signup(type(client)(), HERE, next(numbers)), 302),
        "reset": (lambda: api_reset(api, HERE), 202),
        "reset page": (lambda: page_reset(type(client)(), HERE), 302),
        "confirm": (lambda: api_confirm(api, HERE), 400),
        "code page": (lambda: page_confirm(type(client)(), HERE), 200),
        "checkout page": (place_on_page, 302),
        "checkout": (place_by_api, 201),
        "signed webhook": (lambda: stripe_call(type(client)(), stripe_standin, HERE), 200),
    }
    caplog.set_level(logging.WARNING)
    for name, (call, expected) in calls.items():
        for _ in range(3):  # over every limit (2/min), none of which can be counted now
            response, seconds = timed(call)
            assert response.status_code == expected, (name, response.status_code, response.content[:300])
            assert seconds < QUICK, (name, seconds)
    for _ in range(5):
        response, seconds = timed(lambda: stripe_call(anonymous, stripe_standin, HERE, secret="whsec_guess"))
        assert response.status_code == 400 and seconds < QUICK
    assert Order.objects.filter(buyer=buyer).count() == 2 * 3
    # The outage is in the log for whoever runs the site.
    assert any(r.name.startswith(("django_redis", "marketplace.throttling")) for r in caplog.records)


def test_with_redis_stopped_lockouts_still_lock(settings, own_redis, api, owner):
    limit(settings, "login", "2/min")
    own_redis.kill()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        token_login(api, HERE)
    locked = api.post(TOKEN, {"phone": "0912345678", "password": TEST_PASSWORD}, REMOTE_ADDR=HERE)
    assert locked.status_code == 429
    assert locked.json()["code"] == "account_locked"  # the lockout lives in the database


def test_with_redis_stopped_the_cache_answers_empty_without_errors(own_redis):
    cache = caches["default"]
    cache.set("fruit", "măng cụt")
    assert cache.get("fruit") == "măng cụt"
    own_redis.kill()
    started = time.monotonic()
    assert cache.get("fruit", "nothing") == "nothing"
    cache.set("fruit", "chôm chôm")
    cache.delete("fruit")
    assert cache.get_many(["fruit"]) == {}
    assert time.monotonic() - started < QUICK


def test_limits_come_back_with_redis(settings, own_redis, api, owner):
    limit(settings, "login", "2/min")
    own_redis.kill()
    assert [token_login(api, HERE).status_code for _ in range(4)] == [400] * 4
    own_redis.start()
    assert [token_login(api, HERE).status_code for _ in range(3)] == [400, 400, 429]


def _too_slow(signum, frame):
    raise AssertionError("a hung Redis held the request for more than 10 seconds")


def test_a_hung_redis_costs_no_more_than_the_socket_timeouts(settings, own_redis, api, owner):
    """A server that accepts connections but never answers: the short timeouts bound each request."""
    own_redis.kill()
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)  # never accepted: connections complete in the backlog, nothing is answered
        settings.CACHES = {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{hung.getsockname()[1]}/0",
                "OPTIONS": dict(settings.REDIS_CACHE_OPTIONS),
            }
        }
        signal.signal(signal.SIGALRM, _too_slow)
        signal.setitimer(signal.ITIMER_REAL, 10)
        try:
            response, seconds = timed(lambda: token_login(api, HERE))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    assert response.status_code == 400
    # A read and a write, each bounded by the socket timeout (0.25 s) after a quick connect.
    assert seconds < 2.5
