"""Delivery fee quotes: for a ward, a weight and the value of the goods (one query).

The ward's zone sets the tariff; a ward in no zone (none after the seed) pays the
`DELIVERY_FEE_DEFAULT` setting's.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from .models import Zone


@dataclass(frozen=True)
class FeeQuote:
    """A delivery fee and how it was made, in whole đồng."""

    ward_code: str
    weight_kg: Decimal
    base_fee: int
    surcharge: int
    free: bool
    zone_id: int | None = None

    @property
    def fee(self) -> int:
        return 0 if self.free else self.base_fee + self.surcharge


def _default_tariff() -> Zone:
    tariff = settings.DELIVERY_FEE_DEFAULT
    return Zone(
        base_fee=tariff["base_fee"],
        included_kg=tariff["included_kg"],
        per_kg_fee=tariff["per_kg_fee"],
        free_over=tariff.get("free_over"),
    )


def fee_quote(*, ward_code: str, weight_kg: Decimal, goods_value: int) -> FeeQuote:
    """Return the fee to deliver `weight_kg` worth `goods_value` đồng to a ward.

    Every started kilogram over the zone's included ones costs its `per_kg_fee`.
    """
    tariff = Zone.objects.filter(route__ward_id=ward_code).first() or _default_tariff()
    extra_kg = max(Decimal(0), Decimal(weight_kg) - tariff.included_kg)
    return FeeQuote(
        ward_code=ward_code,
        weight_kg=Decimal(weight_kg),
        base_fee=tariff.base_fee,
        surcharge=math.ceil(extra_kg) * tariff.per_kg_fee,
        free=tariff.free_over is not None and goods_value >= tariff.free_over,
        zone_id=tariff.pk,
    )
