"""Two workers refreshing two orders of one month at once leave the rollups a rebuild would write.

Both orders share the month's cells (the city's, their category's, …). Each refresh replaces
cells by delete-then-insert, so without one writer at a time each would insert a cell the other
had just deleted and re-inserted: duplicated sums. Real threads, committed data, PostgreSQL.
"""

import threading
from collections import Counter

import pytest
from django.db import connection

from marketplace.reports.models import SalesCube, SalesFact
from marketplace.reports.rollups import RollupsBusy, rollups_rebuild, rollups_refresh_order
from tests.orders import conftest as orders_fixtures
from tests.orders.factories import listings, place

# The orders tests' fixtures: a buyer, the wards and categories a flush removed, media in tmp.
buyer, reference_data = orders_fixtures.buyer, orders_fixtures.reference_data
_media_in_tmp = orders_fixtures._media_in_tmp

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]


def cells() -> Counter:
    fields = [f.attname for f in SalesCube._meta.concrete_fields if f.name != "id"]
    return Counter(
        tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
        for row in SalesCube.objects.values_list(*fields)
    )


def test_concurrent_refreshes_of_one_month_write_each_cell_once(buyer, make_user):
    products = listings(make_user, farms=2, price=50000, stock="100")
    orders = [place(buyer, [(products[0], 1)]), place(buyer, [(products[1], 2)])]
    errors, busy = [], []
    start = threading.Barrier(2)

    def refresh(order_id):
        try:
            start.wait(timeout=30)
            done = 0
            while done < 5:  # as the refresh task does: busy means try again
                try:
                    rollups_refresh_order(order_id=order_id)
                    done += 1
                except RollupsBusy:
                    busy.append(order_id)
        except Exception as exc:  # reported below
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh, args=(order.pk,)) for order in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    refreshed = cells()
    day = SalesFact.objects.values_list("day", flat=True).first()
    rollups_rebuild(first=day, last=day)
    assert refreshed == cells()
    city_month = SalesCube.objects.get(cuboid=1, period="m")
    assert city_month.gross == 150000
