"""Shapes of the cart API. Input serializers parse types; the cart services judge the values."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from farms.api.serializers import QuantityField
from marketplace.api.fields import VisibleIdField

from ..models import FarmOrderStatus, OrderStatus, PaymentRecordStatus, PaymentStatus
from ..selectors import CartLineDetail, LineProblem, products_for_cart


class CartErrorSerializer(serializers.Serializer):
    """`{detail, code}`; `insufficient_stock` adds `available` and `product`.

    `product_unavailable` adds `product`. Over a bound of the market (docs/api.md, Bounds):
    `line_quantity_limit`, `line_total_limit`, `line_weight_limit` add `product` and `limit`;
    `order_total_limit`, `order_weight_limit` add `limit`.
    """

    detail = serializers.CharField()
    code = serializers.CharField()
    available = serializers.CharField(required=False, help_text=_("Stock left, 3 decimals."))
    product = serializers.IntegerField(required=False)
    limit = serializers.JSONField(
        required=False,
        help_text=_("The bound passed: đồng as an integer, or kg or a quantity as a string with 3 decimals."),
    )


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
class ProductIdField(VisibleIdField):
    """A listing id, resolved like `GET products/{id}/`: one the user may not see is a 404.

    Whether a listing the user may see (their own draft, one their cart holds from before its
    household was suspended) can be ordered is the cart service's question (409).
    """

    default_error_messages = {
        "incorrect_type": _("Choose a product on sale."),
    }

    def __init__(self, **kwargs):
        super().__init__(visible=products_for_cart, **kwargs)


class CartItemInputSerializer(serializers.Serializer):
    product = ProductIdField()
    quantity = QuantityField()


class CartQuantityInputSerializer(serializers.Serializer):
    quantity = QuantityField()


# --- Checkout and orders (issue #5) -------------------------------------------------------


class DeliveryInputSerializer(serializers.Serializer):
    """Where the order goes; checked by `orders.services.delivery_parse`."""

    name = serializers.CharField(max_length=120, help_text=_("Who receives the order."))
    phone = serializers.CharField(max_length=32, help_text=_("A Vietnamese mobile number."))
    address = serializers.CharField(max_length=200, help_text=_("House number and street, or hamlet."))
    ward = serializers.CharField(max_length=5, help_text=_("The 5-digit code of the ward or commune."))

    def validate(self, attrs):
        from django.core.exceptions import ValidationError as DjangoValidationError

        from ..services import delivery_parse

        try:
            return delivery_parse(**attrs)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None


class CheckoutInputSerializer(serializers.Serializer):
    """Prices and totals are never read from the client: any such field is ignored."""

    delivery = DeliveryInputSerializer()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
    delivery_date = serializers.DateField(required=False, allow_null=True, default=None)
    payment_method = serializers.ChoiceField(choices=["cod"])
    cart_version = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        max_length=4000,
        help_text=_(
            "The cart's `version` the buyer agreed to; a different cart now answers 409 `cart_changed`."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ..payments import available_methods

        self.fields["payment_method"].choices = available_methods()


class CheckoutConflictLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text=_("The cart line (null for a line removed since).")
    )
    product = serializers.IntegerField()
    name = serializers.CharField()
    problem = serializers.CharField(
        help_text=_(
            "unavailable, insufficient_stock, below_minimum; with cart_changed also price_changed, "
            "quantity_changed, added, removed, available_again, changed (the version sent was not one "
            "the server makes)"
        )
    )
    available = serializers.CharField(required=False, help_text=_("Stock left, 3 decimals."))
    previous_price = serializers.IntegerField(required=False, help_text=_("The price in the version sent."))
    previous_quantity = serializers.CharField(
        required=False, help_text=_("The quantity in the version sent.")
    )


class CheckoutErrorSerializer(serializers.Serializer):
    """`{detail, code}`: `cart_empty`, `cart_changed` (with `version`, `lines`), `cart_conflict`
    (with `lines`), `cod_limit`, `cod_suspended`; over a bound of the market `line_quantity_limit`,
    `line_total_limit`, `line_weight_limit` (with `product`, `limit`), `order_total_limit`,
    `order_weight_limit` (with `limit`)."""

    detail = serializers.CharField()
    code = serializers.CharField()
    version = serializers.CharField(required=False, allow_null=True)
    lines = CheckoutConflictLineSerializer(many=True, required=False)
    product = serializers.IntegerField(required=False)
    limit = serializers.JSONField(
        required=False,
        help_text=_("The bound passed: đồng as an integer, or kg or a quantity as a string with 3 decimals."),
    )


class WardRefSerializer(serializers.Serializer):
    code = serializers.CharField(source="pk", read_only=True)
    name = serializers.CharField(read_only=True)


class FarmRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class OrderLineSerializer(serializers.Serializer):
    """A line as sold: a snapshot of the listing at checkout."""

    id = serializers.IntegerField(read_only=True)
    product = serializers.IntegerField(source="product_id", read_only=True)
    product_name = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True)
    unit_price = serializers.IntegerField(read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    actual_quantity = serializers.DecimalField(
        max_digits=12,
        decimal_places=3,
        read_only=True,
        allow_null=True,
        help_text=_("What the household weighed when packing (produce sold by weight); null until then."),
    )
    line_total = serializers.IntegerField(read_only=True)


class ShipmentBriefSerializer(serializers.Serializer):
    """`{id, status, carrier}` of a part's shipment (documentation: `shipment_brief` builds it)."""

    id = serializers.IntegerField()
    status = serializers.CharField()
    carrier = serializers.CharField()


class ShipmentStepSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    at = serializers.DateTimeField()


class ShipmentTrackingSerializer(ShipmentBriefSerializer):
    """The brief with the carrier's `steps`, oldest first."""

    steps = ShipmentStepSerializer(many=True)


def shipment_brief(farm_order) -> dict | None:
    """`{id, status, carrier}` once the part is ready and a carrier booked; null before."""
    shipment = farm_order.shipment
    if shipment is None:
        return None
    return {"id": shipment.pk, "status": shipment.status, "carrier": shipment.carrier}


class OrderProblemSerializer(serializers.Serializer):
    """A problem the buyer reported with a delivered line (issue #7); see `GET problems/{id}/`."""

    id = serializers.IntegerField(read_only=True)
    line = serializers.IntegerField(source="line_id", read_only=True)
    kind = serializers.CharField(read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    status = serializers.CharField(read_only=True)
    refund_amount = serializers.IntegerField(read_only=True)
    answer = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class FarmOrderSerializer(serializers.Serializer):
    """One household's part. `shipment` is null until a courier is booked (issue #7)."""

    id = serializers.IntegerField(read_only=True)
    farm = FarmRefSerializer(read_only=True)
    status = serializers.ChoiceField(choices=FarmOrderStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    subtotal = serializers.IntegerField(read_only=True)
    shipment = serializers.SerializerMethodField()
    problems = OrderProblemSerializer(many=True, read_only=True)
    report_until = serializers.SerializerMethodField()

    @extend_schema_field(ShipmentTrackingSerializer(allow_null=True))
    def get_shipment(self, farm_order) -> dict | None:
        """The shipment with its `steps` [{type, label, at}], oldest first: the buyer's tracking."""
        brief = shipment_brief(farm_order)
        if brief is not None:
            brief["steps"] = [
                {
                    "type": event.type,
                    "label": event.get_type_display(),
                    "at": serializers.DateTimeField().to_representation(event.at),
                }
                for event in farm_order.shipment.events.all()
            ]
        return brief

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_report_until(self, farm_order):
        """Until when a problem with a delivered part may be reported; null before delivery."""
        from ..services.problems import report_until

        until = report_until(farm_order, farm_order.order.status_changes.all())
        return serializers.DateTimeField().to_representation(until) if until else None


class TimelineEntrySerializer(serializers.Serializer):
    """A status change: of the order (`farm_order` null) or of one household's part."""

    at = serializers.DateTimeField(read_only=True)
    status = serializers.CharField(source="to_status", read_only=True)
    from_status = serializers.CharField(read_only=True)
    farm_order = serializers.IntegerField(source="farm_order_id", read_only=True, allow_null=True)
    note = serializers.SerializerMethodField()

    def get_note(self, change) -> str:
        # Notes the system writes are stored untranslated (gettext_noop); people's reasons as typed.
        return gettext(change.note) if change.note else ""


class DeliverySerializer(serializers.Serializer):
    name = serializers.CharField(source="delivery_name", read_only=True)
    phone = serializers.CharField(source="delivery_phone", read_only=True)
    address = serializers.CharField(source="delivery_address", read_only=True)
    ward = WardRefSerializer(source="delivery_ward", read_only=True)


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    method = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=PaymentRecordStatus.choices, read_only=True)
    amount = serializers.IntegerField(read_only=True)
    paid_amount = serializers.IntegerField(read_only=True)
    refunded_amount = serializers.IntegerField(read_only=True)
    url = serializers.CharField(
        source="pay_url",
        read_only=True,
        allow_null=True,
        help_text=_("The payment page (Stripe Checkout) while it is open; null when there is none."),
    )
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True)
    qr_payload = serializers.CharField(
        read_only=True, allow_null=True, default=None, help_text=_("VietQR: the code's text, for an app.")
    )
    qr_png = serializers.CharField(
        read_only=True, allow_null=True, default=None, help_text=_("VietQR: the code as a PNG data URL.")
    )
    instructions = serializers.CharField(read_only=True, default="")


class OrderListSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=OrderStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    payment_status = serializers.ChoiceField(choices=PaymentStatus.choices, read_only=True)
    payment_method = serializers.CharField(read_only=True)
    subtotal = serializers.IntegerField(read_only=True)
    delivery_fee = serializers.IntegerField(read_only=True)
    total = serializers.IntegerField(read_only=True)
    delivery_date = serializers.DateField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)


class OrderSerializer(OrderListSerializer):
    """An order with its households' parts, the timeline and the payment."""

    delivery = DeliverySerializer(source="*", read_only=True)
    note = serializers.CharField(read_only=True)
    weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    farm_orders = FarmOrderSerializer(many=True, read_only=True)
    timeline = TimelineEntrySerializer(source="status_changes", many=True, read_only=True)
    payment = serializers.SerializerMethodField()
    can_cancel = serializers.SerializerMethodField()

    @extend_schema_field(PaymentSerializer(allow_null=True))
    def get_payment(self, order) -> dict | None:
        payments = list(order.payments.all())
        if not payments:
            return None
        from ..payments import provider_for

        payment = payments[0]  # the latest attempt
        data = PaymentSerializer(payment).data
        pending = payment.status == "pending"
        data["url"] = payment.pay_url if pending and payment.pay_url else None
        data["instructions"] = str(provider_for(payment.method).instructions(payment=payment))
        if pending and payment.method == "vietqr":
            from ..payments.vietqr import payload_for, png_data_url

            data["qr_payload"] = payload_for(payment)
            data["qr_png"] = png_data_url(data["qr_payload"])
        return data

    def get_can_cancel(self, order) -> bool:
        from ..services.fulfilment import BUYER_CANCELLABLE

        return any(fo.status in BUYER_CANCELLABLE for fo in order.farm_orders.all())


class OrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    farm_orders = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_empty=False,
        max_length=50,
        help_text=_("Cancel only these households' parts; all that can be cancelled when left out."),
    )


class OrderErrorSerializer(serializers.Serializer):
    """`{detail, code}`: `not_cancellable`, `invalid_transition` (with `status`, `to`)."""

    detail = serializers.CharField()
    code = serializers.CharField()


class HouseholdOrderSerializer(serializers.Serializer):
    """A household's part of an order, as the household sees it: no buyer's phone or address."""

    id = serializers.IntegerField(read_only=True)
    order = serializers.IntegerField(source="order_id", read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True)
    status = serializers.ChoiceField(choices=FarmOrderStatus.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    lines = OrderLineSerializer(many=True, read_only=True)
    subtotal = serializers.IntegerField(read_only=True)
    delivery_ward = WardRefSerializer(source="order.delivery_ward", read_only=True)
    delivery_date = serializers.DateField(source="order.delivery_date", read_only=True, allow_null=True)
    payment_method = serializers.CharField(source="order.payment_method", read_only=True)
    note = serializers.CharField(source="order.note", read_only=True)
    deadline = serializers.SerializerMethodField()
    shipment = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(ShipmentBriefSerializer(allow_null=True))
    def get_shipment(self, farm_order) -> dict | None:
        return shipment_brief(farm_order)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_deadline(self, farm_order):
        """When the household must have answered a `new` part; null once it has."""
        from ..services.fulfilment import farm_order_deadline

        if farm_order.status != FarmOrderStatus.NEW:
            return None
        due = farm_order_deadline(farm_order)
        return serializers.DateTimeField().to_representation(due) if due else None


class ReadyInputSerializer(serializers.Serializer):
    actual_quantities = serializers.DictField(
        child=serializers.CharField(max_length=20),
        required=False,
        allow_empty=True,
        help_text=_(
            "By line id, the weight found when packing a line sold by weight, within a tenth either way "
            'of what was ordered, e.g. {"12": "1.85"}. A lighter line costs less (refunded if paid); '
            "a heavier one no more."
        ),
    )

    def validate_actual_quantities(self, value):
        if len(value) > 100:
            raise serializers.ValidationError(_("Too many lines."))
        return value


class RejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text=_("Told to the buyer."))


class QuoteMethodSerializer(serializers.Serializer):
    method = serializers.CharField()
    label = serializers.CharField()
    available = serializers.BooleanField()
    reason = serializers.CharField(help_text=_("Why the method is not offered for this order, in words."))
    code = serializers.CharField(help_text=_("`cod_limit` or `cod_suspended` when not available."))


class CheckoutQuoteSerializer(serializers.Serializer):
    """What checking out now would cost. `delivery_fee` and `total` are null until `?ward=` is given."""

    cart = CartSerializer(source="detail", read_only=True, allow_null=True)
    weight_kg = serializers.DecimalField(max_digits=12, decimal_places=3, read_only=True)
    subtotal = serializers.IntegerField(read_only=True)
    delivery_fee = serializers.IntegerField(read_only=True, allow_null=True)
    total = serializers.IntegerField(read_only=True, allow_null=True)
    payment_methods = QuoteMethodSerializer(source="methods", many=True, read_only=True)
