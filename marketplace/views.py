"""Site-wide pages: health, privacy, and each role's start page (the home is the storefront's)."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.defaults import page_not_found
from rest_framework.exceptions import NotFound

from farms.models import CertificationStatus
from farms.selectors import certifications_visible_to, farm_verification_queue
from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role

from .health import broker_status, database_status


@never_cache
def healthz(request):
    """Answer 200 when the database and the broker answer, else 503 naming the failing part."""
    parts = {"database": database_status(), "broker": broker_status()}
    healthy = all(value == "ok" for value in parts.values())
    return JsonResponse({"status": "ok" if healthy else "error", **parts}, status=200 if healthy else 503)


def not_found(request, exception=None):
    """Answer an address nothing serves: the API's JSON 404 under /api/, the 404 page elsewhere."""
    if request.path_info.startswith("/api/"):
        body = {"detail": str(NotFound.default_detail), "code": NotFound.default_code}
        return JsonResponse(body, status=404)
    return page_not_found(request, exception)


def privacy(request):
    return render(request, "privacy.html")


@role_required(Role.OFFICIAL)
def official_home(request):
    """Show the official's scope and what waits in the verification queues."""
    pending_certifications = certifications_visible_to(user=request.user).filter(
        status=CertificationStatus.PENDING
    )
    context = {
        "wards": request.user.wards.all(),
        "pending_farms": farm_verification_queue(user=request.user).count(),
        "pending_certifications": pending_certifications.count(),
    }
    return render(request, "roles/official.html", context)

