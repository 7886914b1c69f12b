"""Site-wide pages: health, privacy, and each role's start page (the home is the storefront's)."""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext
from django.views import defaults
from django.views.decorators.cache import never_cache
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
    return defaults.page_not_found(request, exception)


#: Seconds a client is asked to wait before trying again when the database is briefly gone.
RETRY_AFTER_SECONDS = 5


def server_error(request):
    """Answer an uncaught error: 503 when the database connection was lost, else the 500 page.

    Django calls this inside its `except` block, so the error is at hand whether a view or a
    middleware raised it. A dropped connection (a restart, a failover, a backend terminated) is
    not a bug: the transaction rolled back, nothing was saved, and the same request will work
    in a moment (Django opens a new connection for the next one). The answer says so, in the
    API's JSON under /api/, on a page that needs no database elsewhere.
    """
    error = sys.exc_info()[1]
    if not isinstance(error, (OperationalError, InterfaceError)):
        if request.path_info.startswith("/api/"):
            body = {"detail": gettext("Something went wrong on our side."), "code": "server_error"}
            return JsonResponse(body, status=500)
        return defaults.server_error(request)
    if request.path_info.startswith("/api/"):
        body = {
            "detail": gettext(
                "The service is briefly unavailable: nothing was saved. Try again in a moment."
            ),
            "code": "service_unavailable",
        }
        response = JsonResponse(body, status=503)
    else:
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


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

