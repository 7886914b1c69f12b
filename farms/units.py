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


#: Largest quantity the columns hold: quantities are Decimal(12, 3). The market's own bounds
#: (stock, a line, a unit's weight, a price) are lower: `marketplace.limits`.
QUANTITY_COLUMN_MAX = Decimal("999999999.999")
_PLACES = Decimal("0.001")


def parse_quantity(value, *, maximum: Decimal = QUANTITY_COLUMN_MAX) -> Decimal:
    """Return `value` as a Decimal with at most 3 places and at most `maximum` either way, or raise
    ValidationError. Anything else (NaN, Infinity, "1e999999999", letters) is a field error."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from marketplace.limits import format_number

    try:
        number = Decimal(str(value).strip().replace(",", "."))
        if not number.is_finite():
            raise ValidationError(_("Enter a number."))
        # The exponent first: one past the context's (1e999999999) would raise Overflow in abs().
        too_large = number.adjusted() > maximum.adjusted() or abs(number) > maximum
    except (ArithmeticError, ValueError):
        raise ValidationError(_("Enter a number.")) from None
    if too_large:
        message = _("The number is too large (at most %(max)s).")
        raise ValidationError(message % {"max": format_number(maximum)})
    if number.adjusted() < -3 or number != number.quantize(_PLACES):
        raise ValidationError(_("Use at most 3 decimal places."))
    return number
