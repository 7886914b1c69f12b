"""Reads of farms data. Selectors that take a user return only what that user may see."""

from datetime import date

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from marketplace.accounts.models import Role

from .models import (
    Category,
    Certification,
    CertificationStatus,
    Farm,
    FarmDecision,
    FarmStatus,
    HarvestLot,
    Product,
    ProductImage,
    ProductStatus,
)


def _is(user, role) -> bool:
    return bool(user and user.is_authenticated and user.role == role)


def official_ward_filter(user, field: str = "ward") -> Q:
    """Return the condition for rows in an official's wards (everything for city-wide scope)."""
    if user.city_wide:
        return Q()
    return Q(**{f"{field}__in": user.wards.all()})


def farms_verified() -> QuerySet[Farm]:
    """Return households that sell: verified and not suspended."""
    return Farm.objects.filter(status=FarmStatus.VERIFIED).select_related("ward")


def farm_of(user) -> Farm | None:
    """Return the farmer's own household, or None."""
    if not _is(user, Role.FARMER):
        return None
    return Farm.objects.select_related("ward").filter(owner=user).first()


def farms_for_official(*, user) -> QuerySet[Farm]:
    """Return every household in the official's scope, whatever its status."""
    if not _is(user, Role.OFFICIAL):
        return Farm.objects.none()
    return Farm.objects.select_related("ward").filter(official_ward_filter(user))


def farm_verification_queue(*, user) -> QuerySet[Farm]:
    """Return pending households in the official's scope, oldest submission first."""
    return farms_for_official(user=user).filter(status=FarmStatus.PENDING).order_by("status_changed_at", "id")


def farms_visible_to(*, user) -> QuerySet[Farm]:
    """Return households `user` may open: verified ones, their own, and an official's scope."""
    visible = Q(status=FarmStatus.VERIFIED)
    if _is(user, Role.FARMER):
        visible |= Q(owner=user)
    elif _is(user, Role.OFFICIAL):
        visible |= official_ward_filter(user) if not user.city_wide else Q(pk__isnull=False)
    return Farm.objects.select_related("ward").filter(visible)


def farm_can_see_private(*, farm: Farm, user) -> bool:
    """Return True for the owner and for officials in scope (they see CCCD digits and audit)."""
    if _is(user, Role.FARMER):
        return farm.owner_id == user.pk
    if _is(user, Role.OFFICIAL):
        return farms_for_official(user=user).filter(pk=farm.pk).exists()
    return False


def farm_decisions(*, farm: Farm) -> QuerySet[FarmDecision]:
    return farm.decisions.select_related("by").order_by("-at", "-id")


def badge_certifications(*, on: date | None = None) -> QuerySet[Certification]:
    """Return certificates whose badge shows on `on` (today): verified and unexpired."""
    on = on or timezone.localdate()
    return Certification.objects.filter(
        status=CertificationStatus.VERIFIED, issued_on__lte=on, expires_on__gte=on
    ).order_by("kind", "id")


#: Columns only searches read; lists never show them (about 300 bytes a row).
SEARCH_COLUMNS = ("search_name", "search_name_folded", "search_document")


def _product_joins(queryset: QuerySet[Product]) -> QuerySet[Product]:
    return queryset.defer(*SEARCH_COLUMNS).select_related("farm__ward", "category", "lot").prefetch_related(
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
        Prefetch("farm__certifications", queryset=badge_certifications(), to_attr="badges"),
    )


def products_public() -> QuerySet[Product]:
    """Return listings a buyer can order now: active, of a verified, unsuspended household."""
    return _product_joins(
        Product.objects.filter(status=ProductStatus.ACTIVE, farm__status=FarmStatus.VERIFIED)
    )


def products_visible_to(*, user) -> QuerySet[Product]:
    """Return listings `user` may open: the public ones, plus every listing of their own."""
    visible = Q(status=ProductStatus.ACTIVE, farm__status=FarmStatus.VERIFIED)
    if _is(user, Role.FARMER):
        visible |= Q(farm__owner=user)
    return _product_joins(Product.objects.filter(visible))


def products_of(*, user) -> QuerySet[Product]:
    """Return the farmer's own listings, every status (archived last)."""
    if not _is(user, Role.FARMER):
        return Product.objects.none()
    return _product_joins(Product.objects.filter(farm__owner=user))


def certifications_visible_to(*, user) -> QuerySet[Certification]:
    """Return the farmer's own certificates, or those in an official's scope."""
    queryset = Certification.objects.select_related("farm__ward", "decided_by")
    if _is(user, Role.FARMER):
        return queryset.filter(farm__owner=user)
    if _is(user, Role.OFFICIAL):
        return queryset.filter(official_ward_filter(user, "farm__ward"))
    return Certification.objects.none()


def lots_of(*, user) -> QuerySet[HarvestLot]:
    if not _is(user, Role.FARMER):
        return HarvestLot.objects.none()
    return HarvestLot.objects.select_related("product", "farm").filter(farm__owner=user)


def lot_for_trace(*, code: str) -> HarvestLot | None:
    """Return the lot behind a public trace code, with what its page shows."""
    return (
        # Only a household that sells now is vouched for; a suspended one's labels lead nowhere.
        HarvestLot.objects.select_related("product__category", "farm__ward")
        .filter(code=(code or "").upper(), farm__status=FarmStatus.VERIFIED)
        .first()
    )


def certifications_valid_on(*, farm: Farm, day: date) -> list[Certification]:
    """Return the household's certificates that were verified and in force on `day`."""
    return list(
        Certification.objects.filter(
            farm=farm,
            status__in=(CertificationStatus.VERIFIED, CertificationStatus.EXPIRED),
            issued_on__lte=day,
            expires_on__gte=day,
        ).order_by("kind")
    )


def category_tree() -> list[Category]:
    """Return top-level categories with their children (one query)."""
    categories = list(Category.objects.order_by("position", "id"))
    by_parent: dict[int | None, list[Category]] = {}
    for category in categories:
        by_parent.setdefault(category.parent_id, []).append(category)
    for category in categories:
        category.subcategories = by_parent.get(category.pk, [])
    return by_parent.get(None, [])


def farm_export(user) -> dict | None:
    """Return the household data held about `user` for their data export."""
    farm = Farm.objects.select_related("ward").filter(owner=user).first()
    if farm is None:
        return None
    return {
        "name": farm.name,
        "representative_name": farm.representative_name,
        "phone": farm.phone,
        "ward": farm.ward_id,
        "address": farm.address,
        "area_m2": farm.area_m2,
        "main_crops": farm.main_crops,
        "cooperative": farm.cooperative,
        "cccd_last4": farm.cccd_last4,
        "status": farm.status,
        "created_at": farm.created_at.isoformat(),
        "products": list(farm.products.values("id", "name", "status", "price", "unit")),
        "certifications": list(farm.certifications.values("id", "kind", "number", "status", "expires_on")),
    }


# --- Joins for the API's lists (appended for issue #3's API) --------------------------


def farms_with_badges(queryset: QuerySet[Farm]) -> QuerySet[Farm]:
    """Return `queryset` with each household's badge certificates prefetched as `badges`."""
    return queryset.prefetch_related(
        Prefetch("certifications", queryset=badge_certifications(), to_attr="badges")
    )


def farms_with_decisions(queryset: QuerySet[Farm]) -> QuerySet[Farm]:
    """Return `queryset` with each household's audit trail prefetched, newest first."""
    return queryset.prefetch_related(
        Prefetch("decisions", queryset=FarmDecision.objects.select_related("by").order_by("-at", "-id"))
    )


def product_images_of(*, user) -> QuerySet[ProductImage]:
    """Return the photos of the farmer's own listings."""
    if not _is(user, Role.FARMER):
        return ProductImage.objects.none()
    return ProductImage.objects.filter(product__farm__owner=user)
