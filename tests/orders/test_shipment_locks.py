"""A courier's step and a household's change to the same order's shipments queue, never deadlock.

Marking a part ready locks the order and then rewrites what the order's other shipments collect
(cash on delivery: the fee moves to the first one still on its way). A courier's step on one of
those shipments takes the order's lock first too (`logistics.hooks.shipment_step_starting`), so
the two wait for each other in one order. Real threads, committed data, PostgreSQL row locks.
"""

import threading
import time

import pytest
from django.db import connection, transaction

from logistics.models import Shipment
from logistics.services import shipment_step
from orders import services
from orders.models import Order
from tests.orders.factories import listings, place

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]


def test_a_step_and_a_cancelled_part_on_one_order_wait_for_each_other(buyer, make_user):
    products = listings(make_user, farms=2, price=50000, stock="10")
    order = place(buyer, [(p, 2) for p in products])
    first, second = order.farm_orders.order_by("pk")
    for part in (first, second):
        services.farm_order_accept(farm_order=part, by=part.farm.owner)
        services.farm_order_ready(farm_order=part, by=part.farm.owner)
    fee = order.delivery_fee
    carrying, other = (Shipment.objects.get(reference=f"farm-order-{p.pk}") for p in (first, second))
    assert (carrying.cash_to_collect, other.cash_to_collect) == (100000 + fee, 100000)

    order_locked, errors = threading.Event(), []

    def household_cancels():
        # Cancelling the part that carried the fee moves the fee onto the other shipment.
        try:
            with transaction.atomic():
                list(Order.objects.select_for_update().filter(pk=order.pk))
                order_locked.set()
                time.sleep(0.5)  # the courier's step on the other shipment starts meanwhile
                services.farm_order_transition(farm_order=first, to="cancelled", note="Hàng hỏng")
        except Exception as exc:  # reported below
            errors.append(f"household: {exc!r}")
        finally:
            connection.close()

    def courier_picks_up():
        try:
            assert order_locked.wait(timeout=30)
            shipment_step(shipment=other, type="picked_up")
        except Exception as exc:  # reported below
            errors.append(f"courier: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=household_cancels), threading.Thread(target=courier_picks_up)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []  # without the order lock first: "deadlock detected" in one of them
    carrying.refresh_from_db()
    other.refresh_from_db()
    assert (carrying.status, other.status) == ("cancelled", "picked_up")
    assert other.cash_to_collect == 100000 + fee  # the fee travels with the shipment still on its way
