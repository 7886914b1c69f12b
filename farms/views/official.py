"""Officials' pages: the household verification queue, a household's file, the certificate queue.

Households and certificates are fetched through the official's scope, so others are a 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role
from marketplace.accounts.phone import format_phone
from marketplace.errors import Conflict

from .. import services
from ..forms import DecisionForm
from ..models import CertificationStatus, FarmAction, FarmStatus
from ..selectors import (
    certifications_visible_to,
    farm_decisions,
    farm_verification_queue,
    farms_for_official,
)
from ..services.farms import REASON_REQUIRED, TRANSITIONS
from .common import error_text

official_only = role_required(Role.OFFICIAL)
PAGE_SIZE = 50
TABS = (FarmStatus.PENDING, FarmStatus.VERIFIED, FarmStatus.REJECTED, FarmStatus.SUSPENDED)
# The page's action words, the state machine's actions they stand for, and their buttons.
FARM_ACTIONS = {
    "approve": FarmAction.APPROVED,
    "reject": FarmAction.REJECTED,
    "suspend": FarmAction.SUSPENDED,
    "reinstate": FarmAction.REINSTATED,
}
BUTTONS = {
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "suspend": gettext_lazy("Suspend"),
    "reinstate": gettext_lazy("Reinstate"),
}


@official_only
def farm_queue(request):
    """Households in scope: pending ones oldest first, or one of the other statuses."""
    status = request.GET.get("status", FarmStatus.PENDING)
    if status not in TABS:
        status = FarmStatus.PENDING
    if status == FarmStatus.PENDING:
        farms = farm_verification_queue(user=request.user)
    else:
        farms = (
            farms_for_official(user=request.user).filter(status=status).order_by("-status_changed_at", "-id")
        )
    counts = dict(
        farms_for_official(user=request.user)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    tabs = [(tab, tab.label, counts.get(tab, 0)) for tab in TABS]
    page = Paginator(farms, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "farms/official/farm_queue.html", {"page": page, "status": status, "tabs": tabs})


@official_only
def farm_detail(request, pk: int):
    farm = get_object_or_404(farms_for_official(user=request.user), pk=pk)
    actions = [
        {"name": name, "label": BUTTONS[name], "reason_required": action in REASON_REQUIRED}
        for name, action in FARM_ACTIONS.items()
        if farm.status in TRANSITIONS[action][0]
    ]
    context = {
        "farm": farm,
        "phone": format_phone(farm.phone) if farm.phone else "",
        "actions": actions,
        "decisions": farm_decisions(farm=farm),
        "certifications": certifications_visible_to(user=request.user).filter(farm=farm),
    }
    return render(request, "farms/official/farm_detail.html", context)


@official_only
@require_POST
def farm_decide(request, pk: int, action: str):
    """Approve, reject, suspend or reinstate a household in scope; the service records the audit."""
    if action not in FARM_ACTIONS:
        raise Http404
    farm = get_object_or_404(farms_for_official(user=request.user), pk=pk)
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        if action in ("approve", "reject"):
            services.farm_decide(farm=farm, by=request.user, decision=action, reason=reason)
        elif action == "suspend":
            services.farm_suspend(farm=farm, by=request.user, reason=reason)
        else:
            services.farm_reinstate(farm=farm, by=request.user, reason=reason)
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request, _("%(farm)s: %(action)s.") % {"farm": farm.name, "action": FARM_ACTIONS[action].label}
        )
    return redirect("farms:official_farm", pk=farm.pk)


@official_only
def certification_queue(request):
    """Certificates in scope waiting for a decision, oldest first."""
    pending = (
        certifications_visible_to(user=request.user)
        .filter(status=CertificationStatus.PENDING)
        .order_by("created_at", "id")
    )
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "farms/official/certification_queue.html", {"page": page})


@official_only
@require_POST
def certification_decide(request, pk: int, decision: str):
    if decision not in ("approve", "reject"):
        raise Http404
    certification = get_object_or_404(certifications_visible_to(user=request.user), pk=pk)
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        certification = services.certification_decide(
            certification=certification, by=request.user, decision=decision, reason=reason
        )
    except (ValidationError, Conflict) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(
            request,
            _("%(badge)s %(number)s of %(farm)s: %(status)s.")
            % {
                "badge": certification.badge,
                "number": certification.number,
                "farm": certification.farm.name,
                "status": certification.get_status_display().lower(),
            },
        )
    return redirect("farms:official_certifications")
