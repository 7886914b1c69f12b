"""The citizen ID (CCCD): validated, then kept only as a keyed hash and its last four digits.

The number is sensitive personal data. Nothing here logs it or puts it in an error message.
"""

import hashlib
import hmac
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The first three digits are the province of birth registration (Circular 07/2016/TT-BCA,
# 2025 numbering kept for people issued before the merger).
PROVINCE_CODES = frozenset(
    [
        "001",
        "002",
        "004",
        "006",
        "008",
        "010",
        "011",
        "012",
        "014",
        "015",
        "017",
        "019",
        "020",
        "022",
        "024",
        "025",
        "026",
        "027",
        "030",
        "031",
        "033",
        "034",
        "035",
        "036",
        "037",
        "038",
        "040",
        "042",
        "044",
        "045",
        "046",
        "048",
        "049",
        "051",
        "052",
        "054",
        "056",
        "058",
        "060",
        "062",
        "064",
        "066",
        "067",
        "068",
        "070",
        "072",
        "074",
        "075",
        "077",
        "079",
        "080",
        "082",
        "083",
        "084",
        "086",
        "087",
        "089",
        "091",
        "092",
        "093",
        "094",
        "095",
        "096",
    ]
)
# The fourth digit gives sex and century of birth: 0/1 1900s, 2/3 2000s, 4/5 2100s, 6/7 2200s, 8/9 1800s.
_CENTURY = {0: 1900, 1: 1900, 2: 2000, 3: 2000, 4: 2100, 5: 2100, 6: 2200, 7: 2200, 8: 1800, 9: 1800}
_NOT_DIGITS = re.compile(r"[\s.\-]")

INVALID = _("A citizen ID (CCCD) number has exactly 12 digits.")
BAD_PROVINCE = _("This is not a valid citizen ID (CCCD) number: check the first three digits.")
BAD_YEAR = _("This is not a valid citizen ID (CCCD) number: check digits 4 to 6.")


def cccd_clean(raw) -> str:
    """Return the 12 digits of a citizen ID, or raise ValidationError (without the number)."""
    digits = _NOT_DIGITS.sub("", str(raw or ""))
    if not re.fullmatch(r"\d{12}", digits):
        raise ValidationError(INVALID, code="invalid")
    if digits[:3] not in PROVINCE_CODES:
        raise ValidationError(BAD_PROVINCE, code="invalid")
    year = _CENTURY[int(digits[3])] + int(digits[4:6])
    if year > timezone.localdate().year or year < 1900:
        raise ValidationError(BAD_YEAR, code="invalid")
    return digits


def cccd_hash(digits: str) -> str:
    """Return the keyed hash that finds a second household with the same citizen ID."""
    key = settings.CCCD_HASH_KEY.encode()
    return hmac.new(key, digits.encode(), hashlib.sha256).hexdigest()
