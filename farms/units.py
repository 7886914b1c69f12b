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


def weight_kg(quantity, unit: str, unit_weight_kg: Decimal | None) -> Decimal:
    """Return the weight in kg of `quantity` units (0 for a counted unit with no weight)."""
    return Decimal(quantity) * (kg_per_unit(unit, unit_weight_kg) or Decimal(0))


#: Largest values the columns hold: quantities are Decimal(12, 3), unit weights Decimal(8, 3).
MAX_QUANTITY = Decimal("999999999.999")
MAX_UNIT_WEIGHT_KG = Decimal("99999.999")
#: A price per unit above a billion đồng is a typo, and would not fit a card payment either.
MAX_PRICE = 999_999_999
_PLACES = Decimal("0.001")


def parse_quantity(value, *, maximum: Decimal = MAX_QUANTITY) -> Decimal:
    """Return `value` as a Decimal with at most 3 places, or raise ValidationError."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (ArithmeticError, ValueError):
        raise ValidationError(_("Enter a number.")) from None
    if not number.is_finite():
        raise ValidationError(_("Enter a number."))
    if abs(number) > maximum:
        raise ValidationError(_("The number is too large (at most %(max)s).") % {"max": f"{maximum:,.0f}"})
    if number != number.quantize(_PLACES):
        raise ValidationError(_("Use at most 3 decimal places."))
    return number
