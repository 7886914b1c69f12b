"""Problems after delivery (issue #7): the buyer reports a delivered line, the household or staff
refund it or decline. A buyer sees the problems of their own orders, a household those on its
parts, staff every one; anything else is a 404. The buyer may read but not answer (403).
"""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from farms.api.serializers import QuantityField
from marketplace.api import validated
from marketplace.storage import private_file_response

from ..models import Problem, ProblemKind, ProblemStatus
from ..selectors import orders_of_buyer
from ..selectors_problems import problems_visible_to
from ..services import problems as service
from .serializers import FarmRefSerializer, OrderErrorSerializer

# --- Shapes -------------------------------------------------------------------------------------


class ProblemLineSerializer(serializers.Serializer):
    """The line reported, as delivered: `quantity` is what was weighed when packed, else ordered."""

    id = serializers.IntegerField(read_only=True)
    product_name = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)
    quantity = serializers.SerializerMethodField()
    line_total = serializers.IntegerField(read_only=True)

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=3))
    def get_quantity(self, line):
        return serializers.DecimalField(max_digits=12, decimal_places=3).to_representation(
            service.delivered_quantity(line)
        )


class ProblemSerializer(serializers.Serializer):
    """A problem report and its answer. No buyer's name, phone or address: households read it too."""

    id = serializers.IntegerField(read_only=True)
    order = serializers.IntegerField(source="farm_order.order_id", read_only=True)
    order_number = serializers.CharField(source="farm_order.order.number", read_only=True)
    farm_order = serializers.IntegerField(source="farm_order_id", read_only=True)
    farm = FarmRefSerializer(source="farm_order.farm", read_only=True)
    line = ProblemLineSerializer(read_only=True)
    kind = serializers.ChoiceField(choices=ProblemKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    description = serializers.CharField(read_only=True)
    photo = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=ProblemStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    refund_amount = serializers.IntegerField(
        read_only=True, help_text=gettext_lazy("Refunded (đồng); 0 unless resolved.")
    )
    answer = serializers.CharField(read_only=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    can_answer = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_photo(self, problem) -> str | None:
        if not problem.photo:
            return None
        request = self.context.get("request")
        url = reverse("problem-photo", args=[problem.pk])
        return request.build_absolute_uri(url) if request is not None else url

    def get_can_answer(self, problem) -> bool:
        """Whether the caller may resolve or decline it now (the household or staff, while open)."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return problem.status == ProblemStatus.OPEN and service.can_answer(problem, user)


class ProblemInputSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text=gettext_lazy("The id of a delivered line of this order."))
    kind = serializers.CharField(help_text=gettext_lazy("missing, damaged, not_fresh, wrong_item or other."))
    quantity = QuantityField(
        help_text=gettext_lazy("How much of the line is affected: at most what was delivered.")
    )
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
    photo = serializers.FileField(
        required=False,
        allow_null=True,
        default=None,
        help_text=gettext_lazy("A JPEG, PNG or WebP photo of at most 10 MB."),
    )


class ResolveInputSerializer(serializers.Serializer):
    refund_amount = serializers.IntegerField(
        help_text=gettext_lazy(
            "Amount to refund in đồng: from 1 to what the line cost, less refunds already made on it."
        )
    )
    answer = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class DeclineInputSerializer(serializers.Serializer):
    # Optional here so a missing answer gets the service's message, as a blank one does.
    answer = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text=gettext_lazy("Why, told to the buyer."),
    )


# --- Views --------------------------------------------------------------------------------------

ERROR = OrderErrorSerializer
NOT_FOUND = OpenApiResponse(ERROR, description="Not a problem you may see.")
INVALID = OpenApiResponse(description="Field messages.")
ANSWERED = OpenApiResponse(ERROR, description="`problem_answered`: resolved or declined already.")
ANSWER_ANSWERS = {
    200: ProblemSerializer,
    400: INVALID,
    403: OpenApiResponse(ERROR, description="The buyer reads the report but cannot answer it."),
    404: NOT_FOUND,
    409: ANSWERED,
}


def _problem(request, pk: int) -> Problem:
    problem = problems_visible_to(user=request.user).filter(pk=pk).first()
    if problem is None:
        raise NotFound()
    return problem


def _answerable(request, pk: int) -> Problem:
    """A problem the caller sees (else 404) and may answer (else 403: the buyer reads, never answers)."""
    problem = _problem(request, pk)
    if not service.can_answer(problem, request.user):
        raise PermissionDenied(_("Only the household that sold it, or staff, can answer this report."))
    return problem


def _answer(request, pk: int, *, status_code=status.HTTP_200_OK) -> Response:
    return Response(
        ProblemSerializer(_problem(request, pk), context={"request": request}).data, status=status_code
    )


class OrderProblemListView(APIView):
    """Report a problem with a delivered line of one of your orders (JSON, or multipart with a photo)."""

    @extend_schema(
        request={"application/json": ProblemInputSerializer, "multipart/form-data": ProblemInputSerializer},
        responses={
            201: ProblemSerializer,
            400: INVALID,
            404: OpenApiResponse(ERROR, description="Not one of your orders."),
            409: OpenApiResponse(
                ERROR,
                description="`not_delivered`, `report_window_closed` (PROBLEM_REPORT_HOURS after delivery), "
                "or `problem_open` (a report on the line waits for an answer); with `line`.",
            ),
        },
    )
    def post(self, request, pk: int):
        order = orders_of_buyer(user=request.user).filter(pk=pk).first()
        if order is None:
            raise NotFound()
        data = validated(ProblemInputSerializer, request)
        problem = service.problem_report(
            order=order,
            line_id=data["line"],
            by=request.user,
            kind=data["kind"],
            quantity=data["quantity"],
            description=data["description"],
            photo=data["photo"],
        )
        return _answer(request, problem.pk, status_code=status.HTTP_201_CREATED)


class ProblemListView(generics.ListAPIView):
    """Problems you may see, newest first: of your orders, on your household's parts (staff: all)."""

    serializer_class = ProblemSerializer

    @extend_schema(parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=ProblemStatus.values)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = problems_visible_to(user=self.request.user)
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in ProblemStatus.values:
                raise ValidationError({"status": [_("Choose a status from the list.")]})
            qs = qs.filter(status=wanted)
        return qs


class ProblemDetailView(APIView):
    @extend_schema(responses={200: ProblemSerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        return _answer(request, pk)


class ProblemPhotoView(APIView):
    """The buyer's photo of a problem, for those who may see the problem (the file is private)."""

    @extend_schema(
        responses={
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The cleaned photo."),
            404: NOT_FOUND,
        }
    )
    def get(self, request, pk: int):
        problem = problems_visible_to(user=request.user).filter(pk=pk).first()
        if problem is None or not problem.photo:
            raise NotFound()
        return private_file_response(
            problem.photo, filename=f"problem-{problem.pk}.jpg", content_type="image/jpeg", inline=True
        )


class ProblemResolveView(APIView):
    """Refund part or all of the line (the household that sold it, or staff); tells the buyer."""

    @extend_schema(request=ResolveInputSerializer, responses=ANSWER_ANSWERS)
    def post(self, request, pk: int):
        problem = _answerable(request, pk)
        data = validated(ResolveInputSerializer, request)
        service.problem_resolve(
            problem=problem, by=request.user, refund_amount=data["refund_amount"], answer=data["answer"]
        )
        return _answer(request, pk)


class ProblemDeclineView(APIView):
    """Decline the report with a reason told to the buyer (the household that sold it, or staff)."""

    @extend_schema(request=DeclineInputSerializer, responses=ANSWER_ANSWERS)
    def post(self, request, pk: int):
        problem = _answerable(request, pk)
        data = validated(DeclineInputSerializer, request)
        service.problem_decline(problem=problem, by=request.user, answer=data["answer"])
        return _answer(request, pk)
