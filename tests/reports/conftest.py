"""Shared builders of the reports tests: a small world of known sales, officials by scope."""

import pytest
from django.utils import timezone

from marketplace.accounts.models import Role
from marketplace.reports.rollups import rollups_rebuild
from orders import services
from tests.orders.factories import listings, place


@pytest.fixture
def world(make_user):
    """Household A (ward 0) sells mangosteen at 48,000 đồng/kg, household B (ward 1) at 45,000.

    Buyers 1 and 2 buy 2 kg and 1 kg from A; buyer 3 buys 3 kg from B, and a fourth order of
    1 kg from A is cancelled. Cash on delivery throughout.
    """
    a, b = listings(make_user, farms=2, price=48000, stock="50")
    b.price = 45000
    b.save(update_fields=["price"])
    buyers = [make_user(Role.BUYER) for _ in range(4)]
    place(buyers[0], [(a, 2)])
    place(buyers[1], [(a, 1)])
    place(buyers[2], [(b, 3)])
    cancelled = place(buyers[3], [(a, 1)])
    services.order_cancel(order=cancelled, by=buyers[3])
    today = timezone.localdate()
    rollups_rebuild(first=today, last=today)
    return {"a": a, "b": b, "today": today.isoformat()}


def official(make_user, *wards, **fields):
    if not wards:
        return make_user(Role.OFFICIAL, **fields)  # city-wide
    return make_user(Role.OFFICIAL, city_wide=False, wards=list(wards), **fields)
