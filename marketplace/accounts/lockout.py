"""django-axes hooks: lock by normalised phone, answer lockouts per surface."""
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .phone import normalize_phone_or_none


def lockout_username(request, credentials) -> str:
    """Return the key failures are counted under: the E.164 phone when it parses."""
    raw = ""
    if credentials:
        raw = credentials.get("username") or credentials.get("phone") or ""
    elif request is not None and request.method == "POST":
        raw = request.POST.get("username") or request.POST.get("phone") or ""
    raw = str(raw).strip()
    return normalize_phone_or_none(raw) or raw


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return _(
        "Too many wrong passwords for this phone number. The account is locked for "
        "%(minutes)d minutes; try again later or reset your password."
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """Answer 429 in the API's error shape, or the login page with the reason."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": lockout_message(), "code": "account_locked"}, status=429
        )
    else:
        from .forms import LoginForm

        # An unbound form: binding it would authenticate (and count a failure) again.
        form = LoginForm(request, initial={"username": request.POST.get("username", "")})
        response = render(
            request,
            "accounts/login.html",
            {"form": form, "locked_message": lockout_message()},
            status=429,
        )
    response["Retry-After"] = retry_after
    return response
