"""Catalogue search for Vietnamese, with the catalogue's filters and sorting.

Matching is the same on SQLite and PostgreSQL: the query is folded (no accents, lower case,
`đ` = `d`) and split into words, and every word must appear as a whole word in the listing's
`search_document` (name, description, categories in vi and en, ward and the ward's former
names, household). Whole words, so `dua` never finds `Đậu` and `rau` never finds `Sầu riêng`.
A one-letter word is a word like any other: place names need them (`Ô Môn`, `Châu Thành A`,
`Phường 8`), and as a whole word a lone letter cannot match inside a longer one.

Ranking, highest first: the listing's own name, then its description, its category, its ward,
and last its household's name, each word counted where it first occurs in the document (whose
sections are in that order). Within the name: the accented words as typed (only when the query
carries accents, so `dừa` puts coconut above `dưa` melon), then the folded phrase opening the
name (Vietnamese names the thing first: `Sầu riêng Ri6` is durian, `Bánh pía sầu riêng` a
cake), the phrase anywhere in it, every word in it. Newest first among equals. A listing found
only through its household's name (`sau rieng` and the sugarcane of "Vườn sầu riêng Ba Lành")
is left out when any listing matches in its own name, description or category, and comes last
otherwise (`ut hien` still lists that household's produce). On PostgreSQL a query that matches
nothing exactly falls back to trigram word similarity of the folded query to the folded name
(typos), ranked by similarity; when anything matches exactly the results are SQLite's.
"""

import operator
import re
import unicodedata
from dataclasses import dataclass
from functools import reduce

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, Exists, F, FloatField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.geo.selectors import wards_for_query
from marketplace.text import fold

from .models import CertificationKind, Product
from .selectors import badge_certifications, products_public

#: Longest query accepted, and how many of its words count (the rest are ignored).
MAX_QUERY_LENGTH = 100
MAX_QUERY_WORDS = 10
#: Most values one repeatable filter takes (`ward`, `certification`).
MAX_FILTER_VALUES = 20
#: Highest price a filter takes: beyond any listing, and within every database's integers.
MAX_PRICE_FILTER = 10**12
#: Lowest `word_similarity` of the folded query to the folded name for a typo match (PostgreSQL).
TYPO_THRESHOLD = 0.5

ORDERINGS = ("relevance", "price", "-price", "newest")
AVAILABILITY = ("now", "preorder")
#: Certification filter values: a kind, or OCOP with at least N stars (`ocop` is any OCOP).
CERTIFICATIONS = {
    "vietgap": Q(kind=CertificationKind.VIETGAP),
    "globalgap": Q(kind=CertificationKind.GLOBALGAP),
    "organic": Q(kind=CertificationKind.ORGANIC),
    "ocop": Q(kind=CertificationKind.OCOP),
    "ocop3": Q(kind=CertificationKind.OCOP, ocop_stars__gte=3),
    "ocop4": Q(kind=CertificationKind.OCOP, ocop_stars__gte=4),
    "ocop5": Q(kind=CertificationKind.OCOP, ocop_stars__gte=5),
}

_NOT_WORD = re.compile(r"[\W_]+")
_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng


# --- Words ------------------------------------------------------------------------------


def folded_words(text: str) -> list[str]:
    """Return the words of `text` without accents, lower-cased, `đ` as `d`."""
    return _NOT_WORD.sub(" ", fold(text)).split()


def _old_style_tone(word: str) -> str:
    """Return `word` with the tone on the first vowel of a final oa/oe/uy: `hoà` -> `hòa`.

    Both placements are in everyday use ("Hoà"/"Hòa", "thuỷ"/"thủy"); the place and category
    names use the first, so typed words are brought to it before an exact-accent comparison.
    """
    letters = []  # [base letter, its marks]
    for char in unicodedata.normalize("NFD", word):
        if unicodedata.combining(char) and letters:
            letters[-1][1] += char
        else:
            letters.append([char, ""])
    bases = "".join(base for base, _marks in letters)
    if len(letters) < 2 or bases[-2:] not in ("oa", "oe", "uy") or bases.endswith("quy"):
        return word
    last, before = letters[-1], letters[-2]
    tone = [mark for mark in last[1] if mark in _TONE_MARKS]
    if not tone or any(mark in _TONE_MARKS for mark in before[1]):
        return word
    last[1] = last[1].replace(tone[0], "")
    before[1] += tone[0]
    return unicodedata.normalize("NFC", "".join(base + marks for base, marks in letters))


def accented_words(text: str) -> list[str]:
    """Return the words of `text` lower-cased with their accents (NFC, one tone placement)."""
    text = unicodedata.normalize("NFC", text or "").lower()
    return [_old_style_tone(word) for word in _NOT_WORD.sub(" ", text).split()]


def _padded(words: list[str]) -> str:
    """Return the words joined and space-padded, so a whole word is found as " word "."""
    return f" {' '.join(words)} " if words else ""


# --- Search columns -----------------------------------------------------------------------


#: Marks opening each section of `search_document` after the name, in rank order: a match in
#: an earlier section ranks higher. No query word can match a mark (" |c " holds no " c ").
SECTION_MARKS = {"description": "|d", "category": "|c", "place": "|p", "household": "|h"}


def search_columns(product) -> dict[str, str]:
    """Return the search columns of a listing (its category, household and ward loaded).

    `search_document` is " name |d description |c categories |p ward and its former names
    |h household ", folded; the position of a word's first occurrence tells which section
    it matched in.
    """
    category = product.category
    categories = [category, category.parent] if category.parent_id else [category]
    ward = product.farm.ward
    place = [ward.name]
    for alias in ward.aliases.all():
        place += [alias.short_name, alias.label]
    sections = {
        "description": [product.description],
        "category": [text for node in categories for text in (node.name, node.name_en)],
        "place": place,
        "household": [product.farm.name],
    }
    document = folded_words(product.name)
    for section, parts in sections.items():
        document += [SECTION_MARKS[section], *folded_words(" ".join(part for part in parts if part))]
    return {
        "search_name": _padded(accented_words(product.name)),
        "search_name_folded": _padded(folded_words(product.name)),
        "search_document": _padded(document),
    }


SEARCH_FIELDS = ("search_name", "search_name_folded", "search_document")
#: Listing fields the search columns are made from (besides household and ward).
SEARCHED_FIELDS = frozenset({"name", "description", "category"})


def refresh_search_columns(queryset, *, batch_size: int = 500) -> dict[int, dict[str, str]]:
    """Recompute the search columns of the listings in `queryset` and save those that changed.

    Takes the real or a migration's historical model; returns {pk: columns} of every listing.
    """
    rows = queryset.select_related("category__parent", "farm__ward").prefetch_related("farm__ward__aliases")
    columns, changed = {}, []
    for product in rows.iterator(chunk_size=batch_size):
        values = search_columns(product)
        columns[product.pk] = values
        if any(getattr(product, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(product, name, value)
            changed.append(product)
    if changed:
        queryset.model._base_manager.db_manager(queryset.db).bulk_update(
            changed, SEARCH_FIELDS, batch_size=batch_size
        )
    return columns


def product_search_refresh(*, products) -> None:
    """Bring the search columns of `products` (listings or a queryset) up to date.

    Call it after a listing's name, description or category changes, and for all of a
    household's listings after its name or ward changes.
    """
    if isinstance(products, QuerySet):
        instances, queryset = {}, products
    else:
        instances = {product.pk: product for product in products}
        if not instances:
            return
        queryset = Product.objects.filter(pk__in=list(instances))
    for pk, values in refresh_search_columns(queryset).items():
        if pk in instances:
            for name, value in values.items():
                setattr(instances[pk], name, value)


# --- Matching and ranking ------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """A parsed query: its folded words, and those of its words typed with accents."""

    words: tuple[str, ...]
    accented: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> "SearchQuery":
        words, accented = [], []
        for word in accented_words(text)[:MAX_QUERY_WORDS]:
            folded = folded_words(word)
            if len(folded) != 1:  # a word of marks alone folds to nothing
                continue
            words.append(folded[0])
            if folded[0] != word:
                accented.append(word)
        return cls(tuple(words), tuple(accented))

    @property
    def phrase(self) -> str:
        return _padded(list(self.words))

    def _all(self, field: str, words) -> Q:
        return Q(*(Q(**{f"{field}__contains": f" {word} "}) for word in words))

    def _before(self, section: str) -> Q:
        """Return the condition: every word first occurs in the document before `section`."""
        start = StrIndex("search_document", Value(f" {SECTION_MARKS[section]} "))
        return Q(*(LessThan(StrIndex("search_document", Value(f" {word} ")), start) for word in self.words))

    def matches(self) -> Q:
        """Return the condition: every word is a whole word of the search document."""
        return self._all("search_document", self.words)

    def in_own_text(self) -> Q:
        """Return the condition: every word is in the listing's name, description or category."""
        return self._before("place")

    def through_household(self) -> Q:
        """Return the condition: some word is found only in the household's name."""
        return ~self._before("household")

    def rank(self) -> Case:
        """Return the relevance score, from the accents as typed opening the name (highest) to
        a match that needs the household's name (1)."""
        name_tiers = [
            Q(search_name_folded__startswith=self.phrase),  # the phrase opens the name
            Q(search_name_folded__contains=self.phrase),
            self._all("search_name_folded", self.words),
        ]
        tiers = []
        if self.accented:
            accents = self._all("search_name", self.accented)
            tiers += [accents & condition for condition in name_tiers]
        tiers += name_tiers
        tiers += [self._before("category"), self._before("place"), self._before("household")]
        # Scores from len(tiers) + 1 down to 2; 1 when some word is only in the household's name.
        scores = range(len(tiers) + 1, 1, -1)
        whens = [
            When(condition, then=Value(float(score))) for condition, score in zip(tiers, scores, strict=True)
        ]
        return Case(*whens, default=Value(1.0), output_field=FloatField())


def _typo_tolerant() -> bool:
    return connection.vendor == "postgresql"


def _search(queryset: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Return the listings of `queryset` matching `text`, annotated with `search_rank`."""
    query = SearchQuery.parse(text)
    if not query.words:  # punctuation alone
        return queryset.none().annotate(search_rank=Value(0.0))
    matched = queryset.filter(query.matches())
    # Typos only when nothing matches exactly, so exact-word queries give the same listings as
    # on SQLite. A separate probe rather than an OR in one query: the OR would stop PostgreSQL
    # from using the trigram index for the exact words (a scan of every listing instead).
    if not _typo_tolerant() or matched.exists():
        # A listing found only through its household's name stays out when another listing
        # (the filters apply) has every word in its own text. The subquery does not depend on
        # the row, so both databases run it once, in the same query.
        better = queryset.filter(query.matches() & query.in_own_text())
        kept = matched.filter(~query.through_household() | ~Exists(better))
        return kept.annotate(search_rank=query.rank())
    from django.contrib.postgres.search import TrigramWordSimilarity

    # Typo matches rank by similarity (below 1). This scans the names of the listings the
    # filters leave, which is cheap at a market's size and runs only when nothing matched.
    similarity = TrigramWordSimilarity(" ".join(query.words), "search_name_folded")
    return queryset.annotate(search_rank=similarity).filter(search_rank__gte=TYPO_THRESHOLD)


# --- The catalogue ------------------------------------------------------------------------


def _any(conditions) -> Q:
    return reduce(operator.or_, conditions)


def _available_now(today) -> Q:
    return (
        (Q(available_from__isnull=True) | Q(available_from__lte=today))
        & (Q(harvest_date__isnull=True) | Q(harvest_date__lte=today))
        & (Q(available_until__isnull=True) | Q(available_until__gte=today))
    )


def _preorder(today) -> Q:
    return Q(harvest_date__gt=today) | Q(available_from__gt=today)


def is_preorder(product, *, today=None) -> bool:
    """Return True while the harvest or the sale is still to come (the `preorder` filter's rule)."""
    today = today or timezone.localdate()
    return bool(
        (product.harvest_date and product.harvest_date > today)
        or (product.available_from and product.available_from > today)
    )


def product_catalogue(
    *,
    q: str = "",
    category: int | None = None,
    wards=(),
    certifications=(),
    min_price: int | None = None,
    max_price: int | None = None,
    in_stock: bool = False,
    available: str | None = None,
    ordering: str = "",
    farm=None,
) -> QuerySet[Product]:
    """Return the public listings that match the search and every filter, in `ordering`.

    `category` includes its sub-categories; `wards` are codes or current or former names
    (any of them; an unknown name matches nothing); `certifications` any of CERTIFICATIONS,
    on a badge valid today; `in_stock` keeps listings with at least their minimum order in
    stock; `available` is "now" or "preorder" (harvest or sale still to come). Ordering is
    relevance (the default with a query), price, -price or newest (the default otherwise).
    """
    queryset = products_public()
    if farm is not None:
        queryset = queryset.filter(farm=farm)
    if category is not None:
        queryset = queryset.filter(Q(category_id=category) | Q(category__parent_id=category))
    if wards:
        queryset = queryset.filter(
            _any(Q(farm__ward__in=wards_for_query(query=value).values("code")) for value in wards)
        )
    if certifications:
        kinds = _any(CERTIFICATIONS[value] for value in certifications)
        certified = badge_certifications().filter(kinds, farm_id=OuterRef("farm_id"))
        queryset = queryset.filter(Exists(certified))
    if min_price is not None:
        queryset = queryset.filter(price__gte=min_price)
    if max_price is not None:
        queryset = queryset.filter(price__lte=max_price)
    if in_stock:
        queryset = queryset.filter(stock__gt=0, stock__gte=F("min_order"))
    today = timezone.localdate()
    if available == "now":
        queryset = queryset.filter(_available_now(today))
    elif available == "preorder":
        queryset = queryset.filter(_preorder(today))

    newest = ["-created_at", "-id"]
    searching = bool((q or "").strip())
    if searching:
        queryset = _search(queryset, q)
    if ordering == "price":
        return queryset.order_by("price", *newest)
    if ordering == "-price":
        return queryset.order_by("-price", *newest)
    if ordering == "newest" or not searching:
        return queryset.order_by(*newest)
    return queryset.order_by("-search_rank", *newest)


# --- Query-string parameters ------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
# Whole đồng, digits alone or grouped by thousands as people write them: 125000, 125.000, 125,000.
_PRICE = re.compile(r"[0-9]+|[0-9]{1,3}([., ])[0-9]{3}(?:\1[0-9]{3})*")


def _values(querydict, name: str) -> list[str]:
    """Return the non-blank values of a repeatable parameter (also comma-separated)."""
    getlist = getattr(querydict, "getlist", None)
    raw = getlist(name) if getlist else querydict.get(name, [])
    if isinstance(raw, str):
        raw = [raw]
    return [part.strip() for value in raw for part in str(value).split(",") if part.strip()]


def _single(querydict, name: str) -> str:
    value = querydict.get(name, "")
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return str(value or "").strip()


def _one_of(value: str, choices) -> str:
    return _("“%(value)s” is not one of: %(choices)s.") % {"value": value, "choices": ", ".join(choices)}


def catalogue_params(querydict) -> dict:
    """Parse catalogue query-string values into `product_catalogue` arguments.

    Raise ValidationError with a message per parameter (`q`, `category`, `ward`,
    `certification`, `min_price`, `max_price`, `in_stock`, `available`, `ordering`).
    """
    errors: dict[str, list[str]] = {}
    params: dict = {}

    q = _single(querydict, "q")
    if len(q) > MAX_QUERY_LENGTH:
        errors["q"] = [_("Search for at most %(max)s characters.") % {"max": MAX_QUERY_LENGTH}]
    params["q"] = q

    category = _single(querydict, "category")
    params["category"] = None
    if category:
        if re.fullmatch(r"[0-9]{1,9}", category):
            params["category"] = int(category)
        else:
            errors["category"] = [_("Choose a category from the list.")]

    for name, key in (("ward", "wards"), ("certification", "certifications")):
        values = list(dict.fromkeys(_values(querydict, name)))
        if len(values) > MAX_FILTER_VALUES:
            errors[name] = [_("Choose at most %(max)s.") % {"max": MAX_FILTER_VALUES}]
        params[key] = tuple(values)
    certifications = tuple(value.lower() for value in params["certifications"])
    unknown = [value for value in certifications if value not in CERTIFICATIONS]
    if unknown and "certification" not in errors:
        errors["certification"] = [_one_of(value, CERTIFICATIONS) for value in unknown]
    params["certifications"] = certifications

    for name in ("min_price", "max_price"):
        value = _single(querydict, name)
        params[name] = None
        if not value:
            continue
        digits = re.sub(r"[^0-9]", "", value) if _PRICE.fullmatch(value) else ""
        if digits and len(digits) <= 13 and int(digits) <= MAX_PRICE_FILTER:
            params[name] = int(digits)
        else:
            errors[name] = [_("Enter a whole number of đồng, 0 or more.")]
    if (
        params["min_price"] is not None
        and params["max_price"] is not None
        and params["max_price"] < params["min_price"]
    ):
        errors.setdefault("max_price", []).append(_("The highest price is below the lowest."))

    in_stock = _single(querydict, "in_stock").lower()
    if in_stock not in _TRUE | _FALSE:
        errors["in_stock"] = [_("Use true or false.")]
    params["in_stock"] = in_stock in _TRUE

    available = _single(querydict, "available").lower()
    if available and available not in AVAILABILITY:
        errors["available"] = [_one_of(available, AVAILABILITY)]
    params["available"] = available or None

    ordering = _single(querydict, "ordering").lower()
    if ordering and ordering not in ORDERINGS:
        errors["ordering"] = [_one_of(ordering, ORDERINGS)]
    params["ordering"] = ordering

    if errors:
        raise ValidationError(errors)
    return params
