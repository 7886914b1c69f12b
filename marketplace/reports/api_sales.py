"""Officials' sales statistics API (issue #8): sales grouped by a key, and the farm-gate price watch.

Officials only (other roles 403); a ward-scoped official reaches only their wards (another
ward, or a product of a household outside them: 404). Answers read the rollups, never orders.
"""

from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from farms.models import Category
from marketplace.accounts.models import Role
from marketplace.accounts.permissions import role_permission
from orders.models import PaymentMethod

from .selectors import (
    GROUPS,
    Filters,
    category_with_children,
    price_watch,
    product_in_scope,
    sales_report,
    wards_of,
)

OFFICIAL = role_permission(Role.OFFICIAL)
DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366


#: Statistics cover these years: enough for the books, and far from datetime's limits (the
#: period before a range, a week back for the price watch).
YEARS = range(2000, 3000)


def _date(request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: [_("Enter a date as YYYY-MM-DD.")]}) from None
    if value.year not in YEARS:
        raise ValidationError({name: [_("Choose a date from 2000 to 2999.")]})
    return value


def date_range(request) -> tuple[date, date]:
    """`from` and `to` (inclusive; the last 30 days by default), at most three years apart."""
    last = _date(request, "to") or timezone.localdate()
    first = _date(request, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationError({"from": [_("Choose a start on or before the end.")]})
    if (last - first).days >= MAX_DAYS:
        raise ValidationError({"from": [_("Choose at most three years at a time.")]})
    return first, last


def _int(request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ValidationError({name: [_("Enter an id.")]})
    return int(raw)


def scoped_wards(request) -> frozenset[str] | None:
    """The wards the answer covers: the official's, narrowed to `?ward=` (not theirs or unknown: 404)."""
    from marketplace.geo.models import Ward

    mine = wards_of(request.user)
    wanted = request.query_params.get("ward")
    if not wanted:
        return mine
    if not (len(wanted) == 5 and wanted.isascii() and wanted.isdigit()) or (
        mine is not None and wanted not in mine
    ):
        raise NotFound()
    if mine is None and not Ward.objects.filter(pk=wanted).exists():
        raise NotFound()
    return frozenset([wanted])


def sales_filters(request, *, product: int | None = None) -> Filters:
    first, last = date_range(request)
    category = _int(request, "category")
    if category is not None and not Category.objects.filter(pk=category).exists():
        raise ValidationError({"category": [_("Choose a category from the list.")]})
    certification = request.query_params.get("certification") or None
    if certification not in (None, "certified", "uncertified"):
        raise ValidationError({"certification": [_("Choose certified or uncertified.")]})
    method = request.query_params.get("payment_method") or None
    if method is not None and method not in PaymentMethod.values:
        raise ValidationError({"payment_method": [_("Choose a payment method from the list.")]})
    return Filters(
        first=first,
        last=last,
        wards=scoped_wards(request),
        categories=None if category is None else category_with_children(category),
        certified=None if certification is None else certification == "certified",
        payment_method=method,
        product=product,
    )


COMMON = [
    OpenApiParameter(
        "from", OpenApiTypes.DATE, description="First day (inclusive); 30 days before `to` by default."
    ),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive); today by default."),
    OpenApiParameter("ward", str, description="A ward code within your scope."),
]


class SalesStatsView(APIView):
    """Sales of the households in your wards: totals and one row per `group_by` key.

    Money in đồng; `gross` without delivery fees and cancelled lines; `buyers` below 3 is "<3".
    """

    permission_classes = [IsAuthenticated, OFFICIAL]

    @extend_schema(
        parameters=[
            *COMMON,
            OpenApiParameter("group_by", str, enum=list(GROUPS), description="day by default."),
            OpenApiParameter("category", int, description="A category (with the categories under it)."),
            OpenApiParameter("certification", str, enum=["certified", "uncertified"]),
            OpenApiParameter("payment_method", str, enum=PaymentMethod.values),
        ],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="{from, to, group_by, totals, rows}"),
            400: OpenApiResponse(description="Field messages."),
            404: OpenApiResponse(description="A ward outside your scope."),
        },
    )
    def get(self, request):
        group_by = request.query_params.get("group_by") or "day"
        if group_by not in GROUPS:
            raise ValidationError(
                {"group_by": [_("Choose day, week, month, category, ward, household or product.")]}
            )
        filters = sales_filters(request)
        report = sales_report(filters=filters, group_by=group_by)
        return Response(
            {
                "from": filters.first.isoformat(),
                "to": filters.last.isoformat(),
                "group_by": group_by,
                **report,
            }
        )


class PriceStatsView(APIView):
    """A product's farm-gate price per kg by day: average (sales-weighted), lowest, highest, kg sold."""

    permission_classes = [IsAuthenticated, OFFICIAL]

    @extend_schema(
        parameters=[*COMMON, OpenApiParameter("product", int, required=True)],
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="{product, from, to, rows}"),
            400: OpenApiResponse(description="Field messages."),
            404: OpenApiResponse(description="No such product in your wards."),
        },
    )
    def get(self, request):
        product_id = _int(request, "product")
        if product_id is None:
            raise ValidationError({"product": [_("Choose a product.")]})
        product = product_in_scope(product_id, wards_of(request.user))
        if product is None:
            raise NotFound()
        filters = sales_filters(request, product=product_id)
        return Response(
            {
                "product": {"id": product.pk, "name": product.name, "unit": product.unit},
                "from": filters.first.isoformat(),
                "to": filters.last.isoformat(),
                "rows": price_watch(filters=filters),
            }
        )


# --- Exports (CSV, XLSX): at once for a short range, by a task for a long one ----------------


def _export_job_answer(request, job) -> dict:
    from django.urls import reverse

    return {
        "id": job.pk,
        "kind": job.kind,
        "file": job.file_format,
        "status": job.status,
        "status_label": job.get_status_display(),
        "progress": job.progress,
        "url": request.build_absolute_uri(reverse("stats-export-file", args=[job.pk]))
        if job.status == "done"
        else None,
    }


# The file as `file` asks (exports.CONTENT_TYPES, not imported here: it loads openpyxl).
FILE_RESPONSES = {
    (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="CSV, UTF-8 with a BOM."),
    (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
        OpenApiTypes.BINARY, description="XLSX."
    ),
}


class StatsExportView(APIView):
    """Download a table as CSV or XLSX (`kind` sales or prices, `file` csv or xlsx, the same filters).

    A range longer than EXPORT_SYNC_DAYS answers 202 with a job: follow it at
    `stats/exports/{id}/`; its `url` gives the file when ready.
    """

    permission_classes = [IsAuthenticated, OFFICIAL]

    @extend_schema(
        parameters=[
            *COMMON,
            OpenApiParameter("kind", str, enum=["sales", "prices"]),
            OpenApiParameter("file", str, enum=["csv", "xlsx"]),
            OpenApiParameter("group_by", str, enum=list(GROUPS)),
            OpenApiParameter("product", int, description="For kind=prices."),
        ],
        responses={
            **FILE_RESPONSES,
            202: OpenApiResponse(OpenApiTypes.OBJECT, description="A job preparing the file."),
            400: OpenApiResponse(description="Field messages."),
            404: OpenApiResponse(description="A ward outside your scope; for prices, a product outside it."),
        },
    )
    def get(self, request):
        from .exports import FORMATS, KINDS, export_start, params_from_filters
        from .models import ExportJob

        kind = request.query_params.get("kind") or "sales"
        file_format = request.query_params.get("file") or "xlsx"
        if kind not in KINDS:
            raise ValidationError({"kind": [_("Choose sales or prices.")]})
        if file_format not in FORMATS:
            raise ValidationError({"file": [_("Choose csv or xlsx.")]})
        group_by = request.query_params.get("group_by") or "day"
        if group_by not in GROUPS:
            raise ValidationError(
                {"group_by": [_("Choose day, week, month, category, ward, household or product.")]}
            )
        product = None
        if kind == "prices":
            product = _int(request, "product")
            if product_in_scope(product, wards_of(request.user)) is None:
                raise NotFound()
        filters = sales_filters(request, product=product)
        params = params_from_filters(filters, group_by=group_by)
        answer = export_start(
            user=request.user, kind=kind, file_format=file_format, params=params, filters=filters
        )
        if not isinstance(answer, ExportJob):
            return answer
        job = answer
        return Response(_export_job_answer(request, job), status=202)


def _own_job(request, pk: int):
    from .models import ExportJob

    job = ExportJob.objects.filter(pk=pk, user=request.user).first()
    if job is None:
        raise NotFound()
    return job


class StatsExportJobView(APIView):
    """How far a long export is; `url` gives the file once `status` is done."""

    permission_classes = [IsAuthenticated, OFFICIAL]

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT), 404: OpenApiResponse()})
    def get(self, request, pk: int):
        return Response(_export_job_answer(request, _own_job(request, pk)))


class StatsExportFileView(APIView):
    """The prepared file of your export (others' exports: 404)."""

    permission_classes = [IsAuthenticated, OFFICIAL]

    @extend_schema(
        responses={
            **FILE_RESPONSES,
            404: OpenApiResponse(),
        }
    )
    def get(self, request, pk: int):
        from marketplace.storage import private_file_response

        from .exports import CONTENT_TYPES

        job = _own_job(request, pk)
        if job.status != "done" or not job.file:
            raise NotFound()
        return private_file_response(
            job.file,
            filename=job.file.name.rsplit("/", 1)[-1],
            content_type=CONTENT_TYPES[job.file_format],
            inline=False,
        )
