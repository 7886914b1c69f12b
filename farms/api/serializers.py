"""Shapes of the farms API: households, listings, photos, certificates, harvest lots, trace.

Input serializers only parse types; the services judge the values. Output serializers are
read-only and expect the joins their selector sets (badges, images, decisions).
"""

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse
from django.utils.encoding import filepath_to_uri
from django.utils.translation import gettext_lazy as _
from drf_spectacular.helpers import lazy_serializer
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import (
    Certification,
    CertificationKind,
    CertificationStatus,
    Farm,
    FarmDecision,
    FarmStatus,
    HarvestLot,
    Product,
    ProductImage,
    ProductStatus,
)
from ..selectors import badge_certifications, products_of
from ..units import Unit, is_fractional, needs_unit_weight

# --- Shared pieces ------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """`{detail, code}`; a 409 may add keys naming what conflicts (`field`, `status`)."""

    detail = serializers.CharField()
    code = serializers.CharField()


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number"},
            {"type": "string", "pattern": r"^\d+(\.\d{1,3})?$"},
        ],
        "example": "1.500",
    }
)
class QuantityField(serializers.DecimalField):
    """A quantity with up to 3 decimal places, sent as a number or a string."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 3)
        super().__init__(**kwargs)


class WardBriefSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)


class BadgeSerializer(serializers.ModelSerializer):
    """A certificate as a badge: shown while verified and unexpired."""

    label = serializers.CharField(source="badge", read_only=True)

    class Meta:
        model = Certification
        fields = ["kind", "ocop_stars", "label", "expires_on"]
        read_only_fields = fields


def _badges(farm: Farm) -> list[Certification]:
    badges = getattr(farm, "badges", None)  # prefetched by the list selectors
    if badges is None:
        badges = list(badge_certifications().filter(farm=farm))
    return badges


def _absolute(request, url: str | None) -> str | None:
    if not url:
        return None
    return request.build_absolute_uri(url) if request is not None else url


# --- Households ---------------------------------------------------------------------


class FarmSerializer(serializers.ModelSerializer):
    """What anyone may read about a household."""

    ward = WardBriefSerializer(read_only=True)
    certifications = serializers.SerializerMethodField()

    class Meta:
        model = Farm
        fields = [
            "id",
            "name",
            "ward",
            "area_m2",
            "main_crops",
            "cooperative",
            "status",
            "verified_at",
            "certifications",
        ]
        read_only_fields = fields

    @extend_schema_field(BadgeSerializer(many=True))
    def get_certifications(self, farm: Farm) -> list:
        return BadgeSerializer(_badges(farm), many=True).data


class FarmDecisionSerializer(serializers.ModelSerializer):
    by = serializers.SerializerMethodField()
    # "" for the registration, which comes from no status (declared: DRF drops `allow_blank` from
    # read-only model fields).
    from_status = serializers.ChoiceField(choices=FarmStatus.choices, allow_blank=True, read_only=True)

    class Meta:
        model = FarmDecision
        fields = ["action", "from_status", "to_status", "by", "at", "reason"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_by(self, decision: FarmDecision) -> str | None:
        return decision.by.full_name if decision.by_id else None


class FarmPrivateSerializer(FarmSerializer):
    """The household as its owner and the officials in its scope see it (never the CCCD)."""

    decisions = serializers.SerializerMethodField()

    class Meta(FarmSerializer.Meta):
        fields = [
            *FarmSerializer.Meta.fields,
            "representative_name",
            "phone",
            "address",
            "cccd_last4",
            "status_changed_at",
            "created_at",
            "decisions",
        ]
        read_only_fields = fields

    @extend_schema_field(FarmDecisionSerializer(many=True))
    def get_decisions(self, farm: Farm) -> list:
        decisions = self.context.get("decisions")
        if decisions is None:
            decisions = farm.decisions.all()  # prefetched with `by` by the queue's selector
        return FarmDecisionSerializer(decisions, many=True).data


class FarmInputSerializer(serializers.Serializer):
    """Registration and edits. The CCCD is write-only: no answer ever carries it."""

    name = serializers.CharField(max_length=120)
    representative_name = serializers.CharField(max_length=120)
    phone = serializers.CharField(max_length=32)
    ward = serializers.CharField(max_length=5, help_text=_("The 5-digit code of the ward or commune."))
    address = serializers.CharField(max_length=200)
    area_m2 = serializers.IntegerField(max_value=2_000_000_000)
    main_crops = serializers.CharField(max_length=200)
    cooperative = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    cccd = serializers.CharField(max_length=20, write_only=True)


class FarmDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(
        choices=["approve", "reject"], error_messages={"invalid_choice": _("Choose approve or reject.")}
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- Reference lists ----------------------------------------------------------------


class CategorySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="label", read_only=True)
    slug = serializers.CharField(read_only=True)
    children = serializers.SerializerMethodField()

    @extend_schema_field(lazy_serializer("farms.api.serializers.CategorySerializer")(many=True))
    def get_children(self, category) -> list:
        return CategorySerializer(getattr(category, "subcategories", []), many=True).data


class UnitSerializer(serializers.Serializer):
    code = serializers.SerializerMethodField()
    label = serializers.SerializerMethodField()
    fractional = serializers.SerializerMethodField()
    needs_unit_weight = serializers.SerializerMethodField()

    def get_code(self, unit: Unit) -> str:
        return unit.value

    def get_label(self, unit: Unit) -> str:
        return str(unit.label)

    def get_fractional(self, unit: Unit) -> bool:
        return is_fractional(unit)

    def get_needs_unit_weight(self, unit: Unit) -> bool:
        return needs_unit_weight(unit)


# --- Listings and photos ------------------------------------------------------------


class ImageUrlsSerializer(serializers.Serializer):
    original = serializers.URLField()
    thumb = serializers.URLField(allow_null=True)
    display = serializers.URLField(allow_null=True)


class ProductImageSerializer(serializers.ModelSerializer):
    """A photo; `thumb` and `display` are null while the worker is still making them."""

    urls = serializers.SerializerMethodField()

    class Meta:
        model = ProductImage
        fields = ["id", "position", "status", "width", "height", "urls"]
        read_only_fields = fields

    @extend_schema_field(ImageUrlsSerializer)
    def get_urls(self, image: ProductImage) -> dict:
        media_url = self._media_url()
        return {name: media_url(getattr(image, name)) for name in ("original", "thumb", "display")}

    def _media_url(self):
        """Return a function giving a stored file's absolute URL, built once per answer.

        A page of 50 listings carries some 300 photo URLs; going through storage.url() and
        build_absolute_uri() for each was a fifth of the list's time (make bench).
        """
        cached = self.context.get("_media_url")
        if cached is None:
            request = self.context.get("request")
            if isinstance(default_storage, FileSystemStorage):  # the lazy object reports its class
                prefix = _absolute(request, settings.MEDIA_URL)

                def cached(field):
                    return prefix + filepath_to_uri(field.name) if field else None

            else:  # another storage (object storage) knows its own URLs

                def cached(field):
                    return _absolute(request, field.url) if field else None

            self.context["_media_url"] = cached
        return cached


class ProductFarmSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    ward = WardBriefSerializer(read_only=True)


class ProductSerializer(serializers.ModelSerializer):
    category = serializers.IntegerField(source="category_id", read_only=True)
    category_name = serializers.CharField(source="category.label", read_only=True)
    farm = ProductFarmSerializer(read_only=True)
    unit_label = serializers.SerializerMethodField()
    lot = serializers.IntegerField(source="lot_id", read_only=True, allow_null=True)
    lot_code = serializers.SerializerMethodField()
    images = ProductImageSerializer(many=True, read_only=True)
    certifications = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "category",
            "category_name",
            "description",
            "farm",
            "unit",
            "unit_label",
            "unit_weight_kg",
            "price",
            "stock",
            "min_order",
            "status",
            "harvest_date",
            "available_from",
            "available_until",
            "lot",
            "lot_code",
            "images",
            "certifications",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_lot_code(self, product: Product) -> str | None:
        return product.lot.code if product.lot_id else None

    @extend_schema_field(BadgeSerializer(many=True))
    def get_certifications(self, product: Product) -> list:
        # One badge serializer per answer, not one per listing (make bench: 15% of a page).
        badge = self.context.setdefault("_badge_serializer", BadgeSerializer())
        return [badge.to_representation(certification) for certification in _badges(product.farm)]

    @extend_schema_field(serializers.CharField())
    def get_unit_label(self, product: Product) -> str:
        return str(Unit(product.unit).label)


class ProductInputSerializer(serializers.Serializer):
    """A listing's fields; the household comes from the account and is never sent."""

    name = serializers.CharField(max_length=120)
    category = serializers.IntegerField()
    description = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.ChoiceField(
        choices=Unit.choices, error_messages={"invalid_choice": _("Choose a unit from the list.")}
    )
    unit_weight_kg = QuantityField(max_digits=8, required=False, allow_null=True)
    price = serializers.IntegerField(max_value=1_000_000_000_000)
    stock = QuantityField(required=False)
    min_order = QuantityField(required=False)
    harvest_date = serializers.DateField(required=False, allow_null=True)
    available_from = serializers.DateField(required=False, allow_null=True)
    available_until = serializers.DateField(required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=ProductStatus.choices,
        required=False,
        error_messages={"invalid_choice": _("Unknown status.")},
    )
    lot = serializers.IntegerField(required=False, allow_null=True)


class ImageUploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text=_("A JPEG, PNG or WebP photo of at most 10 MB."))


class ImageOrderSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


# --- Certificates -------------------------------------------------------------------


class FarmBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class CertificationSerializer(serializers.ModelSerializer):
    farm = FarmBriefSerializer(read_only=True)
    label = serializers.CharField(source="badge", read_only=True)
    document_url = serializers.SerializerMethodField()

    class Meta:
        model = Certification
        fields = [
            "id",
            "farm",
            "kind",
            "ocop_stars",
            "label",
            "number",
            "issuer",
            "issued_on",
            "expires_on",
            "status",
            "reason",
            "decided_at",
            "document_url",
            "document_type",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField())
    def get_document_url(self, certification: Certification) -> str:
        url = reverse("certification-document", args=[certification.pk])
        return _absolute(self.context.get("request"), url)


class CertificationInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=CertificationKind.choices,
        error_messages={"invalid_choice": _("Choose VietGAP, GlobalGAP, organic or OCOP.")},
    )
    ocop_stars = serializers.IntegerField(required=False, allow_null=True)
    number = serializers.CharField(max_length=60)
    issuer = serializers.CharField(max_length=150)
    issued_on = serializers.DateField()
    expires_on = serializers.DateField()
    document = serializers.FileField(help_text=_("The certificate as a JPEG, PNG or WebP image or a PDF."))


class CertificationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CertificationStatus.choices, required=False)


class CertificationDecideSerializer(FarmDecideSerializer):
    pass


# --- Harvest lots and trace ---------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class OwnProductField(serializers.PrimaryKeyRelatedField):
    """A listing id, looked up among the requesting farmer's own listings only."""

    default_error_messages = {
        "does_not_exist": _("Choose one of your own listings."),
        "incorrect_type": _("Choose one of your own listings."),
    }

    def get_queryset(self):
        request = self.context.get("request")  # absent while the schema is generated
        return products_of(user=getattr(request, "user", None)).prefetch_related(None)


class ProductBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class LotSerializer(serializers.ModelSerializer):
    product = ProductBriefSerializer(read_only=True)
    trace_url = serializers.SerializerMethodField()
    qr_png_url = serializers.SerializerMethodField()
    qr_svg_url = serializers.SerializerMethodField()

    class Meta:
        model = HarvestLot
        fields = [
            "id",
            "code",
            "product",
            "harvest_date",
            "quantity",
            "practices",
            "trace_url",
            "qr_png_url",
            "qr_svg_url",
            "created_at",
        ]
        read_only_fields = fields

    # The trace page belongs to the pages of farms; its address is fixed: /t/<code>.
    def _url(self, lot: HarvestLot, suffix: str = "") -> str:
        return _absolute(self.context.get("request"), f"/t/{lot.code}{suffix}")

    @extend_schema_field(serializers.URLField())
    def get_trace_url(self, lot: HarvestLot) -> str:
        return self._url(lot)

    @extend_schema_field(serializers.URLField())
    def get_qr_png_url(self, lot: HarvestLot) -> str:
        return self._url(lot, "/qr.png")

    @extend_schema_field(serializers.URLField())
    def get_qr_svg_url(self, lot: HarvestLot) -> str:
        return self._url(lot, "/qr.svg")


class LotInputSerializer(serializers.Serializer):
    product = OwnProductField()
    harvest_date = serializers.DateField()
    quantity = QuantityField()
    practices = serializers.CharField(required=False, allow_blank=True, default="")


class TraceCertificationSerializer(BadgeSerializer):
    class Meta(BadgeSerializer.Meta):
        fields = ["kind", "ocop_stars", "label", "issuer", "issued_on", "expires_on"]
        read_only_fields = fields


class TraceProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    category = serializers.CharField(source="category.label", read_only=True)


class TraceSerializer(serializers.ModelSerializer):
    """A harvest lot as its public trace page shows it: no personal data at all."""

    product = TraceProductSerializer(read_only=True)
    farm = FarmBriefSerializer(read_only=True)
    ward = WardBriefSerializer(source="farm.ward", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    unit_label = serializers.CharField(source="product.get_unit_display", read_only=True)
    certifications = serializers.SerializerMethodField()
    trace_url = serializers.SerializerMethodField()

    class Meta:
        model = HarvestLot
        fields = [
            "code",
            "product",
            "farm",
            "ward",
            "harvest_date",
            "quantity",
            "unit",
            "unit_label",
            "practices",
            "certifications",
            "trace_url",
        ]
        read_only_fields = fields

    @extend_schema_field(TraceCertificationSerializer(many=True))
    def get_certifications(self, lot: HarvestLot) -> list:
        return TraceCertificationSerializer(self.context.get("certifications", []), many=True).data

    @extend_schema_field(serializers.URLField())
    def get_trace_url(self, lot: HarvestLot) -> str:
        return _absolute(self.context.get("request"), f"/t/{lot.code}")
