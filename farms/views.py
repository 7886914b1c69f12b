"""Farm pages (placeholder until the pages are built)."""

from django.shortcuts import render

from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role


@role_required(Role.FARMER)
def dashboard(request):
    return render(request, "roles/farmer.html")
