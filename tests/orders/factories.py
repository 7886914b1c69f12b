"""Builders for orders tests: buyers with carts, and orders placed through the real checkout."""

from decimal import Decimal

from marketplace.accounts.models import Role
from orders import services
from orders.models import Cart
from tests.farms.factories import make_farm, make_product, ward


def delivery(**fields) -> dict:
    data = {"name": "Chị Lan", "phone": "0912 345 678", "address": "12 đường 30/4", "ward": ward(3).pk}
    data.update(fields)
    return data


def fill_cart(buyer, items) -> Cart:
    """Put `items` [(product, quantity)] in the buyer's cart through the cart service."""
    cart = services.cart_get_or_create(user=buyer)
    for product, quantity in items:
        services.cart_add(cart=cart, product=product, quantity=quantity)
    return cart


def place(buyer, items=(), *, payment_method="cod", **fields):
    """Fill the cart with `items` and check out; return the placed order."""
    if items:
        fill_cart(buyer, items)
    data = delivery(**fields.pop("delivery", {}))
    return services.checkout_place(
        buyer=buyer, delivery=services.delivery_parse(**data), payment_method=payment_method, **fields
    ).order


def listings(make_user, *, farms=1, per_farm=1, stock="100", price=10000, **fields):
    """Create `farms` verified households with `per_farm` active listings each."""
    products = []
    for index in range(farms):
        farm = make_farm(make_user, name=f"Hộ số {index + 1}", ward_index=index)
        for number in range(per_farm):
            products.append(
                make_product(
                    farm,
                    name=f"Sản phẩm {index}-{number}",
                    status="active",
                    stock=stock,
                    price=price + number,
                    **fields,
                )
            )
    return products


def deliver(part, courier) -> None:
    """Take a household's part from where it stands (new, accepted or ready) to delivered, its
    cash collected in full."""
    from logistics.services import shipment_step

    part.refresh_from_db()
    if part.status == "new":
        services.farm_order_accept(farm_order=part, by=part.farm.owner)
        part.refresh_from_db()
    if part.status == "accepted":
        services.farm_order_ready(farm_order=part, by=part.farm.owner)
        part.refresh_from_db()
    shipment_step(shipment=part.shipment, type="picked_up", by=courier)
    shipment_step(
        shipment=part.shipment, type="delivered", by=courier, cash_collected=part.shipment.cash_to_collect
    )
    part.refresh_from_db()


def buyer_with_cart(make_user, items):
    buyer = make_user(Role.BUYER)
    fill_cart(buyer, [(p, Decimal(q)) for p, q in items])
    return buyer


def set_tariff(ward, **fields):
    """Set the delivery tariff of the zone `ward` is in (the zones are seeded by a migration)."""
    from logistics.models import Zone

    zone = Zone.objects.get(route__ward=ward)
    Zone.objects.filter(pk=zone.pk).update(**fields)
    return zone
