"""Cart API: the signed-in user's own cart (any role). Someone else's line is a 404.

Every answer is the whole cart, priced now; answering it records its prices as seen, so a
price change is flagged once (`price_changed`, `previous_price`).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import validated

from .. import services
from ..models import Cart, CartLine
from ..selectors import cart_lines_of
from . import serializers as s

NOT_FOUND = OpenApiResponse(s.CartErrorSerializer, description="Not a line of your cart.")
CONFLICT = OpenApiResponse(
    s.CartErrorSerializer,
    description="The listing is not on sale now (`product_unavailable`), or the quantity is more "
    "than the stock left (`insufficient_stock`, with `available` and `product`).",
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
