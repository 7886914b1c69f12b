"""Money is VND in whole đồng, written the Vietnamese way: 125.000 ₫."""


def format_vnd(amount) -> str:
    """Return `amount` (whole đồng) as `125.000 ₫`; negative amounts keep their sign."""
    if amount is None or amount == "":
        return ""
    value = int(amount)
    digits = f"{abs(value):,}".replace(",", ".")
    return f"{'-' if value < 0 else ''}{digits} ₫"
