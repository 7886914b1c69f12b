"""Farm households, their listings, photos, certifications and harvest lots."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from marketplace.storage import private_storage

from .units import Unit


class FarmStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class Farm(models.Model):
    """A farm household (nông hộ): one per farmer account, verified by an official."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="farm", verbose_name=_("owner")
    )
    name = models.CharField(_("household name"), max_length=120)
    representative_name = models.CharField(_("representative"), max_length=120)
    phone = models.CharField(_("phone number"), max_length=32)
    ward = models.ForeignKey(
        "geo.Ward", on_delete=models.PROTECT, related_name="farms", verbose_name=_("ward")
    )
    address = models.CharField(_("address (street or hamlet)"), max_length=200)
    area_m2 = models.PositiveIntegerField(_("farm area (m²)"))
    main_crops = models.CharField(_("main crops"), max_length=200)
    cooperative = models.CharField(_("cooperative (HTX)"), max_length=150, blank=True)
    # The citizen ID itself is never stored: a keyed hash finds duplicates, the last four
    # digits let the owner and officials recognise it.
    cccd_hash = models.CharField(max_length=64, db_index=True, editable=False)
    cccd_last4 = models.CharField(_("citizen ID (last 4 digits)"), max_length=4, editable=False)
    status = models.CharField(
        _("status"), max_length=16, choices=FarmStatus.choices, default=FarmStatus.PENDING
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("farm household")
        verbose_name_plural = _("farm households")
        indexes = [models.Index(fields=["status", "ward"])]
        constraints = [
            # One household per citizen ID, even when two registrations race; wiped rows ("") aside.
            models.UniqueConstraint(
                fields=["cccd_hash"], condition=~Q(cccd_hash=""), name="farms_farm_one_household_per_cccd"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_selling(self) -> bool:
        return self.status == FarmStatus.VERIFIED


class FarmAction(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted for verification")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RESUBMITTED = "resubmitted", _("Corrected and resubmitted")
    IDENTITY_CHANGED = "identity_changed", _("Identity details changed: back to review")
    SUSPENDED = "suspended", _("Suspended")
    REINSTATED = "reinstated", _("Reinstated")
    ACCOUNT_DELETED = "account_deleted", _("Account deleted: household closed")


class FarmDecision(models.Model):
    """One audit record of a household's verification: who, when, what, why."""

    farm = models.ForeignKey(Farm, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=20, choices=FarmAction.choices)
    from_status = models.CharField(max_length=16, choices=FarmStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=FarmStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.farm_id}: {self.action}"


class Category(models.Model):
    """A node of the seeded produce tree; names are data, in Vietnamese and English."""

    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name in English"), max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    # Processed goods (dried, fermented, sweets): a household's sales of them are taxed; its own
    # unprocessed produce is exempt (the settlement ledger withholds tax on processed lines only).
    processed = models.BooleanField(_("processed goods"), default=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return self.name_en if (get_language() or "vi").startswith("en") else self.name


class ProductStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("On sale")
    PAUSED = "paused", _("Paused")
    SOLD_OUT = "sold_out", _("Sold out")
    ARCHIVED = "archived", _("Archived")


class Product(models.Model):
    """A listing: one product of one household, at a price per unit."""

    farm = models.ForeignKey(Farm, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(_("name"), max_length=120)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    description = models.TextField(_("description"), blank=True)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices)
    unit_weight_kg = models.DecimalField(
        _("weight of one unit (kg)"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    price = models.PositiveBigIntegerField(_("price per unit (đồng)"))
    stock = models.DecimalField(_("stock"), max_digits=12, decimal_places=3, default=0)
    min_order = models.DecimalField(_("minimum order"), max_digits=12, decimal_places=3, default=1)
    harvest_date = models.DateField(_("harvest date"), null=True, blank=True)
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ProductStatus.choices, default=ProductStatus.DRAFT
    )
    lot = models.ForeignKey("HarvestLot", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Catalogue search (farms/search.py keeps these up to date; never edited by hand). Each is
    # space-padded so a whole word is found as " word ": `search_name` lower-cased with its
    # accents, `search_name_folded` without them, `search_document` the folded name,
    # description, categories, household and ward with its former names.
    search_name = models.TextField(blank=True, default="", editable=False)
    search_name_folded = models.TextField(blank=True, default="", editable=False)
    search_document = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        indexes = [
            models.Index(fields=["status", "farm"]),
            # The catalogue's default order: newest first, read off the index, no sort.
            models.Index(fields=["-created_at", "-id"], name="farms_product_newest"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="farms_product_stock_not_negative"),
            models.CheckConstraint(condition=Q(price__gt=0), name="farms_product_price_positive"),
            models.CheckConstraint(condition=Q(min_order__gt=0), name="farms_product_min_order_positive"),
            models.CheckConstraint(
                condition=Q(available_until__isnull=True)
                | Q(available_from__isnull=True)
                | Q(available_until__gte=F("available_from")),
                name="farms_product_availability_ordered",
            ),
        ]

    def __str__(self):
        return self.name


class ImageStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class ProductImage(models.Model):
    """A listing photo: the cleaned original plus sizes made by a Celery task."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(default=0)
    original = models.ImageField(upload_to="products/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    thumb = models.ImageField(upload_to="products/%Y/%m/", blank=True)
    display = models.ImageField(upload_to="products/%Y/%m/", blank=True)
    status = models.CharField(max_length=12, choices=ImageStatus.choices, default=ImageStatus.PROCESSING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.original.name


class CertificationKind(models.TextChoices):
    VIETGAP = "vietgap", "VietGAP"
    GLOBALGAP = "globalgap", "GlobalGAP"
    ORGANIC = "organic", _("Organic")
    OCOP = "ocop", "OCOP"


class CertificationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")


def _private_storage():
    # Kept under this name: migration 0001 refers to it.
    return private_storage()


class Certification(models.Model):
    """A household's certificate; its badge shows while verified and unexpired."""

    farm = models.ForeignKey(Farm, on_delete=models.CASCADE, related_name="certifications")
    kind = models.CharField(_("kind"), max_length=12, choices=CertificationKind.choices)
    ocop_stars = models.PositiveSmallIntegerField(_("OCOP stars"), null=True, blank=True)
    number = models.CharField(_("certificate number"), max_length=60)
    issuer = models.CharField(_("issued by"), max_length=150)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"))
    # Certificates name people: kept outside the public media folder, served after a check.
    document = models.FileField(
        _("certificate (image or PDF)"), upload_to="certificates/%Y/%m/", storage=_private_storage
    )
    document_type = models.CharField(max_length=40, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=CertificationStatus.choices, default=CertificationStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    expiry_notice_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_on", "id"]
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gte=F("issued_on")), name="farms_certification_dates_ordered"
            ),
            models.CheckConstraint(
                condition=(Q(kind="ocop") & Q(ocop_stars__gte=3) & Q(ocop_stars__lte=5))
                | (~Q(kind="ocop") & Q(ocop_stars__isnull=True)),
                name="farms_certification_ocop_stars",
            ),
        ]

    def __str__(self):
        return f"{self.badge} {self.number}"

    @property
    def badge(self) -> str:
        if self.kind == CertificationKind.OCOP:
            return f"OCOP {self.ocop_stars}★"
        return str(self.get_kind_display())

    def is_valid_on(self, day) -> bool:
        return self.status in (CertificationStatus.VERIFIED, CertificationStatus.EXPIRED) and (
            self.issued_on <= day <= self.expires_on
        )


class HarvestLot(models.Model):
    """A harvest of one product, with a short public code for its trace page and QR label."""

    farm = models.ForeignKey(Farm, on_delete=models.CASCADE, related_name="lots")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="lots")
    code = models.CharField(_("trace code"), max_length=12, unique=True, editable=False)
    harvest_date = models.DateField(_("harvest date"))
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    practices = models.TextField(_("farming practices"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-harvest_date", "-id"]
        verbose_name = _("harvest lot")
        verbose_name_plural = _("harvest lots")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="farms_lot_quantity_positive"),
        ]

    def __str__(self):
        return self.code
