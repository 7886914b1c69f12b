"""Officials' downloads from the dashboard, and the monthly report by email (issue #8, item 3).

`/official/stats/export/` takes the dashboard's own filters: a short range downloads at once, a
long one is prepared by a task and followed on `/official/stats/exports/<id>/` (refreshing
itself) until the file is ready. Only the official who asked reaches a job or its file.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.exceptions import APIException

from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role

from .exports import FORMATS, export_start, params_from_filters
from .models import ExportJob
from .selectors import GROUPS, wards_of
from .services import report_subscription_set
from .views import Refused, _districts, _filters

official_only = role_required(Role.OFFICIAL)


@official_only
def export(request):
    file_format = request.GET.get("file") or "xlsx"
    group_by = request.GET.get("group_by") or "day"
    if file_format not in FORMATS or group_by not in GROUPS:
        messages.error(request, _("Choose CSV or XLSX and a grouping from the page."))
        return redirect("reports:dashboard")
    mine = wards_of(request.user)
    try:
        _preset, filters = _filters(request, mine, _districts(mine))
    except (APIException, Refused):
        messages.error(request, _("Fix the filters on the page first, then download."))
        return redirect("reports:dashboard")
    answer = export_start(
        user=request.user,
        kind="sales",
        file_format=file_format,
        params=params_from_filters(filters, group_by=group_by),
        filters=filters,
    )
    if isinstance(answer, ExportJob):
        return redirect("reports:export_job", pk=answer.pk)
    return answer


@official_only
def export_job(request, pk: int):
    job = ExportJob.objects.filter(pk=pk, user=request.user).first()
    if job is None:
        raise Http404
    return render(request, "reports/export_job.html", {"job": job})


@official_only
@require_POST
def subscription(request):
    """Subscribe to (or stop) the monthly XLSX report by email."""
    try:
        subscribed = report_subscription_set(user=request.user, monthly=request.POST.get("monthly") == "on")
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("You will receive the report of each month by email on the 1st.")
            if subscribed
            else _("You will no longer receive the monthly report."),
        )
    return redirect("reports:dashboard")
