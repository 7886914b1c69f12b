"""Delivery zones: every ward in exactly one, routes in order, fees from the ward's zone."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from logistics.fees import fee_quote
from logistics.models import Zone, ZoneWard
from marketplace.geo.models import Ward

pytestmark = pytest.mark.django_db


def zone_of(name: str) -> str:
    """The zone of the current ward of this name (every ward a former district fed, for those)."""
    (ward,) = Ward.objects.filter(name=name)
    return Zone.objects.get(route__ward=ward).name


def test_every_ward_is_in_exactly_one_zone():
    assert Ward.objects.count() == 103
    assert ZoneWard.objects.count() == 103
    assert ZoneWard.objects.values("ward").distinct().count() == 103
    assert not Ward.objects.filter(zone_place__isnull=True).exists()
    first = ZoneWard.objects.first()
    other = Zone.objects.exclude(pk=first.zone_id).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ZoneWard.objects.create(zone=other, ward=first.ward)


@pytest.mark.parametrize(
    ("ward", "zone"),
    [("Ninh Kiều", "Nội thành"), ("Cái Răng", "Nội thành"), ("Ô Môn", "Ven đô"), ("Vị Thanh", "Hậu Giang")],
)
def test_wards_sit_in_the_zone_of_the_district_they_came_from(ward, zone):
    assert zone_of(ward) == zone


def test_each_zone_has_a_route_in_order():
    for zone in Zone.objects.all():
        positions = list(zone.route.values_list("position", flat=True))
        assert positions == sorted(positions) == list(range(1, len(positions) + 1)), zone.name


def test_the_fee_follows_the_wards_zone():
    inner = Zone.objects.get(name="Nội thành")
    Zone.objects.filter(pk=inner.pk).update(base_fee=15000, included_kg=3, per_kg_fee=1500, free_over=400000)
    ward = inner.route.first().ward
    elsewhere = Zone.objects.exclude(pk=inner.pk).first().route.first().ward
    assert fee_quote(ward_code=ward.pk, weight_kg=Decimal("3"), goods_value=100000).fee == 15000
    assert fee_quote(ward_code=ward.pk, weight_kg=Decimal("4.2"), goods_value=100000).fee == 15000 + 2 * 1500
    assert fee_quote(ward_code=ward.pk, weight_kg=Decimal("40"), goods_value=400000).fee == 0
    assert fee_quote(ward_code=elsewhere.pk, weight_kg=Decimal("3"), goods_value=100000).fee == 20000


def test_a_ward_in_no_zone_pays_the_default_tariff(settings):
    ward = Ward.objects.first()
    ZoneWard.objects.filter(ward=ward).delete()
    settings.DELIVERY_FEE_DEFAULT = {
        "base_fee": 30000,
        "included_kg": 5,
        "per_kg_fee": 1000,
        "free_over": None,
    }
    quote = fee_quote(ward_code=ward.pk, weight_kg=Decimal("7"), goods_value=1)
    assert (quote.fee, quote.zone_id) == (32000, None)
