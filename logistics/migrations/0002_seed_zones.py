"""Seed the delivery zones and put every ward in exactly one, by the district it came from.

Fees start at the project's default tariff (20,000 đồng for the first 5 kg, 2,000 đồng per
started kilogram after) in every zone: staff set each zone's own in the admin. A ward formed
from several former districts goes to the first zone listed that any of them belongs to; a
ward with no former district (none today) goes to the last zone.
"""

from django.db import migrations

# (name, English name, former districts by their folded short name and former province)
ZONES = [
    (
        "Nội thành",
        "Inner city",
        {("ninh kieu", "can tho"), ("binh thuy", "can tho"), ("cai rang", "can tho")},
    ),
    (
        "Ven đô",
        "Suburbs",
        {
            ("o mon", "can tho"),
            ("thot not", "can tho"),
            ("phong dien", "can tho"),
            ("chau thanh", "hau giang"),
            ("chau thanh a", "hau giang"),
        },
    ),
    (
        "Ngoại thành Cần Thơ",
        "Outer Cần Thơ",
        {("co do", "can tho"), ("thoi lai", "can tho"), ("vinh thanh", "can tho")},
    ),
    (
        "Hậu Giang",
        "Hậu Giang",
        {
            ("vi thanh", "hau giang"),
            ("nga bay", "hau giang"),
            ("long my", "hau giang"),
            ("phung hiep", "hau giang"),
            ("vi thuy", "hau giang"),
        },
    ),
    ("Sóc Trăng", "Sóc Trăng", None),  # every former Sóc Trăng district, and anything left
]
TARIFF = {"base_fee": 20_000, "included_kg": 5, "per_kg_fee": 2_000}


def _province(name: str) -> str:
    from marketplace.text import fold

    folded = fold(name)
    for key in ("can tho", "hau giang", "soc trang"):
        if key in folded:
            return key
    return folded


def seed(apps, schema_editor):
    from marketplace.text import fold

    Zone = apps.get_model("logistics", "Zone")
    ZoneWard = apps.get_model("logistics", "ZoneWard")
    Ward = apps.get_model("geo", "Ward")
    zones = [
        Zone.objects.get_or_create(name=name, defaults={"name_en": name_en, "position": index, **TARIFF})[0]
        for index, (name, name_en, _districts) in enumerate(ZONES)
    ]
    placed = set(ZoneWard.objects.values_list("ward_id", flat=True))
    per_zone = {zone.pk: [] for zone in zones}
    for ward in Ward.objects.prefetch_related("aliases").order_by("name"):
        if ward.pk in placed:
            continue
        districts = {
            (fold(alias.short_name), _province(alias.former_province))
            for alias in ward.aliases.all()
            if alias.kind == "former_district"
        }
        zone = next(
            (
                zone
                for zone, (_n, _e, wanted) in zip(zones, ZONES, strict=True)
                if wanted and districts & wanted
            ),
            zones[-1],
        )
        per_zone[zone.pk].append(ward)
    for zone_pk, wards in per_zone.items():
        ZoneWard.objects.bulk_create(
            ZoneWard(zone_id=zone_pk, ward=ward, position=index) for index, ward in enumerate(wards, start=1)
        )


class Migration(migrations.Migration):
    dependencies = [("logistics", "0001_zones"), ("geo", "0002_load_wards")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
