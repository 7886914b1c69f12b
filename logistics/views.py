"""Couriers' pages: today's runs, a run's stops with one tap per step, a printable sheet, a CSV."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.accounts.decorators import role_required
from marketplace.accounts.models import Role
from marketplace.errors import Conflict
from marketplace.spreadsheets import csv_download, text_cell

from .models import Run, ShipmentStatus
from .runs import run_claim, runs_to_claim, runs_visible_to
from .selectors import courier_cash, run_stops, shipments_of_courier
from .services import shipment_step, steps_allowed

courier_only = role_required(Role.COURIER)


#: The steps in the order the work goes: picked up, on the way, delivered; then what went wrong.
WORK_ORDER = (
    ShipmentStatus.PICKED_UP,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.FAILED_ATTEMPT,
    ShipmentStatus.RETURNED,
)
#: Steps for when a delivery did not go through: set apart from the ones that move it on.
EXCEPTIONS = frozenset({ShipmentStatus.FAILED_ATTEMPT, ShipmentStatus.RETURNED})


def _next_steps(shipment) -> list[ShipmentStatus]:
    """What a courier may tap next, in the work's order (cancelling is the sender's, not theirs)."""
    allowed = steps_allowed(shipment)
    return [step for step in WORK_ORDER if step in allowed]


def _day(request) -> date:
    try:
        return date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return timezone.localdate()


@courier_only
def courier_home(request):
    """The courier's runs of a day (today by default), runs it may claim, and the cash it holds."""
    day = _day(request)
    runs = list(
        runs_visible_to(request.user)
        .filter(date=day)
        .annotate(shipment_count=Count("shipments"))
        .order_by("zone__position", "number")
    )
    return render(
        request,
        "logistics/courier_home.html",
        {
            "day": day,
            "mine": [run for run in runs if run.courier_id == request.user.pk],
            "claimable": [run for run in runs if run.courier_id is None],
            "cash": courier_cash(request.user),
        },
    )


def _own_run(request, pk: int) -> Run:
    run = Run.objects.select_related("zone").filter(pk=pk, courier=request.user).first()
    if run is None:
        raise Http404
    return run


@courier_only
def run_detail(request, pk: int):
    """A run on the phone: pickups in route order, then drop-offs, each with its next steps."""
    run = _own_run(request, pk)
    pickups, dropoffs = run_stops(run)
    for shipment in dropoffs:
        steps = [step for step in _next_steps(shipment) if step != ShipmentStatus.PICKED_UP]
        shipment.next_steps = [step for step in steps if step not in EXCEPTIONS]
        shipment.exception_steps = [step for step in steps if step in EXCEPTIONS]
    return render(request, "logistics/run.html", {"run": run, "pickups": pickups, "dropoffs": dropoffs})


@courier_only
def run_print(request, pk: int):
    """A run on paper (or as CSV with `?format=csv`), to tick by hand."""
    run = _own_run(request, pk)
    pickups, dropoffs = run_stops(run)
    if request.GET.get("format") == "csv":
        response, writer = csv_download(f"run-{run.date}-{run.pk}.csv")
        writer.writerow(
            [
                _("Stop"),
                "#",
                _("Order"),
                _("Household"),
                _("Ward"),
                _("Address"),
                _("Name"),
                _("Phone"),
                "kg",
                _("Cash to collect"),
            ]
        )
        for kind, side, stops in ((_("Pickup"), "pickup", pickups), (_("Delivery"), "dropoff", dropoffs)):
            for n, shipment in enumerate(stops, 1):
                writer.writerow(
                    [
                        kind,
                        n,
                        text_cell(shipment.label),
                        text_cell(shipment.pickup_name),
                        getattr(shipment, f"{side}_ward").name,
                        text_cell(getattr(shipment, f"{side}_address")),
                        text_cell(getattr(shipment, f"{side}_name")),
                        getattr(shipment, f"{side}_phone"),  # normalised +84…, never typed text
                        shipment.weight_kg,
                        shipment.cash_to_collect if side == "dropoff" else "",
                    ]
                )
        return response
    return render(request, "logistics/run_print.html", {"run": run, "pickups": pickups, "dropoffs": dropoffs})


@courier_only
def run_claim_page(request, pk: int):
    run = runs_to_claim(request.user).filter(pk=pk).first()
    if run is None or request.method != "POST":
        raise Http404
    try:
        run_claim(run=run, courier=request.user)
    except Conflict as exc:
        messages.error(request, str(exc.message))
        return redirect("courier-home")
    messages.success(request, _("The run is yours."))
    return redirect("logistics:run", pk=run.pk)


@courier_only
@require_POST
def shipment_step_page(request, pk: int):
    """One tap: record a step of a shipment on the courier's own run."""
    shipment = shipments_of_courier(request.user).filter(pk=pk, run__courier=request.user).first()
    if shipment is None:
        raise Http404
    step = request.POST.get("type", "")
    cash = None
    if step == ShipmentStatus.DELIVERED and shipment.cash_to_collect:
        raw = request.POST.get("cash_collected", "").replace(".", "").replace(",", "").strip()
        if not raw.isdigit():
            messages.error(request, _("Enter the cash collected in đồng, digits only."))
            return redirect("logistics:run", pk=shipment.run_id)
        cash = int(raw)
    if step not in _next_steps(shipment):
        messages.error(request, _("That step does not follow the shipment's state; the page is refreshed."))
        return redirect("logistics:run", pk=shipment.run_id)
    try:
        shipment_step(
            shipment=shipment,
            type=step,
            by=request.user,
            cash_collected=cash,
            note=request.POST.get("note", "")[:300],
        )
    except Conflict as exc:
        messages.error(request, str(exc.message))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Recorded: %(step)s.") % {"step": ShipmentStatus(step).label})
    return redirect(reverse("logistics:run", args=[shipment.run_id]) + f"#s{shipment.pk}")
