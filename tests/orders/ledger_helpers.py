"""Builders for the settlement ledger tests: parts delivered through the real services."""

from logistics.services import shipment_step
from marketplace.accounts.models import Role
from orders import services
from orders.models import FarmOrder, Problem, ProblemStatus
from orders.services.ledger import farm_order_settle
from tests.farms.factories import make_farm, make_product

from .factories import place

UNPROCESSED = 203  # Măng cụt: a household's own produce, exempt from tax
PROCESSED = 601  # Bánh, kẹo: processed goods, taxed


def household(make_user, **fields):
    return make_farm(make_user, **fields)


def listing(farm, *, price, category=UNPROCESSED, **fields):
    fields.setdefault("name", f"Hàng {price}")
    fields.setdefault("status", "active")
    return make_product(farm, price=price, category=category, stock="1000", **fields)


def deliver(buyer, items, *, settle=True) -> FarmOrder:
    """Order `items` [(listing, quantity)] of one household, accept, pack, pick up and deliver it.

    With `settle`, book the sale as the delivered hook's task does.
    """
    order = place(buyer, items)
    part = order.farm_orders.get()
    owner = part.farm.owner
    services.farm_order_accept(farm_order=part, by=owner)
    services.farm_order_ready(farm_order=part, by=owner)
    part.refresh_from_db()
    shipment_step(shipment=part.shipment, type="picked_up")
    shipment_step(shipment=part.shipment, type="delivered", cash_collected=part.shipment.cash_to_collect)
    part.refresh_from_db()
    assert part.status == "delivered"
    if settle:
        farm_order_settle(farm_order=part)
    return part


def resolved_problem(part: FarmOrder, *, line=None, refund: int) -> Problem:
    """A buyer's report on a delivered line, resolved with a refund of `refund` đồng."""
    line = line or part.lines.order_by("pk").first()
    return Problem.objects.create(
        farm_order=part,
        line=line,
        kind="damaged",
        quantity=1,
        status=ProblemStatus.RESOLVED,
        refund_amount=refund,
    )


def staff_user(make_user):
    """A staff member who can use the admin (a superuser, as the demo's staff are)."""
    user = make_user(Role.STAFF)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user
