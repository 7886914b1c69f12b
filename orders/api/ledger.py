"""Settlement API (issue #7): a household's ledger by month, and staff recording payouts.

`GET ledger/?month=YYYY-MM` answers the household's own statement (staff name one with
`?farm=`); `POST payouts/` (staff) books a bank transfer to a household, at most its balance.
Another household's ledger is a 404, never a 403 that confirms it exists.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from farms.models import Farm
from marketplace.accounts.models import Role
from marketplace.accounts.permissions import role_permission
from marketplace.api import validated
from marketplace.api.fields import VisibleIdField

from ..models import LedgerKind
from ..selectors import STATEMENT_YEARS, ledger_farm_for, ledger_statement
from ..services.ledger import farm_balance, payout_record


class LedgerFarmSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class LedgerTotalsSerializer(serializers.Serializer):
    """The money columns, in whole đồng: net = gross − commission − tax."""

    gross = serializers.IntegerField(read_only=True)
    commission = serializers.IntegerField(read_only=True)
    tax = serializers.IntegerField(read_only=True)
    net = serializers.IntegerField(read_only=True)


class LedgerEntrySerializer(LedgerTotalsSerializer):
    """One entry. A sale or refund carries gross, commission, tax and net = gross − commission − tax
    (a refund's are negative); a payout only net (negative) and its bank transfer `reference`."""

    id = serializers.IntegerField(read_only=True)
    at = serializers.DateTimeField(read_only=True)
    kind = serializers.ChoiceField(choices=LedgerKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    farm_order = serializers.IntegerField(source="farm_order_id", read_only=True, allow_null=True)
    order_number = serializers.CharField(read_only=True, allow_null=True)
    reference = serializers.CharField(read_only=True)
    note = serializers.CharField(read_only=True)


class LedgerStatementSerializer(serializers.Serializer):
    """A month: `closing_balance` = `opening_balance` + `totals.net`, to the đồng."""

    farm = LedgerFarmSerializer(read_only=True)
    month = serializers.CharField(source="month_label", read_only=True, help_text=gettext_lazy("YYYY-MM"))
    opening_balance = serializers.IntegerField(read_only=True)
    closing_balance = serializers.IntegerField(read_only=True)
    totals = LedgerTotalsSerializer(read_only=True)
    results = LedgerEntrySerializer(source="entries", many=True, read_only=True)


def _payable_farms(user):
    """Staff pay any household (the view admits staff only); an unknown id is a 404, like `?farm=`."""
    return Farm.objects.all() if getattr(user, "role", None) == Role.STAFF else Farm.objects.none()


class PayoutInputSerializer(serializers.Serializer):
    """Types only; `payout_record` judges the amount (more than 0, at most the balance) and reference."""

    farm = VisibleIdField(visible=lambda *, user: _payable_farms(user))
    amount = serializers.IntegerField()
    reference = serializers.CharField(allow_blank=True, trim_whitespace=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PayoutSerializer(LedgerEntrySerializer):
    """The payout's entry, its household and the household's balance after it."""

    farm = serializers.IntegerField(source="farm_id", read_only=True)
    amount = serializers.SerializerMethodField()
    balance = serializers.SerializerMethodField()

    def get_amount(self, entry) -> int:
        return -entry.net

    def get_balance(self, entry) -> int:
        return self.context["balance"]


class LedgerErrorSerializer(serializers.Serializer):
    """`{detail, code}`; `over_balance` adds the household's `balance`."""

    detail = serializers.CharField()
    code = serializers.CharField()
    balance = serializers.IntegerField(required=False)


NOT_FOUND = OpenApiResponse(
    LedgerErrorSerializer, description="No such household, or not yours (households read only their own)."
)
INVALID = OpenApiResponse(
    description="Field messages: `month` (not YYYY-MM), `farm` (staff must name a household; not an id)."
)
FORBIDDEN = OpenApiResponse(LedgerErrorSerializer, description="Your role may not use this endpoint.")


def _month(value: str | None) -> tuple[int, int]:
    if not value:
        today = timezone.localdate()
        return today.year, today.month
    year, _dash, month = value.partition("-")
    if not (
        len(year) == 4
        and year.isdigit()
        and int(year) in STATEMENT_YEARS
        and len(month) == 2
        and month.isdigit()
        and 1 <= int(month) <= 12
    ):
        raise ValidationError({"month": [_("Enter a month as YYYY-MM, for example 2026-11.")]})
    return int(year), int(month)


def _farm_id(request) -> int | None:
    value = request.query_params.get("farm")
    if value is None:
        if request.user.role == Role.STAFF:
            raise ValidationError({"farm": [_("Name the household: ?farm=<id>.")]})
        return None
    if not (value.isascii() and value.isdigit()):
        raise ValidationError({"farm": [_("Enter a household id.")]})
    return int(value)


class LedgerView(APIView):
    """A household's ledger for a month: opening balance, entries, totals and closing balance."""

    permission_classes = [IsAuthenticated, role_permission(Role.FARMER, Role.STAFF)]

    @extend_schema(
        parameters=[
            OpenApiParameter("month", str, description="YYYY-MM in Cần Thơ time; this month when left out."),
            OpenApiParameter(
                "farm", int, description="Staff: the household (required). Households: their own."
            ),
        ],
        responses={200: LedgerStatementSerializer, 400: INVALID, 403: FORBIDDEN, 404: NOT_FOUND},
        description="Entries oldest first. The balance is what the marketplace owes the household: "
        "delivered lines minus refunds, commission and tax withheld, minus payouts.",
    )
    def get(self, request):
        year, month = _month(request.query_params.get("month"))
        farm = ledger_farm_for(user=request.user, farm_id=_farm_id(request))
        if farm is None:
            raise NotFound()
        statement = ledger_statement(farm=farm, year=year, month=month)
        return Response(LedgerStatementSerializer(statement).data)


class PayoutView(APIView):
    """Staff: record a bank transfer to a household (at most what it is owed)."""

    permission_classes = [IsAuthenticated, role_permission(Role.STAFF)]

    @extend_schema(
        request=PayoutInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                required=False,
                description="Send the same key again (after a timeout) and the payout is recorded once; "
                "the answer is the payout already recorded.",
            )
        ],
        responses={
            201: PayoutSerializer,
            400: OpenApiResponse(
                description="Field messages: `farm`, `amount` (a whole number of đồng, more than 0), "
                "`reference` (required, the bank transfer's), `idempotency_key` (too long)."
            ),
            403: FORBIDDEN,
            409: OpenApiResponse(
                LedgerErrorSerializer,
                description="`over_balance` (more than the household is owed, with `balance`); "
                "`idempotency_key_reused` (the key booked a different payout). Nothing is recorded.",
            ),
        },
    )
    def post(self, request):
        data = validated(PayoutInputSerializer, request)
        key = request.headers.get("Idempotency-Key") or None
        entry = payout_record(**data, by=request.user, idempotency_key=key)
        context = {"balance": farm_balance(data["farm"])}
        entry.order_number = None
        return Response(PayoutSerializer(entry, context=context).data, status=status.HTTP_201_CREATED)
