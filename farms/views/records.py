"""The farmer's certificates and harvest lots, and the checked download of a certificate."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role
from marketplace.errors import Conflict

from .. import services
from ..downloads import certification_file_response
from ..forms import CertificationForm, LotForm, quantity_text
from ..models import CertificationStatus
from ..selectors import certifications_visible_to, lots_of, products_of
from .common import own_farm_or_redirect

farmer_only = role_required(Role.FARMER)
# Certificates a household may still withdraw (the service enforces it; the page hides the button).
REMOVABLE = (CertificationStatus.PENDING, CertificationStatus.REJECTED)


@farmer_only
def certification_list(request):
    certifications = certifications_visible_to(user=request.user)
    return render(
        request, "farms/certifications.html", {"certifications": certifications, "removable": REMOVABLE}
    )


@farmer_only
def certification_create(request):
    farm, elsewhere = own_farm_or_redirect(request)
    if elsewhere:
        return elsewhere
    form = CertificationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.certification_create(farm=farm, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_conflict(exc)
        else:
            messages.success(request, _("Certificate added. An official will verify it."))
            return redirect("farms:certifications")
    return render(request, "farms/certification_form.html", {"form": form})


@farmer_only
@require_POST
def certification_delete(request, pk: int):
    certification = get_object_or_404(certifications_visible_to(user=request.user), pk=pk)
    try:
        services.certification_delete(certification=certification)
    except Conflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Certificate deleted."))
    return redirect("farms:certifications")


@role_required(Role.FARMER, Role.OFFICIAL)
def certification_document(request, pk: int):
    """Stream a certificate to its owner or an official in scope; anyone else gets a 404."""
    certification = get_object_or_404(certifications_visible_to(user=request.user), pk=pk)
    # Officials read images in the browser; PDFs (which can carry scripts) always download.
    inline = request.user.role == Role.OFFICIAL and certification.document_type.startswith("image/")
    return certification_file_response(certification, inline=inline)


def _lot_products(user):
    return products_of(user=user).select_related(None).prefetch_related(None).order_by("name", "id")


@farmer_only
def lot_list(request):
    return render(request, "farms/lots.html", {"lots": lots_of(user=request.user)})


@farmer_only
def lot_create(request):
    farm, elsewhere = own_farm_or_redirect(request)
    if elsewhere:
        return elsewhere
    form = LotForm(request.POST or None, products=_lot_products(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            lot = services.lot_create(farm=farm, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request, _("Harvest lot %(code)s recorded. Print its label.") % {"code": lot.code}
            )
            return redirect("farms:lot_label", pk=lot.pk)
    return render(request, "farms/lot_form.html", {"form": form})


@farmer_only
def lot_edit(request, pk: int):
    lot = get_object_or_404(lots_of(user=request.user), pk=pk)
    initial = {
        "product": lot.product_id,
        "harvest_date": lot.harvest_date,
        "quantity": quantity_text(lot.quantity),
        "practices": lot.practices,
    }
    form = LotForm(request.POST or None, initial=initial, products=_lot_products(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.lot_update(lot=lot, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Harvest lot %(code)s saved.") % {"code": lot.code})
            return redirect("farms:lots")
    return render(request, "farms/lot_form.html", {"form": form, "lot": lot})


@farmer_only
def lot_label(request, pk: int):
    """A printable label: product, household, harvest date, the code and its QR code."""
    lot = get_object_or_404(lots_of(user=request.user).select_related("farm__ward"), pk=pk)
    trace_url = request.build_absolute_uri(reverse("farms:trace", args=[lot.code]))
    return render(request, "farms/lot_label.html", {"lot": lot, "trace_url": trace_url})
