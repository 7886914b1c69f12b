"""Shapes of the cart API. Input serializers parse types; the cart services judge the values."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from farms.api.serializers import QuantityField
from farms.models import Product

from ..selectors import CartLineDetail, LineProblem


class CartErrorSerializer(serializers.Serializer):
    """`{detail, code}`; `insufficient_stock` adds `available` and `product`.

    `product_unavailable` adds `product`.
    """

    detail = serializers.CharField()
    code = serializers.CharField()
    available = serializers.CharField(required=False, help_text=_("Stock left, 3 decimals."))
    product = serializers.IntegerField(required=False)


class CartFarmBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class CartProductSerializer(serializers.Serializer):
    """The listing of a line (read from the line's detail, which carries the thumbnail)."""

    id = serializers.IntegerField(source="product.id", read_only=True)
    name = serializers.CharField(source="product.name", read_only=True)
    unit = serializers.CharField(source="product.unit", read_only=True)
    unit_label = serializers.CharField(source="product.get_unit_display", read_only=True)
    farm = CartFarmBriefSerializer(source="product.farm", read_only=True)
    thumbnail = serializers.SerializerMethodField()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail(self, line: CartLineDetail) -> str | None:
        if line.thumbnail is None or not line.thumbnail.thumb:
            return None
        request = self.context.get("request")
        url = line.thumbnail.thumb.url
        return request.build_absolute_uri(url) if request is not None else url


class CartLineSerializer(serializers.Serializer):
    """A line priced now. `previous_price` is the price last shown when `price_changed`, else null."""

    id = serializers.IntegerField(read_only=True)
    product = CartProductSerializer(source="*", read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    unit_price = serializers.IntegerField(read_only=True)
    line_total = serializers.IntegerField(read_only=True)
    price_changed = serializers.BooleanField(read_only=True)
    previous_price = serializers.IntegerField(read_only=True, allow_null=True)
    available = serializers.BooleanField(read_only=True)
    problem = serializers.ChoiceField(
        choices=LineProblem.choices,
        read_only=True,
        allow_null=True,
        help_text=_("Why the line cannot be ordered as it stands; null when it can."),
    )


class CartFarmSerializer(serializers.Serializer):
    """A household's part of the cart; `subtotal` counts its available lines."""

    id = serializers.IntegerField(source="farm.id", read_only=True)
    name = serializers.CharField(source="farm.name", read_only=True)
    subtotal = serializers.IntegerField(read_only=True)
    line_ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)


class CartSerializer(serializers.Serializer):
    """The whole cart. `version` changes whenever a line, a quantity, a price or an availability does."""

    id = serializers.IntegerField(read_only=True)
    version = serializers.CharField(read_only=True)
    lines = CartLineSerializer(many=True, read_only=True)
    subtotal = serializers.IntegerField(read_only=True)
    farms = CartFarmSerializer(many=True, read_only=True)


@extend_schema_field(OpenApiTypes.INT)
class ProductIdField(serializers.PrimaryKeyRelatedField):
    """A listing id; whether it can be ordered is the cart service's question (409)."""

    default_error_messages = {
        "does_not_exist": _("Choose a product on sale."),
        "incorrect_type": _("Choose a product on sale."),
    }

    def get_queryset(self):
        return Product.objects.select_related("farm")


class CartItemInputSerializer(serializers.Serializer):
    product = ProductIdField()
    quantity = QuantityField()


class CartQuantityInputSerializer(serializers.Serializer):
    quantity = QuantityField()
