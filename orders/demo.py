"""Demo orders for `manage.py load_demo`: the demo buyer has orders, the demo farmer new ones to accept.

Placed through the real cart and checkout services, so stock, statuses and notices are what a
person would have made. Runs once: a buyer who already has orders gets none.
"""

from decimal import Decimal

from django.db import transaction

from farms.models import Product
from farms.selectors import products_public

from .models import Order
from .services import cart_add, cart_get_or_create, checkout_place, delivery_parse, farm_order_accept

DELIVERY = {"name": "Nguyễn Thị Lan", "phone": "0901000001", "address": "45 đường Mậu Thân", "ward": "31150"}


def _listings(*, farmer, other: bool, count: int) -> list[Product]:
    qs = products_public().prefetch_related(None).filter(stock__gte=5, unit="kg").order_by("pk")
    qs = qs.exclude(farm__owner=farmer) if other else qs.filter(farm__owner=farmer)
    return list(qs[:count])


@transaction.atomic
def demo_orders_load(*, buyer, farmer, courier=None) -> int:
    """Place the demo orders once; return how many were placed.

    With a courier: the demo courier works every zone, the accepted order is packed, and
    today's collection run carries it, so the courier's page has a run to show.
    """
    if Order.objects.filter(buyer=buyer).exists():
        return 0
    own = _listings(farmer=farmer, other=False, count=2)
    others = _listings(farmer=farmer, other=True, count=2)
    if not own or not others:
        return 0
    cart = cart_get_or_create(user=buyer)
    delivery = delivery_parse(**DELIVERY)
    placed = 0
    # One order for the demo farmer to accept or reject, one already accepted by another household.
    for basket in (own[:1] + others[:1], others[1:] or others[:1]):
        for product in basket:
            cart_add(cart=cart, product=product, quantity=max(Decimal(2), product.min_order))
        order = checkout_place(buyer=buyer, delivery=delivery, payment_method="cod").order
        placed += 1
    part = order.farm_orders.first()
    farm_order_accept(farm_order=part, by=part.farm.owner)
    if courier is not None:
        from logistics.models import Zone
        from logistics.runs import runs_build

        from .services import farm_order_ready

        for zone in Zone.objects.all():
            zone.couriers.add(courier)
        farm_order_ready(farm_order=part, by=part.farm.owner)
        runs_build()
    return placed
