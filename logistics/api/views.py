"""Couriers' API: their runs (and runs they may claim), the shipments on them, one step at a time.

A courier reaches only its own runs and their shipments, and sees the unclaimed runs it may
claim without the names, phones and addresses on them; staff see everything. Anyone else's run
or shipment is a 404.
"""

from datetime import date

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.accounts.models import Role
from marketplace.accounts.permissions import role_permission
from marketplace.api import validated

from ..models import Run, ShipmentStatus
from ..runs import run_claim, runs_to_claim, runs_visible_to, sees_all
from ..selectors import run_stops, shipments_of_courier
from ..services import shipment_step
from . import serializers as s

COURIER_OR_STAFF = role_permission(Role.COURIER, Role.STAFF)
FINISHED = [ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.CANCELLED]
NOT_FOUND = OpenApiResponse(description="Not a run or shipment of yours.")
CONFLICT = OpenApiResponse(
    description="`invalid_transition` (the step does not follow the shipment's state), `invalid_cash`, "
    "`run_taken` or `not_your_zone`."
)


def _runs(request):
    return runs_visible_to(request.user).annotate(
        shipment_count=Count("shipments", distinct=True),
        done_count=Count("shipments", filter=Q(shipments__status__in=FINISHED), distinct=True),
    )


def _run(request, pk: int) -> Run:
    run = _runs(request).filter(pk=pk).first()
    if run is None:
        raise NotFound()
    return run


def _is_mine(request, run: Run) -> bool:
    return run.courier_id == request.user.pk or sees_all(request.user)


def _run_response(request, run: Run) -> Response:
    run.pickups, run.dropoffs = run_stops(run)
    context = {"request": request, "private": not _is_mine(request, run)}
    return Response(s.RunDetailSerializer(run, context=context).data)


class RunListView(generics.ListAPIView):
    """A courier's runs and the runs it may claim (staff: all), newest day first; `?date=` one day."""

    serializer_class = s.RunSerializer
    permission_classes = [IsAuthenticated, COURIER_OR_STAFF]

    @extend_schema(parameters=[OpenApiParameter("date", date, description="Only the runs of this day.")])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = _runs(self.request).order_by("-date", "zone__position", "number")
        wanted = self.request.query_params.get("date")
        if wanted:
            try:
                qs = qs.filter(date=date.fromisoformat(wanted))
            except ValueError:
                raise ValidationError({"date": [_("Enter a date as YYYY-MM-DD.")]}) from None
        return qs


class RunDetailView(APIView):
    permission_classes = [IsAuthenticated, COURIER_OR_STAFF]

    @extend_schema(responses={200: s.RunDetailSerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        return _run_response(request, _run(request, pk))


class RunClaimView(APIView):
    """Take an unassigned run of your zone (a zone no courier works is open to all)."""

    permission_classes = [IsAuthenticated, role_permission(Role.COURIER)]

    @extend_schema(request=None, responses={200: s.RunDetailSerializer, 404: NOT_FOUND, 409: CONFLICT})
    def post(self, request, pk: int):
        run = runs_to_claim(request.user).filter(pk=pk).first()
        if run is None:
            raise NotFound()
        run_claim(run=run, courier=request.user)
        return _run_response(request, _run(request, pk))


def _shipment(request, pk: int):
    shipment = shipments_of_courier(request.user).filter(pk=pk).first()
    if shipment is None:
        raise NotFound()
    return shipment


def _shipment_response(request, pk: int, *, status_code=status.HTTP_200_OK) -> Response:
    shipment = _shipment(request, pk)
    return Response(
        s.ShipmentDetailSerializer(shipment, context={"request": request}).data, status=status_code
    )


class ShipmentDetailView(APIView):
    permission_classes = [IsAuthenticated, COURIER_OR_STAFF]

    @extend_schema(responses={200: s.ShipmentDetailSerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        return _shipment_response(request, pk)


class ShipmentEventView(APIView):
    """Record a step of a shipment on your run: picked up, on the way, delivered (with the cash
    collected), a failed attempt (tried once more, then returned), returned."""

    permission_classes = [IsAuthenticated, COURIER_OR_STAFF]

    @extend_schema(
        request=s.ShipmentEventInputSerializer,
        responses={
            201: s.ShipmentDetailSerializer,
            403: OpenApiResponse(description="Staff do not record steps."),
            404: NOT_FOUND,
            409: CONFLICT,
        },
    )
    def post(self, request, pk: int):
        shipment = _shipment(request, pk)
        if shipment.run is None or shipment.run.courier_id != request.user.pk:
            raise PermissionDenied(_("Only the courier of this shipment's run records its steps."))
        data = validated(s.ShipmentEventInputSerializer, request)
        shipment_step(
            shipment=shipment,
            type=data["type"],
            by=request.user,
            cash_collected=data.get("cash_collected"),
            note=data.get("note", ""),
        )
        return _shipment_response(request, pk, status_code=status.HTTP_201_CREATED)
