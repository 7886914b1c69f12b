"""Pages for problems after delivery (issue #7): the buyer reports a line on the order page, the
household answers at /farmer/problems/. The same services as the API; a refusal is shown on the
page beside what was typed (a photo must be chosen again: browsers never keep a file input).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from marketplace.money import format_vnd

from .forms import ProblemDeclineForm, ProblemReportForm, ProblemResolveForm
from .models import OrderLine, ProblemStatus
from .selectors import orders_of_buyer
from .selectors_problems import problems_answerable_by, problems_of_household
from .services import problems as service

PAGE_SIZE = 20
farmer_only = role_required(Role.FARMER)


def _int(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() else None


def _report_form(*args, line_id) -> ProblemReportForm:
    # One form per line on the page: ids must not repeat.
    return ProblemReportForm(*args, initial={"line": line_id}, auto_id=f"id_problem{line_id}_%s")


def problem_context(request, order, parts) -> None:
    """Give each line of a delivered part its reports and, within the window, a report form.

    Reads the order's prefetched status changes, parts, lines and problems: no query per line.
    A form posted back with errors (`request.problem_form`) replaces its line's empty one.
    """
    bound = getattr(request, "problem_form", None)
    bound_line = _int(bound.data.get("line")) if bound is not None else None
    now = timezone.now()
    changes = list(order.status_changes.all())
    for part in parts:
        part.report_until = service.report_until(part, changes)
        reportable = part.reportable = part.report_until is not None and now <= part.report_until
        problems = list(part.problems.all())
        for line in part.lines.all():
            line.reports = [p for p in problems if p.line_id == line.pk]
            waiting = any(p.status == ProblemStatus.OPEN for p in line.reports)
            if bound is not None and line.pk == bound_line:
                line.problem_form = bound
            elif reportable and not waiting:
                line.problem_form = _report_form(line_id=line.pk)
            else:
                line.problem_form = None


@login_required
@require_POST
def problem_report(request, number: str):
    """The buyer reports a problem with a delivered line; errors come back on the order page."""
    from . import views

    order = orders_of_buyer(user=request.user).filter(number=number).first()
    if order is None:
        raise Http404
    line_id = _int(request.POST.get("line"))
    if line_id is None or not OrderLine.objects.filter(pk=line_id, farm_order__order=order).exists():
        messages.error(request, _("Choose a line of this order."))
        return redirect("orders:detail", number=order.number)
    form = _report_form(request.POST, request.FILES, line_id=line_id)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            service.problem_report(
                order=order,
                line_id=line_id,
                by=request.user,
                kind=data["kind"],
                quantity=data["quantity"],
                description=data["description"],
                photo=data["photo"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
            status = 409
        else:
            messages.success(request, _("Thank you. The household has been told and will answer soon."))
            return redirect("orders:detail", number=order.number)
    request.problem_form = form
    response = views.order_detail(request, number)
    response.status_code = status
    return response


@farmer_only
def farm_problems(request, *, forms=None, status=200):
    """The household's reports: those waiting for an answer first, each with refund and decline forms."""
    page = Paginator(problems_of_household(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    forms = forms or {}
    for problem in page.object_list:
        if problem.status == ProblemStatus.OPEN:
            bound = forms.get(problem.pk, {})
            problem.resolve_form = bound.get("resolve") or ProblemResolveForm(auto_id=f"id_r{problem.pk}_%s")
            problem.decline_form = bound.get("decline") or ProblemDeclineForm(auto_id=f"id_d{problem.pk}_%s")
    context = {"page": page, "report_hours": settings.PROBLEM_REPORT_HOURS}
    return render(request, "orders/farm_problems.html", context, status=status)


def _answerable(request, pk: int):
    problem = problems_answerable_by(user=request.user).filter(pk=pk).first()
    if problem is None:
        raise Http404
    return problem


def _answered(request, problem, form, step: str, act) -> object:
    """Call the service with a valid form; on a refusal show the list again with the form as typed."""
    status = 400
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        except Conflict as exc:
            form.add_error(None, str(exc.message))
            status = 409
        except PermissionDenied:
            raise Http404 from None
        else:
            return redirect("orders:farm_problems")
    return farm_problems(request, forms={problem.pk: {step: form}}, status=status)


@farmer_only
@require_POST
def farm_problem_resolve(request, pk: int):
    problem = _answerable(request, pk)
    form = ProblemResolveForm(request.POST, auto_id=f"id_r{problem.pk}_%s")

    def act(data):
        service.problem_resolve(
            problem=problem, by=request.user, refund_amount=data["refund_amount"], answer=data["answer"]
        )
        messages.success(
            request,
            _("Refund of %(amount)s recorded for order %(number)s; the buyer has been told.")
            % {"amount": format_vnd(data["refund_amount"]), "number": problem.farm_order.order.number},
        )

    return _answered(request, problem, form, "resolve", act)


@farmer_only
@require_POST
def farm_problem_decline(request, pk: int):
    problem = _answerable(request, pk)
    form = ProblemDeclineForm(request.POST, auto_id=f"id_d{problem.pk}_%s")

    def act(data):
        service.problem_decline(problem=problem, by=request.user, answer=data["answer"])
        messages.success(
            request,
            _("Report on order %(number)s declined; the buyer has been told.")
            % {"number": problem.farm_order.order.number},
        )

    return _answered(request, problem, form, "decline", act)
