"""Reads for the storefront pages, built on the farms catalogue and the orders cart."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from farms.models import Category, CertificationKind, Farm, Product
from farms.search import product_catalogue
from farms.selectors import category_tree, farms_verified, farms_with_badges, products_public
from orders.models import Cart, CartLine

#: How many listings each list of the home page shows.
HOME_LIST_SIZE = 8
#: A listing is "in season" when it is available now and was harvested within these days.
IN_SEASON_DAYS = 30
#: Any badge counts for the home page's certified list.
CERTIFIED = tuple(kind.value for kind in CertificationKind)


@dataclass
class CategoryIndex:
    """The category tree (one query): top-level categories, and every node by id and slug."""

    top: list[Category]
    by_id: dict[int, Category]

    def by_slug(self, slug: str) -> Category | None:
        return next((node for node in self.by_id.values() if node.slug == slug), None)

    def parent_of(self, category: Category) -> Category | None:
        return self.by_id.get(category.parent_id) if category.parent_id else None


def category_index() -> CategoryIndex:
    """Return the category tree with a lookup by id and slug (one query)."""
    top = category_tree()
    by_id = {}
    for node in top:
        by_id[node.pk] = node
        for child in node.subcategories:
            by_id[child.pk] = child
    return CategoryIndex(top=top, by_id=by_id)


def home_lists(*, size: int = HOME_LIST_SIZE) -> dict[str, list[Product]]:
    """Return the home page's short lists: in season now, newest, of certified households.

    Three small id queries, then the listings of all three with their photos and badges in
    one go (three queries), whatever the number of listings.
    """
    recent = timezone.localdate() - timedelta(days=IN_SEASON_DAYS)
    queries = {
        "in_season": product_catalogue(available="now")
        .filter(harvest_date__gte=recent)
        .order_by("-harvest_date", "-created_at", "-id"),
        "newest": product_catalogue(ordering="newest"),
        "certified": product_catalogue(certifications=CERTIFIED, ordering="newest"),
    }
    ids = {
        name: list(queryset.prefetch_related(None).values_list("pk", flat=True)[:size])
        for name, queryset in queries.items()
    }
    wanted = {pk for pks in ids.values() for pk in pks}
    # A listing withdrawn between the two reads is simply left out.
    products = products_public().in_bulk(wanted) if wanted else {}
    return {name: [products[pk] for pk in pks if pk in products] for name, pks in ids.items()}


def farm_public(*, pk) -> Farm | None:
    """Return a household that sells now (verified, not suspended) with its badges, or None."""
    return farms_with_badges(farms_verified()).filter(pk=pk).first()


def product_public(*, pk) -> Product | None:
    """Return a listing on the public catalogue with its photos and badges, or None."""
    return products_public().filter(pk=pk).first()


def cart_line_in(*, cart: Cart | None, pk) -> CartLine | None:
    """Return the line `pk` of `cart` (the request's own cart), or None: no one else's line."""
    if cart is None:
        return None
    return CartLine.objects.select_related("product", "cart").filter(cart=cart, pk=pk).first()
