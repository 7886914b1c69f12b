"""Helpers shared by the farms pages."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from ..selectors import farm_of


def own_farm_or_redirect(request):
    """Return (farm, None), or (None, a redirect to the registration form) when there is none."""
    farm = farm_of(request.user)
    if farm is None:
        messages.info(request, _("Register your household first."))
        return None, redirect("farms:farm_edit")
    return farm, None


def error_text(exc) -> str:
    """Return a service's ValidationError or Conflict as one line for a page message."""
    return " ".join(str(message) for message in getattr(exc, "messages", [exc]))
