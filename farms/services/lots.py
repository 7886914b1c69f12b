"""Harvest lots: each gets a short public code for its trace page and QR label."""

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Farm, HarvestLot, Product
from ..units import is_fractional, parse_quantity

# No 0/O, 1/I/L: codes are read off paper labels and typed by hand.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _validate(*, farm: Farm, product, harvest_date, quantity) -> dict:
    errors: dict[str, list] = {}
    if not isinstance(product, Product) or product.farm_id != farm.pk:
        errors["product"] = [_("Choose one of your own listings.")]
    if harvest_date and harvest_date > timezone.localdate():
        errors["harvest_date"] = [_("A lot is recorded once harvested: the date is in the future.")]
    try:
        quantity = parse_quantity(quantity)
        if quantity <= 0:
            raise ValidationError(_("The quantity must be more than 0."))
    except ValidationError as exc:
        errors["quantity"] = exc.messages
    else:
        if (
            isinstance(product, Product)
            and not is_fractional(product.unit)
            and quantity != quantity.to_integral_value()
        ):
            errors["quantity"] = [_("This unit is counted: use a whole number.")]
    if errors:
        raise ValidationError(errors)
    return {"quantity": quantity}


def lot_create(*, farm: Farm, product, harvest_date, quantity, practices: str = "") -> HarvestLot:
    """Record a harvest lot of one of the household's listings, with a fresh trace code."""
    cleaned = _validate(farm=farm, product=product, harvest_date=harvest_date, quantity=quantity)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return HarvestLot.objects.create(
                    farm=farm,
                    product=product,
                    code=_new_code(),
                    harvest_date=harvest_date,
                    practices=(practices or "").strip(),
                    **cleaned,
                )
        except IntegrityError:
            continue  # a code collision: 31^8 codes make a second one vanishingly rare
    raise RuntimeError("could not allocate a unique lot code")


def lot_update(*, lot: HarvestLot, **fields) -> HarvestLot:
    product = fields.get("product", lot.product)
    harvest_date = fields.get("harvest_date", lot.harvest_date)
    quantity = fields.get("quantity", lot.quantity)
    cleaned = _validate(farm=lot.farm, product=product, harvest_date=harvest_date, quantity=quantity)
    if product != lot.product:
        # The old listing must not keep pointing at a lot that now traces another product.
        Product.objects.filter(pk=lot.product_id, lot=lot).update(lot=None)
    lot.product = product
    lot.harvest_date = harvest_date
    lot.quantity = cleaned["quantity"]
    if "practices" in fields:
        lot.practices = (fields["practices"] or "").strip()
    lot.save()
    return lot


def lot_delete(*, lot: HarvestLot) -> None:
    lot.delete()
