"""Site-wide pages: health, privacy, and each role's start page (the home is the storefront's)."""

import sys

from django.db import InterfaceError, OperationalError, connection
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


#: PostgreSQL's codes for a connection that is gone: class 08 (connection exception) and the
#: server shutting down or terminating the backend (57P01-57P03).
LOST_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")


def connection_lost(error) -> bool:
    """Whether `error` means the database connection was lost, not that a query was wrong.

    A deadlock, a timeout or a missing table is also an OperationalError: those stay 500s (bugs
    to look at), however transient some of them are.
    """
    if isinstance(error, InterfaceError):  # the connection was already closed
        return True
    if not isinstance(error, OperationalError):
        return False
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    if sqlstate:
        return sqlstate.startswith(LOST_CONNECTION_STATES)
    # No code: the client lost the server before an answer ("server closed the connection").
    return connection.vendor == "postgresql" and (connection.connection is None or not connection.is_usable())


def server_error(request):
    """Answer an uncaught error: 503 when the database connection was lost, else a 500.

    Django calls this inside its `except` block, so the error is at hand whether a view or a
    middleware raised it. A dropped connection (a restart, a failover, a backend terminated) is
    not a bug, and the same request works a moment later (Django opens a new connection for the
    next one). Whether the change was kept cannot be known for sure (the connection may have
    dropped after the commit), so the answer asks to check before trying again: in the API's
    JSON under /api/, on a page that needs no database elsewhere. It is still logged as an error.
    """
    error = sys.exc_info()[1]
    if not connection_lost(error):
        if request.path_info.startswith("/api/"):
            body = {"detail": gettext("Something went wrong on our side."), "code": "server_error"}
            return JsonResponse(body, status=500)
        return defaults.server_error(request)
    if request.path_info.startswith("/api/"):
        body = {
            "detail": gettext(
                "The service is briefly unavailable. Try again in a moment; if you were placing an "
                "order, check your orders first."
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

