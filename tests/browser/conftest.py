"""The site served for real (gunicorn on PostgreSQL, a Celery worker, a Redis of its own) and a
headless Debian chromium driven by Playwright, for the users' journeys.

Chromium comes from Debian (`apt install chromium`, done by `.ci/run`'s setup); Playwright never
downloads a browser here. Tests marked `browser` are skipped with a reason when chromium or
axe-core (npm) is missing on a developer's machine, and fail in CI.
"""

import os
import shutil
from types import SimpleNamespace

import pytest
from django.db import connection

from marketplace.geo.models import Ward
from tests.browser.journey import AXE, Journey
from tests.conftest import IN_CI, TEST_PASSWORD
from tests.orders.conftest import WEBHOOK_SECRET, reference_data  # noqa: F401 (fixture)
from tests.services import CeleryWorker, Gunicorn, OwnRedis, free_port
from tests.stripe_standin import StripeStandin

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between
# browser steps are ordinary blocking calls, which Django would otherwise refuse in that case.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # this machine's closed network refuses Google's hosts
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str:
    if not os.path.exists(CHROMIUM):
        return "needs Debian's chromium: apt install chromium"
    if not AXE.exists():
        return "needs axe-core: npm ci (make test does it)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "needs playwright: pip install -r requirements-dev.txt"
    return ""


@pytest.fixture(autouse=True)
def _fast_passwords():
    """Overrides the suite's fast test hasher: the served site must verify the passwords the
    tests make, with the project's own hashers."""


@pytest.fixture(scope="session")
def browser():
    missing = _missing()
    if missing:
        if IN_CI:
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_ARGS, *(["--no-sandbox"] if os.geteuid() == 0 else [])]
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        chromium.close()


@pytest.fixture
def site(reference_data, transactional_db, tmp_path, settings):  # noqa: F811
    """gunicorn (2 workers) and a Celery worker on the test database, a Redis of their own as
    broker and cache, the Stripe stand-in posting its events to the site."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    redis = OwnRedis.started(tmp_path)
    standin = StripeStandin().start()
    # The site's own address, known before it starts: Stripe's success and cancel URLs are built
    # from SITE_URL, and the hosted page sends the buyer back there.
    port = free_port()
    env = {
        "SITE_URL": f"http://127.0.0.1:{port}",
        "CELERY_BROKER_URL": redis.url(0),
        "CACHE_URL": f"rediscache://127.0.0.1:{redis.port}/1",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "SMS_BACKEND": "marketplace.notifications.sms.FileSMSBackend",
        "SMS_FILE_PATH": str(tmp_path / "sms.jsonl"),
        "STRIPE_SECRET_KEY": "sk_test_standin",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_standin",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": standin.url,
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        "OUTBOX_RELAY_SECONDS": "0.2",
        "LOG_LEVEL": "WARNING",
    }
    worker = CeleryWorker(connection=connection, broker_url=redis.url(0), directory=tmp_path, env=env)
    try:
        assert worker.ready(), worker.log()
        with Gunicorn(connection=connection, directory=tmp_path, workers=2, env=env, port=port) as server:
            url = env["SITE_URL"]
            standin.send_webhooks_to(f"{url}/webhooks/stripe/", WEBHOOK_SECRET)
            yield SimpleNamespace(
                url=url, server=server, worker=worker, stripe=standin, password=TEST_PASSWORD,
                sms=tmp_path / "sms.jsonl",
            )
    finally:
        worker.stop()
        standin.stop()
        redis.kill()


@pytest.fixture
def journey(browser, site):
    """`journey(name, device="phone"|"desktop", language="vi"|"en", ...)`: a checked browser context."""
    started = []

    # Place names are proper nouns, the same in both languages: "Cái Khế (Ward)" in English (the
    # Vietnamese "Phường Cái Khế" there would be untranslated).
    places = list(Ward.objects.values_list("name", flat=True))

    def start(name, *, device="phone", language="vi", allowed_origins=(), data_strings=()):
        trip = Journey(
            browser, site.url, name, device=device, language=language,
            allowed_origins=allowed_origins, data_strings=[*data_strings, *places],
        )
        started.append(trip)
        return trip

    yield start
    for trip in started:
        trip.close()
