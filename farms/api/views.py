"""Farms API: households and their verification, listings, photos, certificates, lots, trace.

Every object is fetched through a selector that takes the user, so someone else's object
is a 404; a role that may never use an endpoint gets a 403; anonymous callers of a
protected endpoint get a 401 (docs/api.md).
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.accounts.models import Role
from marketplace.accounts.permissions import role_permission
from marketplace.api import validated
from marketplace.errors import Conflict

from .. import services
from ..downloads import certification_file_response
from ..models import Farm
from ..search import AVAILABILITY, CERTIFICATIONS, ORDERINGS, catalogue_params, product_catalogue
from ..selectors import (
    category_tree,
    certifications_valid_on,
    certifications_visible_to,
    farm_can_see_private,
    farm_decisions,
    farm_of,
    farm_verification_queue,
    farms_for_official,
    farms_verified,
    farms_visible_to,
    farms_with_badges,
    farms_with_decisions,
    lot_for_trace,
    lots_of,
    product_images_of,
    products_of,
    products_visible_to,
)
from ..units import Unit
from . import serializers as s

FARMER = role_permission(Role.FARMER)
OFFICIAL = role_permission(Role.OFFICIAL)
FARMER_OR_OFFICIAL = role_permission(Role.FARMER, Role.OFFICIAL)

ERROR = s.ErrorSerializer
NOT_FOUND = OpenApiResponse(ERROR, description="Not yours, out of your scope, or no such object.")
# The owner and officials in scope get the private shape, everyone else the public one. A private
# answer holds every public field, so it fits both shapes: anyOf (a oneOf would refuse it).
FARM_DETAIL = {"anyOf": [{"$ref": "#/components/schemas/FarmPrivate"}, {"$ref": "#/components/schemas/Farm"}]}


class PerMethodPermissions:
    """Choose permission classes by HTTP method (`permissions_by_method`); HEAD follows GET."""

    permissions_by_method: dict[str, list] = {}

    def get_permissions(self):
        method = "GET" if self.request.method in ("HEAD", "OPTIONS") else self.request.method
        classes = self.permissions_by_method.get(method, self.permission_classes)
        return [permission() for permission in classes]


def _get_or_404(queryset, **lookup):
    """Return the one object of `queryset` matching `lookup`, or answer a plain 404."""
    found = queryset.filter(**lookup).first()
    if found is None:
        raise NotFound()
    return found


def _own_farm(request) -> Farm:
    """Return the requesting farmer's household, or answer 409 `no_farm`."""
    farm = farm_of(request.user)
    if farm is None:
        raise Conflict(
            _("Register your household first: listings, certificates and lots belong to it."),
            code="no_farm",
        )
    return farm


def _owned_farm(request, pk: int) -> Farm:
    farm = farm_of(request.user)
    if farm is None or farm.pk != pk:
        raise NotFound()
    return farm


def _farm_response(request, farm: Farm, *, status_code: int = status.HTTP_200_OK) -> Response:
    """Answer the private shape to the owner and officials in scope, the public one to others."""
    context = {"request": request}
    if farm_can_see_private(farm=farm, user=request.user):
        context["decisions"] = farm_decisions(farm=farm)
        data = s.FarmPrivateSerializer(farm, context=context).data
    else:
        data = s.FarmSerializer(farm, context=context).data
    return Response(data, status=status_code)


# --- Households and their verification ------------------------------------------------


@method_decorator(sensitive_post_parameters("cccd"), name="dispatch")
class FarmListView(PerMethodPermissions, generics.ListAPIView):
    """Verified households (anyone); a farmer registers their own household."""

    permissions_by_method = {"GET": [AllowAny], "POST": [FARMER]}
    serializer_class = s.FarmSerializer

    def get_queryset(self):
        return farms_with_badges(farms_verified())

    @extend_schema(
        request=s.FarmInputSerializer,
        responses={
            201: s.FarmPrivateSerializer,
            409: OpenApiResponse(
                ERROR,
                description="The account has a household (`farm_exists`) or "
                "the CCCD is registered (`cccd_in_use`).",
            ),
        },
    )
    def post(self, request):
        data = validated(s.FarmInputSerializer, request)
        farm = services.farm_register(owner=request.user, **data)
        return _farm_response(request, farm, status_code=status.HTTP_201_CREATED)


@method_decorator(sensitive_post_parameters("cccd"), name="dispatch")
class FarmDetailView(PerMethodPermissions, APIView):
    """A household; its owner and officials in scope also see contact details and the audit trail."""

    permissions_by_method = {"GET": [AllowAny], "PATCH": [FARMER]}

    @extend_schema(responses={200: FARM_DETAIL, 404: NOT_FOUND})
    def get(self, request, pk: int):
        farm = _get_or_404(farms_with_badges(farms_visible_to(user=request.user)), pk=pk)
        return _farm_response(request, farm)

    @extend_schema(
        request=s.FarmInputSerializer,
        responses={200: s.FarmPrivateSerializer, 404: NOT_FOUND, 409: ERROR},
        description="Editing the name, representative, ward, address or CCCD of a verified "
        "household sends it back to review (status `pending`).",
    )
    def patch(self, request, pk: int):
        farm = _owned_farm(request, pk)
        data = validated(s.FarmInputSerializer, request, partial=True)
        farm = services.farm_update(farm=farm, by=request.user, **data)
        return _farm_response(request, farm)


class MyFarmView(APIView):
    """The farmer's own household (404 before registration)."""

    permission_classes = [FARMER]

    @extend_schema(responses={200: s.FarmPrivateSerializer, 404: NOT_FOUND})
    def get(self, request):
        farm = farm_of(request.user)
        if farm is None:
            raise NotFound()
        return _farm_response(request, farm)


class FarmQueueView(generics.ListAPIView):
    """Pending households in the official's wards, oldest submission first."""

    permission_classes = [OFFICIAL]
    serializer_class = s.FarmPrivateSerializer

    def get_queryset(self):
        return farms_with_decisions(farms_with_badges(farm_verification_queue(user=self.request.user)))


class _OfficialFarmActionView(APIView):
    """An official's decision on a household in scope: parse, call one service, answer the farm."""

    permission_classes = [OFFICIAL]
    input_serializer = s.ReasonSerializer
    service = None

    def post(self, request, pk: int):
        farm = _get_or_404(farms_for_official(user=request.user), pk=pk)
        data = validated(self.input_serializer, request)
        farm = self.service(farm=farm, by=request.user, **data)
        return _farm_response(request, farm)


_DECISION_SCHEMA = {"responses": {200: s.FarmPrivateSerializer, 404: NOT_FOUND, 409: ERROR}}


@extend_schema_view(post=extend_schema(request=s.FarmDecideSerializer, **_DECISION_SCHEMA))
class FarmVerifyView(_OfficialFarmActionView):
    """Approve or reject a pending household (official in scope); `reason` is required to reject."""

    input_serializer = s.FarmDecideSerializer
    service = staticmethod(services.farm_decide)


@extend_schema_view(post=extend_schema(request=s.ReasonSerializer, **_DECISION_SCHEMA))
class FarmSuspendView(_OfficialFarmActionView):
    """Suspend a verified household: its listings leave the catalogue at once. `reason` is required."""

    service = staticmethod(services.farm_suspend)


@extend_schema_view(post=extend_schema(request=s.ReasonSerializer, **_DECISION_SCHEMA))
class FarmReinstateView(_OfficialFarmActionView):
    """Reinstate a suspended household: its active listings are back in the catalogue."""

    service = staticmethod(services.farm_reinstate)


class FarmResubmitView(APIView):
    """Send a corrected, rejected household back to the verification queue (owner)."""

    permission_classes = [FARMER]

    @extend_schema(request=None, responses={200: s.FarmPrivateSerializer, 404: NOT_FOUND, 409: ERROR})
    def post(self, request, pk: int):
        farm = _owned_farm(request, pk)
        farm = services.farm_resubmit(farm=farm, by=request.user)
        return _farm_response(request, farm)


# --- Reference lists ----------------------------------------------------------------


class CategoryListView(APIView):
    """The produce category tree, names in the request's language (a plain array)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=s.CategorySerializer(many=True))
    def get(self, request):
        return Response(s.CategorySerializer(category_tree(), many=True).data)


class UnitListView(APIView):
    """Units produce is sold in; `fractional` units take 3 decimals, the others whole numbers."""

    permission_classes = [AllowAny]

    @extend_schema(responses=s.UnitSerializer(many=True))
    def get(self, request):
        return Response(s.UnitSerializer(list(Unit), many=True).data)


# --- Listings -----------------------------------------------------------------------


# Catalogue search, filters and sorting (farms/search.py), shared with the storefront pages.
CATALOGUE_PARAMETERS = [
    OpenApiParameter(
        "q",
        description="Search words, with or without accents: name, description, category, household, "
        "ward and its former names. Every word must match; on PostgreSQL a query matching nothing "
        "falls back to close names (typos).",
    ),
    OpenApiParameter("category", int, description="A category id; includes its sub-categories."),
    OpenApiParameter(
        "ward",
        many=True,
        explode=True,
        description="A ward code or a current or former ward, commune or district name "
        "(`31153`, `Ô Môn`, `phong dien`); repeat for several (any of them).",
    ),
    OpenApiParameter(
        "certification",
        many=True,
        explode=True,
        enum=list(CERTIFICATIONS),
        description="Households with this badge today; repeat for several (any of them). "
        "`ocop4` means OCOP with 4 stars or more.",
    ),
    OpenApiParameter("min_price", int, description="Lowest price per unit, in đồng."),
    OpenApiParameter("max_price", int, description="Highest price per unit, in đồng."),
    OpenApiParameter(
        "in_stock", bool, description="Only listings with at least their minimum order in stock."
    ),
    OpenApiParameter(
        "available",
        enum=list(AVAILABILITY),
        description="`now`: on sale today; `preorder`: harvest or sale still to come.",
    ),
    OpenApiParameter(
        "ordering",
        enum=list(ORDERINGS),
        description="`relevance` (the default with `q`), `price`, `-price` or `newest` (the default).",
    ),
]


class ProductListView(PerMethodPermissions, generics.ListAPIView):
    """Listings on sale now (anyone), searched, filtered and sorted; a farmer adds a listing."""

    permissions_by_method = {"GET": [AllowAny], "POST": [FARMER]}
    serializer_class = s.ProductSerializer

    def get_queryset(self):
        return product_catalogue(**catalogue_params(self.request.query_params))

    @extend_schema(parameters=CATALOGUE_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.ProductInputSerializer,
        responses={
            201: s.ProductSerializer,
            409: OpenApiResponse(
                ERROR,
                description="No household yet (`no_farm`), or publishing before it is verified "
                "(`farm_not_verified`).",
            ),
        },
    )
    def post(self, request):
        farm = _own_farm(request)
        data = validated(s.ProductInputSerializer, request)
        product = services.product_create(farm=farm, **data)
        product = products_of(user=request.user).get(pk=product.pk)
        return Response(
            s.ProductSerializer(product, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ProductDetailView(PerMethodPermissions, APIView):
    """A listing: public while on sale; its owner sees and edits it in any status."""

    permissions_by_method = {"GET": [AllowAny], "PATCH": [FARMER], "DELETE": [FARMER]}

    @extend_schema(responses={200: s.ProductSerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        product = _get_or_404(products_visible_to(user=request.user), pk=pk)
        return Response(s.ProductSerializer(product, context={"request": request}).data)

    @extend_schema(
        request=s.ProductInputSerializer,
        responses={200: s.ProductSerializer, 404: NOT_FOUND, 409: ERROR},
    )
    def patch(self, request, pk: int):
        product = _get_or_404(products_of(user=request.user), pk=pk)
        data = validated(s.ProductInputSerializer, request, partial=True)
        product = services.product_update(product=product, **data)
        product = products_of(user=request.user).get(pk=product.pk)
        return Response(s.ProductSerializer(product, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: NOT_FOUND}, description="Archive the listing for good.")
    def delete(self, request, pk: int):
        product = _get_or_404(products_of(user=request.user), pk=pk)
        services.product_archive(product=product)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyProductListView(generics.ListAPIView):
    """The farmer's own listings, every status."""

    permission_classes = [FARMER]
    serializer_class = s.ProductSerializer

    def get_queryset(self):
        return products_of(user=self.request.user)


class FarmProductListView(generics.ListAPIView):
    """A verified household's listings on sale, with the catalogue's search and filters."""

    permission_classes = [AllowAny]
    serializer_class = s.ProductSerializer

    def get_queryset(self):
        farm = _get_or_404(farms_verified(), pk=self.kwargs["pk"])
        return product_catalogue(farm=farm, **catalogue_params(self.request.query_params))

    @extend_schema(
        parameters=CATALOGUE_PARAMETERS, responses={200: s.ProductSerializer(many=True), 404: NOT_FOUND}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ProductImageListView(APIView):
    """Add a photo to one of your listings (at most 8); its sizes are made in the background."""

    permission_classes = [FARMER]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=s.ImageUploadSerializer,
        responses={
            201: s.ProductImageSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(ERROR, description="The listing has 8 photos (`too_many_images`)."),
        },
    )
    def post(self, request, pk: int):
        product = _get_or_404(products_of(user=request.user), pk=pk)
        data = validated(s.ImageUploadSerializer, request)
        try:
            image = services.product_image_add(product=product, upload=data["image"])
        except DjangoValidationError as exc:
            # The upload checks judge the file as a whole: their messages belong to `image`.
            raise ValidationError({"image": exc.messages}) from None
        image.refresh_from_db()  # the worker may already have made the sizes
        return Response(
            s.ProductImageSerializer(image, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ProductImageDetailView(APIView):
    permission_classes = [FARMER]

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request, pk: int, image_id: int):
        image = _get_or_404(product_images_of(user=request.user), pk=image_id, product_id=pk)
        services.product_image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProductImageOrderView(APIView):
    """Put the listing's photos in this order (every id once); the first is the cover."""

    permission_classes = [FARMER]

    @extend_schema(
        request=s.ImageOrderSerializer,
        responses={200: s.ProductImageSerializer(many=True), 404: NOT_FOUND},
    )
    def post(self, request, pk: int):
        product = _get_or_404(products_of(user=request.user), pk=pk)
        data = validated(s.ImageOrderSerializer, request)
        images = services.product_images_reorder(product=product, ids=data["ids"])
        return Response(s.ProductImageSerializer(images, many=True, context={"request": request}).data)


# --- Certificates -------------------------------------------------------------------


class CertificationListView(PerMethodPermissions, generics.ListAPIView):
    """Certificates: a farmer's own, or those in an official's wards (soonest expiry first)."""

    permissions_by_method = {"GET": [FARMER_OR_OFFICIAL], "POST": [FARMER]}
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = s.CertificationSerializer

    def get_queryset(self):
        query = s.CertificationFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        certifications = certifications_visible_to(user=self.request.user)
        if "status" in query.validated_data:
            certifications = certifications.filter(status=query.validated_data["status"])
        return certifications

    @extend_schema(
        parameters=[
            OpenApiParameter("status", enum=[value for value, _label in s.CertificationStatus.choices])
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=s.CertificationInputSerializer,
        responses={201: s.CertificationSerializer, 409: ERROR},
    )
    def post(self, request):
        farm = _own_farm(request)
        data = validated(s.CertificationInputSerializer, request)
        certification = services.certification_create(farm=farm, **data)
        return Response(
            s.CertificationSerializer(certification, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class CertificationDetailView(PerMethodPermissions, APIView):
    permissions_by_method = {"GET": [FARMER_OR_OFFICIAL], "DELETE": [FARMER]}

    @extend_schema(responses={200: s.CertificationSerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        certification = _get_or_404(certifications_visible_to(user=request.user), pk=pk)
        return Response(s.CertificationSerializer(certification, context={"request": request}).data)

    @extend_schema(
        responses={
            204: None,
            404: NOT_FOUND,
            409: OpenApiResponse(ERROR, description="Verified or expired certificates stay on record."),
        },
        description="Withdraw a certificate while it is pending or was rejected.",
    )
    def delete(self, request, pk: int):
        certification = _get_or_404(certifications_visible_to(user=request.user), pk=pk)
        services.certification_delete(certification=certification)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CertificationDocumentView(APIView):
    """Download the certificate's file (its owner and officials in scope only)."""

    permission_classes = [FARMER_OR_OFFICIAL]

    @extend_schema(
        responses={
            # Certificates are stored as a cleaned JPEG or as the PDF sent (farms.images).
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="A cleaned image."),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF sent."),
            404: NOT_FOUND,
        }
    )
    def get(self, request, pk: int):
        certification = _get_or_404(certifications_visible_to(user=request.user), pk=pk)
        return certification_file_response(certification)


class CertificationVerifyView(APIView):
    """Verify or reject a pending certificate (official in scope); `reason` is required to reject."""

    permission_classes = [OFFICIAL]

    @extend_schema(
        request=s.CertificationDecideSerializer,
        responses={200: s.CertificationSerializer, 404: NOT_FOUND, 409: ERROR},
    )
    def post(self, request, pk: int):
        certification = _get_or_404(certifications_visible_to(user=request.user), pk=pk)
        data = validated(s.CertificationDecideSerializer, request)
        certification = services.certification_decide(certification=certification, by=request.user, **data)
        return Response(s.CertificationSerializer(certification, context={"request": request}).data)


# --- Harvest lots and trace ---------------------------------------------------------


class LotListView(generics.ListAPIView):
    """The farmer's harvest lots, latest harvest first; each has a public trace code and QR label."""

    permission_classes = [FARMER]
    serializer_class = s.LotSerializer

    def get_queryset(self):
        return lots_of(user=self.request.user)

    @extend_schema(request=s.LotInputSerializer, responses={201: s.LotSerializer, 409: ERROR})
    def post(self, request):
        farm = _own_farm(request)
        data = validated(s.LotInputSerializer, request, context={"request": request})
        lot = services.lot_create(farm=farm, **data)
        return Response(
            s.LotSerializer(lot, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class LotDetailView(APIView):
    permission_classes = [FARMER]

    @extend_schema(responses={200: s.LotSerializer, 404: NOT_FOUND})
    def get(self, request, pk: int):
        lot = _get_or_404(lots_of(user=request.user), pk=pk)
        return Response(s.LotSerializer(lot, context={"request": request}).data)

    @extend_schema(request=s.LotInputSerializer, responses={200: s.LotSerializer, 404: NOT_FOUND})
    def patch(self, request, pk: int):
        lot = _get_or_404(lots_of(user=request.user), pk=pk)
        data = validated(s.LotInputSerializer, request, partial=True, context={"request": request})
        lot = services.lot_update(lot=lot, **data)
        return Response(s.LotSerializer(lot, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request, pk: int):
        lot = _get_or_404(lots_of(user=request.user), pk=pk)
        services.lot_delete(lot=lot)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TraceView(APIView):
    """A harvest lot's public trace: product, household and ward, and certificates valid that day."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.TraceSerializer, 404: NOT_FOUND})
    def get(self, request, code: str):
        lot = lot_for_trace(code=code)
        if lot is None:
            raise NotFound()
        context = {
            "request": request,
            "certifications": certifications_valid_on(farm=lot.farm, day=lot.harvest_date),
        }
        return Response(s.TraceSerializer(lot, context=context).data)
