"""Money is VND in whole đồng, written the Vietnamese way: 125.000 ₫."""
from decimal import ROUND_HALF_UP, Decimal


def format_vnd(amount) -> str:
    """Return `amount` in whole đồng as `125.000 ₫`; a fraction rounds half up, a sign stays."""
    if amount is None or amount == "":
        return ""
    value = int(Decimal(str(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    digits = f"{abs(value):,}".replace(",", ".")
    return f"{'-' if value < 0 else ''}{digits} ₫"
