"""Page forms of the farms app. They parse what people type; services decide what is allowed."""

import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from marketplace.accounts.forms import PHONE_WIDGET, ServiceErrorsMixin
from marketplace.errors import Conflict
from marketplace.geo.forms import WardChoiceField, WardField  # noqa: F401  (checkout's <select>)

from .models import CertificationKind, ProductStatus
from .selectors import category_tree
from .units import Unit

IMAGE_TYPES = "image/jpeg,image/png,image/webp"
DOCUMENT_TYPES = f"{IMAGE_TYPES},application/pdf"
_MONEY_NOISE = re.compile(r"[\s.,₫đĐdD]")


class FormErrorsMixin(ServiceErrorsMixin):
    """Show a service's ValidationError or Conflict on the form, never as a 500."""

    def add_service_errors(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            super().add_service_errors(exc)
        else:
            self.add_error(None, exc.messages)

    def add_conflict(self, exc: Conflict) -> None:
        field = exc.extra.get("field")
        self.add_error(field if field in self.fields else None, str(exc.message))


def text(label, *, required=True, max_length=200, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.TextInput(attrs=attrs)
    )


class WholeNumberField(forms.CharField):
    """A whole number typed the Vietnamese way ("45.000", "45 000 đ"); the sign is kept for the service."""

    default_error_messages = {"invalid": _("Enter a whole number, for example 45000.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        digits = _MONEY_NOISE.sub("", value)
        if not re.fullmatch(r"-?\d{1,15}", digits):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return int(digits)


class QuantityField(forms.CharField):
    """A decimal quantity with a comma or a point ("1,5" or "1.5"); the service checks its range."""

    default_error_messages = {"invalid": _("Enter a number, for example 1,5 or 120.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        value = value.replace(" ", "")
        if "," in value:  # Vietnamese style: "1.200,5"
            value = value.replace(".", "").replace(",", ".")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not number.is_finite():
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
        return value


def quantity_text(value) -> str:
    """Return a stored quantity as people type it: 120, 1.5."""
    if value is None:
        return ""
    value = Decimal(value)
    return format(value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize(), "f")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class NeverShownInput(forms.TextInput):
    """A text input that never writes a value back into the page (for the citizen ID)."""

    def format_value(self, value):
        return None


class FarmForm(FormErrorsMixin, forms.Form):
    """Register or edit a household; on edit the citizen ID is optional (blank keeps it)."""

    name = text(_("Household name"), max_length=120)
    representative_name = text(_("Representative"), max_length=120, autocomplete="name")
    phone = forms.CharField(label=_("Phone number"), max_length=32, widget=PHONE_WIDGET)
    # A text box with suggestions, found by a current or former name ("Phong Điền", "Ô Môn").
    ward = WardField(
        label=_("Ward or commune"),
        help_text=_("Its name today or a former one, e.g. Phong Điền or Ô Môn."),
    )
    address = text(_("Address (street or hamlet)"), autocomplete="street-address")
    area_m2 = WholeNumberField(label=_("Farm area (m²)"))
    main_crops = text(_("Main crops"), placeholder=_("mangosteen, rambutan"))
    cooperative = text(_("Cooperative (HTX), if any"), required=False, max_length=150)
    cccd = forms.CharField(
        label=_("Citizen ID (CCCD), 12 digits"),
        max_length=20,
        widget=NeverShownInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Only officials see the last four digits; the full number is never shown."),
    )

    def __init__(self, *args, cccd_last4: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if cccd_last4:
            self.fields["cccd"].required = False
            self.fields["cccd"].help_text = _(
                "On file: •••• •••• %(last4)s. Leave blank to keep it; a new number sends "
                "the household back to verification."
            ) % {"last4": cccd_last4}

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        if not data.get("cccd"):
            data.pop("cccd", None)
        return data


def _category_choices():
    return [
        (
            parent.label,
            [(child.pk, child.label) for child in parent.subcategories] or [(parent.pk, parent.label)],
        )
        for parent in category_tree()
    ]


EDITABLE_STATUSES = (ProductStatus.DRAFT, ProductStatus.ACTIVE, ProductStatus.PAUSED, ProductStatus.SOLD_OUT)


def status_choices(current: str | None = None):
    statuses = list(EDITABLE_STATUSES)
    if current == ProductStatus.ARCHIVED:
        statuses.append(ProductStatus.ARCHIVED)
    return [(status.value, status.label) for status in statuses]


class ProductForm(FormErrorsMixin, forms.Form):
    name = text(_("Product name"), max_length=120, placeholder=_("Phong Điền mangosteen"))
    category = forms.TypedChoiceField(label=_("Category"), coerce=int)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    unit = forms.ChoiceField(label=_("Sold by"), choices=Unit.choices)
    unit_weight_kg = QuantityField(
        label=_("Weight of one unit (kg)"),
        required=False,
        help_text=_("Needed for fruit by the piece, bunches, heads, boxes and bags: it sets delivery fees."),
    )
    price = WholeNumberField(label=_("Price per unit (đồng)"))
    stock = QuantityField(label=_("In stock"))
    min_order = QuantityField(label=_("Minimum order"), initial="1")
    harvest_date = forms.DateField(label=_("Harvest date"), required=False, widget=DateInput())
    available_from = forms.DateField(label=_("Available from"), required=False, widget=DateInput())
    available_until = forms.DateField(label=_("Available until"), required=False, widget=DateInput())
    lot = forms.TypedChoiceField(label=_("Harvest lot"), required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label=_("Status"),
        help_text=_("Keep it as a draft until it is ready; “On sale” publishes it."),
    )

    def __init__(self, *args, current_status: str | None = None, lots=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Choose a category")), *_category_choices()]
        self.fields["status"].choices = status_choices(current_status)
        if lots is None:
            del self.fields["lot"]
        else:
            self.fields["lot"].choices = [("", _("No lot"))] + [
                (lot.pk, f"{lot.code} · {lot.harvest_date:%d/%m/%Y}") for lot in lots
            ]


class QuickEditForm(FormErrorsMixin, forms.Form):
    price = WholeNumberField(label=_("Price (đồng)"))
    stock = QuantityField(label=_("In stock"))


class ProductStatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(s.value, s.label) for s in EDITABLE_STATUSES])


class PhotoForm(FormErrorsMixin, forms.Form):
    """One photo per submit: from the camera or from the phone's gallery."""

    camera = forms.FileField(
        label=_("Take a photo"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_TYPES, "capture": "environment"}),
    )
    image = forms.FileField(
        label=_("Or choose a photo from the phone"),
        required=False,
        widget=forms.FileInput(attrs={"accept": IMAGE_TYPES}),
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("camera") or cleaned.get("image")
        if not upload and not self.errors:
            raise ValidationError(_("Choose a photo first."))
        cleaned["upload"] = upload
        return cleaned

    def add_service_errors(self, exc: ValidationError) -> None:
        self.add_error(None, exc.messages)


class PhotoMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])


class CertificationForm(FormErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CertificationKind.choices)
    ocop_stars = forms.TypedChoiceField(
        label=_("OCOP stars"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Not OCOP")), (3, "3★"), (4, "4★"), (5, "5★")],
    )
    number = text(_("Certificate number"), max_length=60, autocomplete="off")
    issuer = text(_("Issued by"), max_length=150)
    issued_on = forms.DateField(label=_("Issued on"), widget=DateInput())
    expires_on = forms.DateField(label=_("Expires on"), widget=DateInput())
    document = forms.FileField(
        label=_("Certificate (photo or PDF)"),
        widget=forms.FileInput(attrs={"accept": DOCUMENT_TYPES}),
        help_text=_("A clear photo of the paper certificate, or the PDF."),
    )


class LotForm(FormErrorsMixin, forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), queryset=None, empty_label=_("Choose a listing"))
    harvest_date = forms.DateField(label=_("Harvest date"), widget=DateInput())
    quantity = QuantityField(label=_("Quantity harvested"))
    practices = forms.CharField(
        label=_("Farming practices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: VietGAP, no pesticide in the last 30 days, organic fertiliser."),
    )

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = products


class DecisionForm(forms.Form):
    """An official's decision on a household or a certificate: a reason, sometimes required."""

    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
