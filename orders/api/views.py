"""Cart, checkout and orders API. Any signed-in user has a cart and orders of their own; a
household (farmer) sees its own parts of orders. Anyone else's object is a 404.

Cart: the signed-in user's own cart (any role). Someone else's line is a 404.

Every answer is the whole cart, priced now; answering it records its prices as seen, so a
price change is flagged once (`price_changed`, `previous_price`).
"""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.accounts.models import Role
from marketplace.accounts.permissions import role_permission
from marketplace.api import validated
from marketplace.throttling import THROTTLED_RESPONSE, RateLimit

from .. import services
from ..models import Cart, CartLine, FarmOrderStatus
from ..selectors import cart_lines_of, farm_orders_of_household, order_of_buyer, orders_of_buyer
from . import serializers as s

NOT_FOUND = OpenApiResponse(s.CartErrorSerializer, description="Not a line of your cart.")
CONFLICT = OpenApiResponse(
    s.CartErrorSerializer,
    description="The listing is not on sale now (`product_unavailable`), or the quantity is more "
    "than the stock left (`insufficient_stock`, with `available` and `product`), or the line or the "
    "cart would be over a bound of the market (`line_quantity_limit`, `line_total_limit`, "
    "`line_weight_limit`, `order_total_limit`, `order_weight_limit`, with `limit`; docs/api.md).",
)
INVALID = OpenApiResponse(
    description="Field messages: `product` (no such listing) or `quantity` (not more than 0, more "
    "than 3 decimals, a fraction of a counted unit, below the listing's minimum order)."
)
SEEN = "Answering records the cart's prices as seen: a changed price is flagged once."


def _cart_response(request, cart: Cart, *, status_code: int = status.HTTP_200_OK) -> Response:
    detail = services.cart_show(cart=cart)
    return Response(s.CartSerializer(detail, context={"request": request}).data, status=status_code)


def _own_line(request, pk: int) -> CartLine:
    line = cart_lines_of(user=request.user).filter(pk=pk).first()
    if line is None:
        raise NotFound()
    return line


class CartView(APIView):
    """The user's cart (made on first use)."""

    @extend_schema(responses={200: s.CartSerializer}, description=SEEN)
    def get(self, request):
        return _cart_response(request, services.cart_get_or_create(user=request.user))


class CartItemListView(APIView):
    """Put a listing in the cart; a listing already there adds to its line."""

    @extend_schema(
        request=s.CartItemInputSerializer,
        responses={201: s.CartSerializer, 400: INVALID, 409: CONFLICT},
        description="Answers the whole cart. " + SEEN,
    )
    def post(self, request):
        data = validated(s.CartItemInputSerializer, request)
        cart = services.cart_get_or_create(user=request.user)
        services.cart_add(cart=cart, product=data["product"], quantity=data["quantity"])
        return _cart_response(request, cart, status_code=status.HTTP_201_CREATED)


class CartItemDetailView(APIView):
    """Change the quantity of a line of the user's cart, or remove it."""

    @extend_schema(
        request=s.CartQuantityInputSerializer,
        responses={200: s.CartSerializer, 400: INVALID, 404: NOT_FOUND, 409: CONFLICT},
        description="Answers the whole cart. " + SEEN,
    )
    def patch(self, request, pk: int):
        line = _own_line(request, pk)
        data = validated(s.CartQuantityInputSerializer, request)
        services.cart_line_set_quantity(line=line, quantity=data["quantity"])
        return _cart_response(request, line.cart)

    @extend_schema(
        request=None,
        responses={200: s.CartSerializer, 404: NOT_FOUND},
        description="Answers the whole cart (200, not 204: the new subtotal and version come with it). "
        + SEEN,
    )
    def delete(self, request, pk: int):
        line = _own_line(request, pk)
        services.cart_line_remove(line=line)
        return _cart_response(request, line.cart)


# --- Checkout and orders (issue #5) -------------------------------------------------------

CHECKOUT_CONFLICT = OpenApiResponse(
    s.CheckoutErrorSerializer,
    description="Nothing was taken. `cart_empty`; `cart_changed` (the cart differs from `cart_version`: "
    "`version` is the current one, `lines` name changed lines); `cart_conflict` (`lines` that cannot be "
    "ordered: off sale, a suspended household, too little stock); `cod_limit`, `cod_suspended`; "
    "over a bound of the market: `line_quantity_limit`, `line_total_limit`, `line_weight_limit` (with "
    "`product`), `order_total_limit`, `order_weight_limit`, each with `limit` (docs/api.md, Bounds).",
)
LIMIT_CONFLICT = OpenApiResponse(
    s.CheckoutErrorSerializer,
    description="The cart is over a bound of the market (docs/api.md, Bounds): `line_quantity_limit`, "
    "`line_total_limit`, `line_weight_limit` (with `product`), `order_total_limit`, `order_weight_limit`; "
    "each with `limit`.",
)
ORDER_NOT_FOUND = OpenApiResponse(s.OrderErrorSerializer, description="Not one of your orders.")
FARM_ORDER_NOT_FOUND = OpenApiResponse(
    s.OrderErrorSerializer, description="Not an order of your household (or not yet confirmed)."
)
ORDER_CONFLICT = OpenApiResponse(
    s.OrderErrorSerializer,
    description="`not_cancellable` (a household has accepted), or `invalid_transition` with `status`, `to`.",
)


def _order_response(request, order_pk: int, *, status_code=status.HTTP_200_OK) -> Response:
    order = order_of_buyer(user=request.user, pk=order_pk)
    context = {"request": request}
    return Response(s.OrderSerializer(order, context=context).data, status=status_code)


class CheckoutView(APIView):
    """Preview (GET) or place (POST) an order from the user's own cart."""

    throttle_classes = [RateLimit]  # placing only: reads are never limited
    throttle_scope = "checkout"

    @extend_schema(
        parameters=[
            OpenApiParameter("ward", str, description="A 5-digit ward code: quote its delivery fee.")
        ],
        responses={200: s.CheckoutQuoteSerializer, 400: INVALID, 409: LIMIT_CONFLICT},
    )
    def get(self, request):
        ward = request.query_params.get("ward")
        if ward is not None:
            ward = services.ward_for_code(ward)
            if ward is None:
                raise ValidationError({"ward": [_("Choose a ward or commune from the list.")]})
        quote = services.checkout_quote(buyer=request.user, ward=ward)
        if quote.refusal is not None:
            raise quote.refusal  # over a bound of `marketplace.limits`: 409, like placing it
        return Response(s.CheckoutQuoteSerializer(quote, context={"request": request}).data)

    @extend_schema(
        request=s.CheckoutInputSerializer,
        responses={201: s.OrderSerializer, 400: INVALID, 409: CHECKOUT_CONFLICT, 429: THROTTLED_RESPONSE},
        description="Prices, the delivery fee and totals are computed on the server from the cart; any "
        "price or total in the body is ignored. The cart is emptied.",
    )
    def post(self, request):
        data = validated(s.CheckoutInputSerializer, request)
        placed = services.checkout_place(
            buyer=request.user,
            delivery=data["delivery"],
            payment_method=data["payment_method"],
            note=data["note"],
            delivery_date=data["delivery_date"],
            cart_version=data["cart_version"],
        )
        return _order_response(request, placed.order.pk, status_code=status.HTTP_201_CREATED)


class OrderListView(generics.ListAPIView):
    """The user's own orders, newest first."""

    serializer_class = s.OrderListSerializer

    def get_queryset(self):
        return orders_of_buyer(user=self.request.user)


class OrderDetailView(APIView):
    """One of the user's orders with its households' parts, lines, timeline and payment."""

    @extend_schema(responses={200: s.OrderSerializer, 404: ORDER_NOT_FOUND})
    def get(self, request, pk: int):
        if order_of_buyer(user=request.user, pk=pk) is None:
            raise NotFound()
        return _order_response(request, pk)


class OrderPayView(APIView):
    """Pay an unpaid order again: the payment page still open, or a fresh one (a new attempt)."""

    @extend_schema(
        request=None,
        responses={200: s.OrderSerializer, 404: ORDER_NOT_FOUND, 409: ORDER_CONFLICT},
        description="`payment.url` is the page to send the buyer to; it stays null while the provider "
        "cannot be reached (ask again later). 409 `not_payable` when the order is not waiting for payment.",
    )
    def post(self, request, pk: int):
        order = orders_of_buyer(user=request.user).filter(pk=pk).first()
        if order is None:
            raise NotFound()
        services.order_pay_again(order=order, by=request.user)
        return _order_response(request, pk)


class OrderCancelView(APIView):
    """Cancel the parts no household has accepted yet (or the parts named); stock goes back."""

    @extend_schema(
        request=s.OrderCancelInputSerializer,
        responses={200: s.OrderSerializer, 400: INVALID, 404: ORDER_NOT_FOUND, 409: ORDER_CONFLICT},
    )
    def post(self, request, pk: int):
        order = orders_of_buyer(user=request.user).filter(pk=pk).first()
        if order is None:
            raise NotFound()
        data = validated(s.OrderCancelInputSerializer, request)
        services.order_cancel(
            order=order, by=request.user, reason=data["reason"], farm_order_ids=data.get("farm_orders")
        )
        return _order_response(request, pk)


FARMER = role_permission(Role.FARMER)


class HouseholdOrderListView(generics.ListAPIView):
    """The household's parts of orders (from `new` on), newest first; `?status=`, `?order=` filter."""

    serializer_class = s.HouseholdOrderSerializer
    permission_classes = [IsAuthenticated, FARMER]

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=FarmOrderStatus.values),
            OpenApiParameter("order", int, description="Only the part of this order."),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = farm_orders_of_household(user=self.request.user)
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in FarmOrderStatus.values:
                raise ValidationError({"status": [_("Choose a status from the list.")]})
            qs = qs.filter(status=wanted)
        order = self.request.query_params.get("order")
        if order:
            if not (order.isascii() and order.isdigit() and len(order) <= 18):  # fits a 64-bit id
                raise ValidationError({"order": [_("Enter an order id.")]})
            qs = qs.filter(order_id=int(order))
        return qs


def _own_farm_order(request, pk: int):
    farm_order = farm_orders_of_household(user=request.user).filter(pk=pk).first()
    if farm_order is None:
        raise NotFound()
    return farm_order


def _farm_order_response(request, pk: int) -> Response:
    return Response(
        s.HouseholdOrderSerializer(_own_farm_order(request, pk), context={"request": request}).data
    )


#: What a household's step on its part answers (accept, ready, reject).
HOUSEHOLD_STEP_ANSWERS = {
    200: s.HouseholdOrderSerializer,
    400: INVALID,
    404: FARM_ORDER_NOT_FOUND,
    409: ORDER_CONFLICT,
}


class HouseholdOrderDetailView(APIView):
    permission_classes = [IsAuthenticated, FARMER]

    @extend_schema(responses={200: s.HouseholdOrderSerializer, 404: FARM_ORDER_NOT_FOUND})
    def get(self, request, pk: int):
        return _farm_order_response(request, pk)


class HouseholdOrderAcceptView(APIView):
    """Accept the household's part: the buyer can no longer cancel it."""

    permission_classes = [IsAuthenticated, FARMER]

    @extend_schema(request=None, responses=HOUSEHOLD_STEP_ANSWERS)
    def post(self, request, pk: int):
        services.farm_order_accept(farm_order=_own_farm_order(request, pk), by=request.user)
        return _farm_order_response(request, pk)


class HouseholdOrderReadyView(APIView):
    """The household packed its part: ready for pickup, with the weights it found (optional)."""

    permission_classes = [IsAuthenticated, FARMER]

    @extend_schema(
        request=s.ReadyInputSerializer,
        responses=HOUSEHOLD_STEP_ANSWERS,
    )
    def post(self, request, pk: int):
        farm_order = _own_farm_order(request, pk)
        data = validated(s.ReadyInputSerializer, request)
        services.farm_order_ready(
            farm_order=farm_order, by=request.user, actual_quantities=data.get("actual_quantities")
        )
        return _farm_order_response(request, pk)


class HouseholdOrderRejectView(APIView):
    """Refuse the household's part, with a reason told to the buyer; the stock comes back."""

    permission_classes = [IsAuthenticated, FARMER]

    @extend_schema(
        request=s.RejectInputSerializer,
        responses=HOUSEHOLD_STEP_ANSWERS,
    )
    def post(self, request, pk: int):
        farm_order = _own_farm_order(request, pk)
        data = validated(s.RejectInputSerializer, request)
        services.farm_order_reject(farm_order=farm_order, by=request.user, reason=data["reason"])
        return _farm_order_response(request, pk)
