"""Listings: create, edit, publish rules, archive; photos attached to them."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from marketplace.errors import Conflict
from marketplace.limits import (
    MAX_LINE_TOTAL,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_STOCK,
    MAX_UNIT_WEIGHT_KG,
    MAX_WEIGHT_KG,
    format_number,
)
from marketplace.money import format_vnd
from marketplace.outbox.services import enqueue

from ..images import Refused, clean_image, make_sizes, refusal_error
from ..models import Category, FarmStatus, HarvestLot, ImageStatus, Product, ProductImage, ProductStatus
from ..search import SEARCHED_FIELDS, product_search_refresh
from ..units import Unit, is_fractional, kg_per_unit, needs_unit_weight, parse_quantity

PRODUCT_FIELDS = (
    "name",
    "category",
    "description",
    "unit",
    "unit_weight_kg",
    "price",
    "stock",
    "min_order",
    "harvest_date",
    "available_from",
    "available_until",
    "status",
    "lot",
)


def _validate(product: Product, changed: set[str]) -> None:
    """Check the listing as a whole; raise ValidationError with field messages."""
    errors: dict[str, list] = {}

    def error(field, message):
        errors.setdefault(field, []).append(message)

    if not (product.name or "").strip():
        error("name", _("Enter the product name."))
    elif len(product.name) > Product._meta.get_field("name").max_length:
        error("name", _("At most %(max)s characters.") % {"max": Product._meta.get_field("name").max_length})
    if product.unit not in Unit.values:
        error("unit", _("Choose a unit from the list."))
    else:
        weight = product.unit_weight_kg
        if needs_unit_weight(product.unit) and (weight is None or weight <= 0):
            error(
                "unit_weight_kg",
                _("Give the weight of one %(unit)s in kg: it sets delivery fees.")
                % {"unit": Unit(product.unit).label},
            )
        if not is_fractional(product.unit):
            for field in ("stock", "min_order"):
                value = getattr(product, field)
                if value is not None and Decimal(value) != Decimal(value).to_integral_value():
                    error(field, _("This unit is counted: use a whole number."))
    if not isinstance(product.price, int) or isinstance(product.price, bool) or product.price <= 0:
        error("price", _("The price must be a whole number of đồng, more than 0."))
    elif product.price > MAX_PRICE:
        error("price", _("The price is too high (at most %(max)s).") % {"max": format_vnd(MAX_PRICE)})
    if product.stock is None or product.stock < 0:
        error("stock", _("Stock cannot be negative."))
    if product.min_order is None or product.min_order <= 0:
        error("min_order", _("The minimum order must be more than 0."))
    elif not errors and changed & {"price", "min_order", "unit", "unit_weight_kg"}:
        _validate_minimum_line(product, error)
    if (
        product.available_from
        and product.available_until
        and product.available_until < product.available_from
    ):
        error("available_until", _("The last day comes before the first day."))
    if product.lot_id and "lot" in changed:
        lot = HarvestLot.objects.filter(pk=product.lot_id).first()
        if lot is None or lot.product_id != product.pk:
            error("lot", _("Choose a harvest lot of this product."))
    if errors:
        raise ValidationError(errors)


def _validate_minimum_line(product: Product, error) -> None:
    """A minimum order must itself be a line an order may hold (`marketplace.limits`)."""
    minimum = Decimal(product.min_order)
    if minimum * product.price > MAX_LINE_TOTAL:
        error(
            "min_order",
            _("The minimum order would cost %(total)s; one line of an order may cost at most %(max)s.")
            % {"total": format_vnd(minimum * product.price), "max": format_vnd(MAX_LINE_TOTAL)},
        )
    weight = minimum * (kg_per_unit(product.unit, product.unit_weight_kg) or 0)
    if weight > MAX_WEIGHT_KG:
        error(
            "min_order",
            _("The minimum order would weigh %(weight)s kg; one order may weigh at most %(max)s kg.")
            % {"weight": format_number(weight), "max": format_number(MAX_WEIGHT_KG)},
        )


#: The bound of each quantity field (`marketplace.limits`).
QUANTITY_BOUNDS = {"stock": MAX_STOCK, "min_order": MAX_QUANTITY, "unit_weight_kg": MAX_UNIT_WEIGHT_KG}


def _parse(fields: dict) -> dict:
    errors: dict[str, list] = {}
    parsed = {}
    for name, value in fields.items():
        if name not in PRODUCT_FIELDS:
            continue
        try:
            if name in QUANTITY_BOUNDS and value not in (None, ""):
                value = parse_quantity(value, maximum=QUANTITY_BOUNDS[name])
            elif name == "unit_weight_kg":
                value = None
            elif name == "category" and not isinstance(value, Category):
                value = Category.objects.filter(pk=value).first()
                if value is None:
                    raise ValidationError(_("Choose a category from the list."))
            elif name == "lot" and value is not None and not isinstance(value, HarvestLot):
                value = HarvestLot.objects.filter(pk=value).first()
                if value is None:
                    raise ValidationError(_("Choose a harvest lot of this product."))
            elif name == "status" and value not in ProductStatus.values:
                raise ValidationError(_("Unknown status."))
            elif name in ("name", "description") and isinstance(value, str):
                value = value.strip()
        except ValidationError as exc:
            errors[name] = exc.messages
            continue
        parsed[name] = value
    if errors:
        raise ValidationError(errors)
    return parsed


SELLING = (ProductStatus.ACTIVE, ProductStatus.SOLD_OUT)


def _settle_status(product: Product, requested: str | None, *, previous: str | None = None) -> None:
    """Apply the publishing rules: only verified households publish; no stock means sold out."""
    verified = product.farm.status == FarmStatus.VERIFIED
    if requested in SELLING and previous not in SELLING and not verified:
        raise Conflict(
            _("Your household is not verified yet: keep the listing as a draft until it is."),
            code="farm_not_verified",
            field="status",
        )
    status = requested or product.status
    if status == ProductStatus.ACTIVE and product.stock <= 0:
        status = ProductStatus.SOLD_OUT
    elif status == ProductStatus.SOLD_OUT and product.stock > 0 and requested is None and verified:
        status = ProductStatus.ACTIVE
    product.status = status


@transaction.atomic
def product_create(*, farm, **fields) -> Product:
    """Create a listing of the household (a draft unless it asks to publish)."""
    parsed = _parse(fields)
    if "lot" in parsed and parsed["lot"] is not None:
        raise ValidationError({"lot": [_("Choose a harvest lot of this product.")]})
    requested = parsed.pop("status", ProductStatus.DRAFT)
    missing = {
        name: [_("This field is required.")]
        for name in ("name", "category", "unit", "price")
        if parsed.get(name) in (None, "")
    }
    if missing:
        raise ValidationError(missing)
    product = Product(farm=farm, **parsed)
    _validate(product, set(parsed))
    _settle_status(product, requested)
    product.save()
    product_search_refresh(products=[product])  # catalogue search columns
    return product


@transaction.atomic
def product_update(*, product: Product, **fields) -> Product:
    """Edit a listing. Orders keep their own copy of name and price, so none changes here."""
    parsed = _parse(fields)
    product = Product.objects.select_for_update().select_related("farm").get(pk=product.pk)
    requested = parsed.pop("status", None)
    previous = product.status
    for name, value in parsed.items():
        setattr(product, name, value)
    _validate(product, set(parsed))
    _settle_status(product, requested, previous=previous)
    product.save()
    if SEARCHED_FIELDS & set(parsed):  # catalogue search columns
        product_search_refresh(products=[product])
    return product


def product_archive(*, product: Product) -> Product:
    """Take a listing off sale for good; it stays for orders and statistics that name it."""
    Product.objects.filter(pk=product.pk).update(status=ProductStatus.ARCHIVED)
    product.status = ProductStatus.ARCHIVED
    return product


@transaction.atomic
def product_image_add(*, product: Product, upload) -> ProductImage:
    """Store a cleaned photo; its display sizes are made by a Celery task after commit."""
    from ..tasks import process_product_image

    cleaned = clean_image(upload)  # before the lock: decoding is slow, and it may refuse
    Product.objects.select_for_update().filter(pk=product.pk).first()
    count = ProductImage.objects.filter(product=product).count()
    if count >= settings.PRODUCT_IMAGES_MAX:
        raise Conflict(
            _("A listing has at most %(max)s photos: delete one first.")
            % {"max": settings.PRODUCT_IMAGES_MAX},
            code="too_many_images",
            field="image",
        )
    image = ProductImage(product=product, position=count, width=cleaned.width, height=cleaned.height)
    image.original.save(f"p{product.pk}.{cleaned.extension}", ContentFile(cleaned.content), save=False)
    image.save()
    enqueue(process_product_image, image.pk)
    return image


def _product_image_failed(image: ProductImage, refused: Refused) -> ProductImage:
    """Show a photo as failed and tell the household why, once."""
    import logging

    from django.urls import reverse

    from marketplace.accounts.language import speaking_to
    from marketplace.notifications.models import Channel
    from marketplace.notifications.services import notify

    logging.getLogger(__name__).warning("Photo %s failed: %s %s", image.pk, refused.code, refused.params)
    image.status = ImageStatus.FAILED
    failed = ProductImage.objects.filter(pk=image.pk, status=ImageStatus.PROCESSING).update(
        status=ImageStatus.FAILED
    )
    if failed:
        product = image.product
        owner = product.farm.owner
        with speaking_to(owner):
            notify(
                user=owner,
                subject=_("A photo could not be processed"),
                body=_("A photo of %(product)s could not be processed: %(reason)s Delete it and add another.")
                % {"product": product.name, "reason": refusal_error(refused).messages[0]},
                url=reverse("farms:product_photos", args=[product.pk]),
                channels=[Channel.IN_APP],
            )
    return image


def product_image_process(*, image: ProductImage) -> ProductImage:
    """Make the thumbnail and display sizes of a photo; running it twice does no harm."""
    if image.status == ImageStatus.READY:
        return image
    try:
        with image.original.open("rb") as handle:
            sizes = make_sizes(handle.read(settings.UPLOAD_MAX_BYTES + 1))  # a larger one is refused
    except Refused as refused:
        # Refused, unreadable, or stopped by the decoding process's memory or time limit:
        # retrying will not help. (OSError, storage trouble or no process started: the task retries.)
        return _product_image_failed(image, refused)
    names = {}
    for name, clean in sizes.items():
        field = getattr(image, name)
        # A name of its own per photo and size: a run killed before its UPDATE left this very
        # file, which this run replaces, so a photo never has two copies of a size.
        basename = f"p{image.product_id}-i{image.pk}-{name}.{clean.extension}"
        field.storage.delete(field.field.generate_filename(image, basename))
        field.save(basename, ContentFile(clean.content), save=False)
        names[name] = field.name
    # A conditional UPDATE: a photo deleted meanwhile is left deleted, and its new files removed.
    updated = ProductImage.objects.filter(pk=image.pk).update(status=ImageStatus.READY, **names)
    if not updated:
        for stored in names.values():
            image.original.storage.delete(stored)
    image.status = ImageStatus.READY
    return image


@transaction.atomic
def product_image_delete(*, image: ProductImage) -> None:
    files = [image.original, image.thumb, image.display]
    product_id = image.product_id
    image.delete()
    for position, pk in enumerate(
        ProductImage.objects.filter(product_id=product_id)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    ):
        ProductImage.objects.filter(pk=pk).update(position=position)
    names = [f.name for f in files if f]
    storage = image.original.storage
    transaction.on_commit(lambda: [storage.delete(name) for name in names])


@transaction.atomic
def product_images_reorder(*, product: Product, ids: list[int]) -> list[ProductImage]:
    """Put the listing's photos in the order given; the first is the cover."""
    current = list(ProductImage.objects.select_for_update().filter(product=product))
    by_id = {image.pk: image for image in current}
    if len(ids) != len(set(ids)) or set(ids) != set(by_id):
        raise ValidationError({"ids": [_("List every photo of this listing exactly once.")]})
    for position, pk in enumerate(ids):
        by_id[pk].position = position
    ProductImage.objects.bulk_update(current, ["position"])
    return [by_id[pk] for pk in ids]
