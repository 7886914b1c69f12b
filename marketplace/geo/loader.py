"""Load the wards of Cần Thơ and their former names from `data/cantho_units.json`.

Plain functions that take the model classes, so the data migration (historical models)
and the tests (real models) share them.
"""
import json
import re
from collections import Counter
from pathlib import Path

from marketplace.text import fold

DATA_FILE = Path(__file__).resolve().parent / "data" / "cantho_units.json"

# The source writes one town "Thị Trấn Ngã Sáu"; match any case, write the usual form.
_UNIT_PREFIX = re.compile(r"^(phường|xã|thị trấn)\s+", re.IGNORECASE)

FORMER_UNIT = "former_unit"
FORMER_DISTRICT = "former_district"


def read_units(path: Path = DATA_FILE) -> dict:
    """Return the parsed data file."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _split_unit_name(name: str) -> tuple[str, str]:
    """Return ("Phường An Hòa", "An Hòa") for "Phường An Hòa", the prefix in its usual case."""
    match = _UNIT_PREFIX.match(name)
    if not match:
        return name, name
    short = name[match.end():]
    return f"{match.group(1).capitalize()} {short}", short


def load_units(*, ward_model, alias_model, data: dict | None = None) -> None:
    """Create every current ward and one alias per former unit and per former district."""
    data = data or read_units()
    wards = data["wards"]
    ward_model.objects.bulk_create(
        ward_model(
            code=w["code"], name=w["name"], full_name=w["full_name"], name_en=w["name_en"],
            full_name_en=w["full_name_en"], slug=w["slug"], type=w["type"],
            name_folded=fold(w["name"]),
        )
        for w in wards
    )

    aliases = {}  # (kind, former_code) -> (alias, [ward codes])
    # A unit split between wards appears under each of them: one alias, all its wards.
    for ward in wards:
        for unit in ward["former_units"]:
            key = (FORMER_UNIT, unit["code"])
            if key not in aliases:
                name, short = _split_unit_name(unit["name"])
                alias = alias_model(
                    kind=FORMER_UNIT, former_code=unit["code"], name=name, short_name=short,
                    name_folded=fold(short), former_province=unit["province"],
                    former_district=unit["district"], label=name,
                )
                aliases[key] = (alias, [])
            aliases[key][1].append(ward["code"])

    provinces = {p["code"]: p["name"] for p in data["province"]["merged_from"]}
    districts = data["former_districts"]
    # Two Châu Thành, two Long Mỹ: those labels carry the former province.
    clashing = {n for n, count in Counter(fold(d["name"]) for d in districts).items() if count > 1}
    for district in districts:
        province = provinces[district["province_code"]]
        label = district["full_name"]
        if fold(district["name"]) in clashing:
            label = f"{label} ({province})"
        alias = alias_model(
            kind=FORMER_DISTRICT, former_code=district["code"], name=district["full_name"],
            short_name=district["name"], name_folded=fold(district["name"]),
            former_province=province, label=label,
        )
        aliases[(FORMER_DISTRICT, district["code"])] = (alias, district["wards"])

    alias_model.objects.bulk_create(alias for alias, _ in aliases.values())
    # Read the ids back rather than rely on the backend returning them from bulk_create.
    ids = {(a.kind, a.former_code): a.pk for a in alias_model.objects.all()}
    through = alias_model.wards.through
    through.objects.bulk_create(
        through(wardalias_id=ids[key], ward_id=code)
        for key, (_, codes) in aliases.items()
        for code in codes
    )


def unload_units(*, ward_model, alias_model) -> None:
    """Delete every alias and ward."""
    alias_model.objects.all().delete()
    ward_model.objects.all().delete()
