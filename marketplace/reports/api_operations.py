"""Stats API of fulfilment and registrations (issue #8), for officials; reads only the facts.

`GET stats/fulfilment/` and `GET stats/registrations/` take `from`, `to` (inclusive dates, the
last 30 days by default, at most 3 years), `group_by` (day, week, month or ward) and `ward`. An
official without city-wide scope sees the households of their wards only; a `ward` outside them is
a 404, like any object out of scope (`api_sales.scoped_wards`, as the sales endpoints); bad
dates or `group_by` are 400 field errors. Other roles get a 403, anonymous callers a 401 (docs/api.md).
"""

from datetime import date

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from farms.api.serializers import ErrorSerializer
from marketplace.accounts.models import Role
from marketplace.accounts.permissions import role_permission

from .api_sales import date_range, scoped_wards
from .operations import GROUPS, fulfilment_report, registrations_report

OFFICIAL = role_permission(Role.OFFICIAL)


def _with_from(fields: dict) -> dict:
    """Serializer fields with `from` first (a Python keyword, so not a class attribute)."""
    return {"from": serializers.DateField(), **fields}


class _ReportSerializer(serializers.Serializer):
    def get_fields(self):
        return _with_from(super().get_fields())


class FulfilmentFiguresSerializer(serializers.Serializer):
    parts = serializers.IntegerField(help_text="Parts (household orders) that reached a household.")
    delivered = serializers.IntegerField()
    fulfilment_rate = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text="Percent of the parts delivered."
    )
    lead_time_hours = serializers.DecimalField(
        max_digits=12,
        decimal_places=1,
        allow_null=True,
        help_text="Average hours from the order being placed to a part's delivery.",
    )
    late = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Parts with at least one failed delivery attempt.")
    returned = serializers.IntegerField()
    cancelled = serializers.IntegerField(help_text="Cancelled or rejected after reaching the household.")
    unanswered = serializers.IntegerField(help_text="Of the cancelled: the household did not answer in time.")


class FulfilmentRowSerializer(FulfilmentFiguresSerializer):
    key = serializers.CharField(
        help_text="A date (YYYY-MM-DD; a week's Monday, a month's first day) or a ward code."
    )
    label = serializers.CharField()


class FulfilmentReportSerializer(_ReportSerializer):
    to = serializers.DateField()
    group_by = serializers.CharField(help_text="day, week, month or ward")
    totals = FulfilmentFiguresSerializer()
    rows = FulfilmentRowSerializer(many=True)


class RegistrationFiguresSerializer(serializers.Serializer):
    new = serializers.IntegerField(help_text="Households registered.")
    verified = serializers.IntegerField(help_text="Households approved by an official.")
    rejected = serializers.IntegerField(help_text="Households rejected by an official.")
    backlog = serializers.IntegerField(
        help_text="Households waiting for verification at the end of the period."
    )


class RegistrationRowSerializer(RegistrationFiguresSerializer):
    key = serializers.CharField()
    label = serializers.CharField()


class RegistrationReportSerializer(_ReportSerializer):
    to = serializers.DateField()
    group_by = serializers.CharField(help_text="day, week, month or ward")
    totals = RegistrationFiguresSerializer()
    rows = RegistrationRowSerializer(many=True)


PARAMETERS = [
    OpenApiParameter("from", date, description="First day (inclusive); default: 29 days before `to`."),
    OpenApiParameter("to", date, description="Last day (inclusive); default: today (Cần Thơ time)."),
    OpenApiParameter("group_by", str, enum=GROUPS, description="One row per day, week, month or ward."),
    OpenApiParameter("ward", str, description="A ward code (5 digits) within the official's scope."),
]


def report_params(request) -> dict:
    """Parse `from`, `to`, `group_by` and `ward` as the sales endpoints do: 400 field errors, 404 ward."""
    first, last = date_range(request)
    group_by = request.query_params.get("group_by") or "day"
    if group_by not in GROUPS:
        raise ValidationError({"group_by": [_("Choose day, week, month or ward.")]})
    return {"first": first, "last": last, "wards": scoped_wards(request), "group_by": group_by}


def _answer(scope: dict, report: dict) -> Response:
    return Response(
        {
            "from": scope["first"].isoformat(),
            "to": scope["last"].isoformat(),
            "group_by": scope["group_by"],
            **report,
        }
    )


_ERRORS = {
    400: OpenApiResponse(description="Field errors: `from`, `to` or `group_by`."),
    403: OpenApiResponse(ErrorSerializer, description="Only officials read statistics."),
    404: OpenApiResponse(ErrorSerializer, description="A ward outside your scope, or no such ward."),
}


class _StatsView(APIView):
    """Parse the scope, answer one report of the facts."""

    permission_classes = [OFFICIAL]
    report = None

    def get(self, request):
        scope = report_params(request)
        return _answer(scope, self.report(**scope))


@extend_schema_view(
    get=extend_schema(parameters=PARAMETERS, responses={200: FulfilmentReportSerializer, **_ERRORS})
)
class FulfilmentStatsView(_StatsView):
    """Fulfilment of the households' parts in the official's wards, by the day orders were placed."""

    report = staticmethod(fulfilment_report)


@extend_schema_view(
    get=extend_schema(parameters=PARAMETERS, responses={200: RegistrationReportSerializer, **_ERRORS})
)
class RegistrationStatsView(_StatsView):
    """Households registered, verified and rejected in the official's wards, and the verification backlog."""

    report = staticmethod(registrations_report)
