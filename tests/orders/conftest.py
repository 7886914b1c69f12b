"""Fixtures shared by the orders tests."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from farms.models import Category
from marketplace.accounts.models import Role
from marketplace.geo.loader import load_units
from marketplace.geo.models import Ward, WardAlias
from tests.farms.factories import make_farm


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Listings' photos and certificates never land in the project's var/.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def buyer(make_user):
    return make_user(Role.BUYER)


@pytest.fixture
def official(make_user):
    return make_user(Role.OFFICIAL)


@pytest.fixture
def farm(make_user, official):
    """A verified household (modules that need another kind define their own)."""
    return make_farm(make_user, official=official)


@pytest.fixture
def other_farm(make_user, official):
    return make_farm(make_user, official=official, name="Hộ bà Năm", ward_index=1)


@pytest.fixture
def browser(client, buyer):
    """The buyer, signed in on the pages."""
    client.force_login(buyer)
    return client


@pytest.fixture
def reference_data(db):
    """Put back the wards and categories data migrations load, if a flush emptied them.

    A transactional test ends by flushing every table, so one that ran before (its data is
    not rolled back) leaves no wards or categories. Django's `serialized_rollback` cannot
    restore them here: that flush recreated the content types it would insert again.
    """
    if not Ward.objects.exists():
        load_units(ward_model=Ward, alias_model=WardAlias)
    if not Category.objects.exists():
        seed_categories = importlib.import_module("farms.migrations.0002_seed_categories").seed
        seed_categories(apps, SimpleNamespace(connection=connection))


WEBHOOK_SECRET = "whsec_test_standin"


@pytest.fixture
def stripe_standin(settings):
    """Stripe's API stand-in on 127.0.0.1, with the app's keys pointing the real library at it."""
    from tests.stripe_standin import StripeStandin

    with StripeStandin() as standin:
        settings.STRIPE_SECRET_KEY = "sk_test_standin"
        settings.STRIPE_PUBLISHABLE_KEY = "pk_test_standin"
        settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
        settings.STRIPE_API_BASE = standin.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        yield standin
