"""Vietnamese mobile numbers: one canonical form for login and lockout keys."""
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INVALID_PHONE = _(
    "Enter a Vietnamese mobile number, for example 0912 345 678 or +84 912 345 678."
)
# Digits and the separators people type; phonenumbers would read letters as a keypad (abc → 222).
_PHONE_CHARACTERS = re.compile(r"\+?[\d\s.\-()]+")
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def normalize_phone(raw: str) -> str:
    """Return the E.164 form (+84912345678) of a Vietnamese mobile number.

    Accepts spaces, dots, dashes and the 0, 84 or +84 prefixes; raises
    ValidationError for anything that is not a valid Vietnamese mobile number.
    """
    text = (raw or "").strip()
    if not text or len(text) > 32 or not _PHONE_CHARACTERS.fullmatch(text):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    digits = "".join(ch for ch in text if ch.isdigit())
    # "84912345678" without a plus is the international form too.
    if not text.startswith("+") and digits.startswith("84") and len(digits) == 11:
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        raise ValidationError(INVALID_PHONE, code="invalid_phone") from None
    if (
        number.country_code != 84
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone_or_none(raw: str) -> str | None:
    """Return the canonical form, or None when the input is not a valid number."""
    try:
        return normalize_phone(raw)
    except ValidationError:
        return None


def format_phone(e164: str) -> str:
    """Return the national form people read aloud: 0912 345 678."""
    if not e164 or not e164.startswith("+84"):
        return e164 or ""
    national = "0" + e164[3:]
    return f"{national[:4]} {national[4:7]} {national[7:]}"
