"""Fixtures shared by the orders tests."""

import pytest

from marketplace.accounts.models import Role


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Listings' photos and certificates never land in the project's var/.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def buyer(make_user):
    return make_user(Role.BUYER)
