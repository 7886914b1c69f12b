"""Fixtures of the security tests: the seeded world of `world.py`."""

import pytest

from tests.orders.conftest import reference_data  # noqa: F401 (wards and categories, after a flush)

from .world import World, build_world


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Photos, certificates, problem photos and exports never land in the project's var/.
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def world(make_user, reference_data, settings) -> World:  # noqa: F811
    """Two users of every role and what each owns (see `tests/security/world.py`)."""
    settings.SMS_BACKEND = "marketplace.notifications.sms.FileSMSBackend"
    settings.SMS_FILE_PATH = settings.MEDIA_ROOT.parent / "sms.jsonl"
    # The matrix asks every URL as eleven viewers from one address: far more than a person would.
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/min")
    return build_world(make_user)
