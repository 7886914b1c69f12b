"""Reads for wards and the names people still use for them."""
import re

from django.db.models import Q, QuerySet

from marketplace.text import fold

from .models import AliasKind, Ward

# Folded type words people put before a name: "Huyện Phong Điền", "TP. Vị Thanh", "P. An Hòa".
_TYPE_PREFIX = re.compile(
    r"^(?:(?:phuong|xa|thi tran|quan|huyen|thi xa|thanh pho)\s+|(?:tp|tt|tx|p|q|h|x)(?:\.\s*|\s+))"
)
_WARD_CODE = re.compile(r"\d{5}")


def ward_list() -> QuerySet[Ward]:
    """Return every ward with its aliases prefetched (two queries)."""
    return Ward.objects.prefetch_related("aliases")


def _wards_named(name: str) -> QuerySet[Ward]:
    return ward_list().filter(Q(name_folded=name) | Q(aliases__name_folded=name)).distinct()


def wards_for_query(*, query: str) -> QuerySet[Ward]:
    """Return the wards a typed name means: a current ward, or every ward a former name fed.

    Accents, case and a leading type word ("Huyện", "Phường", "TP") do not matter; a 5-digit
    query is a current ward code.
    """
    text = fold(query)
    if not text:
        return Ward.objects.none()
    if _WARD_CODE.fullmatch(text):
        return ward_list().filter(code=text)
    # Try the text as typed first: "Xà Phiên" and "Phương Phú" fold to what looks like a prefix.
    wards = _wards_named(text)
    stripped = _TYPE_PREFIX.sub("", text, count=1)
    if stripped and stripped != text and not wards.exists():
        wards = _wards_named(stripped)
    return wards


def alias_labels(ward: Ward) -> list[str]:
    """Return the former names shown for `ward`: former units first, then former districts.

    Reads `ward.aliases.all()`, so a ward from `ward_list()` costs no further query.
    """
    aliases = sorted(
        ward.aliases.all(), key=lambda a: (a.kind != AliasKind.FORMER_UNIT, a.former_code)
    )
    # The ward's own name among its former units ("Phường Cái Khế") tells the reader nothing.
    labels = dict.fromkeys(a.label for a in aliases if a.label != ward.full_name)
    return list(labels)
