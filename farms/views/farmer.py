"""The farmer's pages: dashboard, household, listings and their photos."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role
from marketplace.accounts.phone import format_phone
from marketplace.errors import Conflict
from marketplace.notifications.selectors import notifications_for_user

from .. import services
from ..forms import (
    FarmForm,
    PhotoForm,
    PhotoMoveForm,
    ProductForm,
    ProductStatusForm,
    QuickEditForm,
    quantity_text,
)
from ..models import FarmStatus, ProductStatus
from ..selectors import certifications_visible_to, farm_decisions, farm_of, lots_of, products_of
from .common import error_text, own_farm_or_redirect

farmer_only = role_required(Role.FARMER)


def _quick_form(product, data=None) -> QuickEditForm:
    initial = {"price": product.price, "stock": quantity_text(product.stock)}
    return QuickEditForm(data, initial=initial, auto_id=f"q{product.pk}-%s")


def _listing_url(product) -> str:
    return f"{reverse('farms:dashboard')}#p{product.pk}"


def _render_dashboard(request, *, bound_quick_form=None, bound_pk=None):
    farm = farm_of(request.user)
    context = {"farm": farm, "notifications": notifications_for_user(user=request.user)[:5]}
    if farm is not None:
        listings, archived = [], []
        for product in products_of(user=request.user):
            product.cover = next(iter(product.images.all()), None)
            product.quick_form = bound_quick_form if product.pk == bound_pk else _quick_form(product)
            (archived if product.status == ProductStatus.ARCHIVED else listings).append(product)
        last_decision = None
        if farm.status in (FarmStatus.REJECTED, FarmStatus.SUSPENDED):
            last_decision = farm_decisions(farm=farm).first()
        context.update(
            listings=listings,
            archived=archived,
            last_decision=last_decision,
            certifications=certifications_visible_to(user=request.user),
            lots=lots_of(user=request.user)[:5],
            max_photos=settings.PRODUCT_IMAGES_MAX,
        )
    return render(request, "farms/dashboard.html", context)


@farmer_only
def dashboard(request):
    return _render_dashboard(request)


@sensitive_post_parameters("cccd")
@farmer_only
def farm_edit(request):
    """Register the household, or edit it (a blank citizen ID keeps the one on file)."""
    farm = farm_of(request.user)
    if farm is None:
        initial = {"representative_name": request.user.full_name, "phone": request.user.phone_display}
    else:
        initial = {
            "name": farm.name,
            "representative_name": farm.representative_name,
            "phone": format_phone(farm.phone) if farm.phone else "",
            "ward": farm.ward_id,
            "address": farm.address,
            "area_m2": farm.area_m2,
            "main_crops": farm.main_crops,
            "cooperative": farm.cooperative,
        }
    form = FarmForm(request.POST or None, initial=initial, cccd_last4=farm.cccd_last4 if farm else "")
    if request.method == "POST" and form.is_valid():
        try:
            if farm is None:
                farm = services.farm_register(owner=request.user, **form.service_fields())
                notice = _("Your household is registered. An official of your ward will check it.")
            else:
                before = farm.status
                farm = services.farm_update(farm=farm, by=request.user, **form.service_fields())
                notice = _("Your household details are saved.")
                if before == FarmStatus.VERIFIED and farm.status == FarmStatus.PENDING:
                    notice = _("Saved. The new details go back to an official for verification.")
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_conflict(exc)
        else:
            messages.success(request, notice)
            return redirect("farms:dashboard")
    return render(request, "farms/farm_form.html", {"form": form, "farm": farm})


@farmer_only
@require_POST
def farm_resubmit(request):
    farm, elsewhere = own_farm_or_redirect(request)
    if elsewhere:
        return elsewhere
    try:
        services.farm_resubmit(farm=farm, by=request.user)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Sent back to the officials for verification."))
    return redirect("farms:dashboard")


@farmer_only
def product_create(request):
    farm, elsewhere = own_farm_or_redirect(request)
    if elsewhere:
        return elsewhere
    initial = {"unit": "kg", "min_order": "1", "status": ProductStatus.DRAFT}
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            product = services.product_create(farm=farm, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_conflict(exc)
        else:
            messages.success(request, _("Listing saved. Now add its photos."))
            return redirect("farms:product_photos", pk=product.pk)
    return render(request, "farms/product_form.html", {"form": form, "farm": farm})


@farmer_only
def product_edit(request, pk: int):
    product = get_object_or_404(products_of(user=request.user), pk=pk)
    initial = {
        "name": product.name,
        "category": product.category_id,
        "description": product.description,
        "unit": product.unit,
        "unit_weight_kg": quantity_text(product.unit_weight_kg),
        "price": product.price,
        "stock": quantity_text(product.stock),
        "min_order": quantity_text(product.min_order),
        "harvest_date": product.harvest_date,
        "available_from": product.available_from,
        "available_until": product.available_until,
        "lot": product.lot_id,
        "status": product.status,
    }
    form = ProductForm(
        request.POST or None, initial=initial, current_status=product.status, lots=product.lots.all()
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.product_update(product=product, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_conflict(exc)
        else:
            messages.success(request, _("Listing saved."))
            return redirect(_listing_url(product))
    return render(
        request, "farms/product_form.html", {"form": form, "product": product, "farm": product.farm}
    )


@farmer_only
@require_POST
def product_quick_edit(request, pk: int):
    """Change price and stock from the dashboard; errors show next to the listing."""
    product = get_object_or_404(products_of(user=request.user), pk=pk)
    form = _quick_form(product, request.POST)
    if form.is_valid():
        try:
            services.product_update(product=product, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_conflict(exc)
        else:
            messages.success(request, _("%(name)s: price and stock saved.") % {"name": product.name})
            return redirect(_listing_url(product))
    return _render_dashboard(request, bound_quick_form=form, bound_pk=product.pk)


@farmer_only
@require_POST
def product_status(request, pk: int):
    """Publish, pause or take back a listing to draft in one tap."""
    product = get_object_or_404(products_of(user=request.user), pk=pk)
    form = ProductStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a status from the list."))
        return redirect(_listing_url(product))
    try:
        product = services.product_update(product=product, status=form.cleaned_data["status"])
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("%(name)s is now: %(status)s.")
            % {"name": product.name, "status": product.get_status_display().lower()},
        )
    return redirect(_listing_url(product))


@farmer_only
@require_POST
def product_archive(request, pk: int):
    product = get_object_or_404(products_of(user=request.user), pk=pk)
    services.product_archive(product=product)
    messages.success(request, _("%(name)s is archived: buyers no longer see it.") % {"name": product.name})
    return redirect("farms:dashboard")


@farmer_only
def product_photos(request, pk: int):
    """Show a listing's photos; add one per submit (the cover is the first)."""
    product = get_object_or_404(products_of(user=request.user), pk=pk)
    posted = request.method == "POST"
    form = PhotoForm(request.POST if posted else None, request.FILES if posted else None)
    if posted and form.is_valid():
        try:
            services.product_image_add(product=product, upload=form.cleaned_data["upload"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Photo added."))
            return redirect("farms:product_photos", pk=product.pk)
    images = list(product.images.all())
    context = {
        "product": product,
        "images": images,
        "form": form,
        "max_photos": settings.PRODUCT_IMAGES_MAX,
        "can_add": len(images) < settings.PRODUCT_IMAGES_MAX,
    }
    return render(request, "farms/photos.html", context)


@farmer_only
@require_POST
def photo_delete(request, pk: int, image_pk: int):
    product = get_object_or_404(products_of(user=request.user), pk=pk)
    image = get_object_or_404(product.images.all(), pk=image_pk)
    services.product_image_delete(image=image)
    messages.success(request, _("Photo deleted."))
    return redirect("farms:product_photos", pk=product.pk)


@farmer_only
@require_POST
def photo_move(request, pk: int, image_pk: int):
    """Move a photo one place up or down; the service stores the new order."""
    product = get_object_or_404(products_of(user=request.user), pk=pk)
    ids = [image.pk for image in product.images.all()]
    form = PhotoMoveForm(request.POST)
    if image_pk not in ids:
        raise Http404
    if form.is_valid():
        index = ids.index(image_pk)
        other = index - 1 if form.cleaned_data["direction"] == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            try:
                services.product_images_reorder(product=product, ids=ids)
            except ValidationError as exc:  # a photo added or deleted meanwhile in another tab
                messages.error(request, error_text(exc))
    return redirect("farms:product_photos", pk=product.pk)
