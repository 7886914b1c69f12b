"""Units produce is sold in, as wire codes with Vietnamese and English labels."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class Unit(models.TextChoices):
    # English msgids; Vietnamese labels (kg, yến, tạ, trái, chục, bó, con, hộp, túi) in locale/vi.
    KG = "kg", _("kg")
    YEN = "yen", _("yen (10 kg)")
    TA = "ta", _("ta (100 kg)")
    TRAI = "trai", _("piece of fruit")
    CHUC = "chuc", _("chuc (a count)")
    BO = "bo", _("bunch")
    CON = "con", _("head")
    HOP = "hop", _("box")
    TUI = "tui", _("bag")


#: Kilograms in one unit for units that are weights; counted units need `unit_weight_kg`.
KG_PER_UNIT: dict[str, Decimal] = {
    Unit.KG: Decimal("1"),
    Unit.YEN: Decimal("10"),
    Unit.TA: Decimal("100"),
}

#: Units sold in fractions (0.5 kg); the others are counted in whole numbers.
FRACTIONAL_UNITS = frozenset(KG_PER_UNIT)


def is_fractional(unit: str) -> bool:
    return unit in FRACTIONAL_UNITS


def needs_unit_weight(unit: str) -> bool:
    return unit not in KG_PER_UNIT


def kg_per_unit(unit: str, unit_weight_kg: Decimal | None) -> Decimal | None:
    """Return the weight of one unit in kg, or None when a counted unit has no weight yet."""
    return KG_PER_UNIT.get(unit, unit_weight_kg)
