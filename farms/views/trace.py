"""Public trace pages of harvest lots and their QR codes (no login, no personal data)."""

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ..qr import qr_png, qr_svg
from ..selectors import certifications_valid_on, lot_for_trace

QR_FORMATS = {"png": (qr_png, "image/png"), "svg": (qr_svg, "image/svg+xml")}
QR_MAX_AGE = 24 * 60 * 60


def _lot_or_404(code: str):
    lot = lot_for_trace(code=code)
    if lot is None:
        raise Http404
    return lot


def trace(request, code: str):
    """Show where a lot comes from: product, household and ward, harvest, valid certificates."""
    if code != code.upper():  # codes are printed upper-case; typed ones may not be
        return redirect("farms:trace", code=code.upper(), permanent=True)
    lot = _lot_or_404(code)
    context = {
        "lot": lot,
        "certifications": certifications_valid_on(farm=lot.farm, day=lot.harvest_date),
    }
    return render(request, "farms/trace.html", context)


def trace_qr(request, code: str, fmt: str):
    """Return the QR code of the lot's absolute trace URL as PNG or SVG."""
    if fmt not in QR_FORMATS:
        raise Http404
    if code != code.upper():
        return redirect("farms:trace_qr", code=code.upper(), fmt=fmt, permanent=True)
    lot = _lot_or_404(code)
    make, content_type = QR_FORMATS[fmt]
    url = request.build_absolute_uri(reverse("farms:trace", args=[lot.code]))
    response = HttpResponse(make(url), content_type=content_type)
    response["Cache-Control"] = f"public, max-age={QR_MAX_AGE}"
    return response
