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
# The kind after the name, as English pages show a ward: "An Bình (Ward)", "Nhơn Ái (Commune)".
_KIND_SUFFIX = re.compile(r"\s*\((?:ward|commune|phuong|xa)\)$")


def ward_list() -> QuerySet[Ward]:
    """Return every ward with its aliases prefetched (two queries)."""
    return Ward.objects.prefetch_related("aliases")


def _wards_named(name: str) -> QuerySet[Ward]:
    return ward_list().filter(Q(name_folded=name) | Q(aliases__name_folded=name)).distinct()


def wards_for_query(*, query: str) -> QuerySet[Ward]:
    """Return the wards a typed name means: a current ward, or every ward a former name fed.

    Accents, case, a leading type word ("Huyện", "Phường", "TP") and the kind after the name as
    English pages write it ("An Bình (Ward)") do not matter; a 5-digit query is a current ward code.
    """
    text = _KIND_SUFFIX.sub("", fold(query))
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


def wards_for_place(*, text: str) -> list[Ward]:
    """Return the wards a household may mean by `text`, the likeliest first.

    A ward's own full name ("Phường An Bình", "An Bình (Ward)", "An Binh Ward"), a former unit's or
    district's full name ("Thị trấn Phong Điền", "Huyện Phong Điền") or a code is one answer; a
    bare name ("Phong Điền") is every ward it may mean: the ward of that name first, then those
    a former unit of that name became, then those a former district of that name fed.
    """
    whole = fold(text)
    folded = _KIND_SUFFIX.sub("", whole)
    if not folded:
        return []
    wards = list(ward_list())
    if _WARD_CODE.fullmatch(folded):
        return [ward for ward in wards if ward.code == folded]
    # The whole text first: the English name the picker itself shows ("Bình Thuỷ (Ward)") keeps
    # its kind, which tells apart a ward and a commune of one name.
    exact = [
        ward
        for ward in wards
        if {whole, folded} & {fold(ward.full_name), fold(ward.full_name_en), fold(ward.english_full_name)}
    ]
    if exact:
        return exact
    by_alias = [ward for ward in wards if any(fold(a.name) == folded for a in ward.aliases.all())]
    if by_alias:
        return by_alias
    named = {ward.code for ward in wards_for_query(query=text)}

    def likeliness(ward: Ward) -> tuple:
        if ward.name_folded == folded or fold(ward.full_name) == folded:
            return (0, ward.name_folded)
        kinds = {a.kind for a in ward.aliases.all() if a.name_folded == folded}
        return (1 if AliasKind.FORMER_UNIT in kinds else 2, ward.name_folded)

    return sorted((ward for ward in wards if ward.code in named), key=likeliness)


def former_names_matching(ward: Ward, *, text: str) -> list[str]:
    """Return the former names of `ward` that `text` names ("Phong Điền" → "Huyện Phong Điền")."""
    folded = _KIND_SUFFIX.sub("", fold(text))
    stripped = _TYPE_PREFIX.sub("", folded, count=1)
    return [
        label
        for label in alias_labels(ward)
        if any(
            fold(alias.label) == fold(label) and alias.name_folded in {folded, stripped}
            for alias in ward.aliases.all()
        )
    ]
