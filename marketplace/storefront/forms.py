"""Storefront forms: they read what buyers type; the catalogue and the cart services decide."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from farms.forms import FormErrorsMixin
from farms.search import CERTIFICATIONS, ORDERINGS
from farms.units import is_fractional
from marketplace.errors import Conflict
from orders.services.cart import unit_name


def plain_number(value) -> str:
    """Return a quantity without trailing zeros or exponent: 1.500 -> 1.5, 100.000 -> 100."""
    return format(Decimal(value).normalize(), "f")


def quantity_attrs(product) -> dict[str, str]:
    """Return the quantity input's attributes: a decimal keypad for weights, min and step."""
    minimum = Decimal(product.min_order)
    if not is_fractional(product.unit):
        return {"inputmode": "numeric", "min": plain_number(minimum), "step": "1"}
    # Any quantity from the minimum up, in tenths unless the minimum itself is finer.
    step = "0.1" if (minimum * 10) == (minimum * 10).to_integral_value() else "0.001"
    return {"inputmode": "decimal", "min": plain_number(minimum), "step": step}


class QuantityForm(FormErrorsMixin, forms.Form):
    """A quantity of one listing, for the add-to-cart form and each cart line."""

    quantity = forms.CharField(max_length=20)

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["quantity"]
        field.label = _("Quantity (%(unit)s)") % {"unit": unit_name(product.unit)}
        field.widget = forms.NumberInput(attrs=quantity_attrs(product))

    def clean_quantity(self) -> str:
        # A decimal comma is how Vietnamese write 1,5 kg; the service reads a point.
        return self.cleaned_data["quantity"].strip().replace(",", ".")

    def add_conflict(self, exc: Conflict) -> None:
        if exc.code == "insufficient_stock":
            self.add_error("quantity", str(exc.message))
        else:
            super().add_conflict(exc)


AVAILABILITY_CHOICES = [("", _("Any time")), ("now", _("Available now")), ("preorder", _("Pre-order"))]
ORDERING_LABELS = {
    "relevance": _("Best match"),
    "price": _("Price: low to high"),
    "-price": _("Price: high to low"),
    "newest": _("Newest"),
}
CERTIFICATION_LABELS = {
    "vietgap": "VietGAP",
    "globalgap": "GlobalGAP",
    "organic": _("Organic"),
    "ocop": "OCOP",
    "ocop3": _("OCOP 3★ or more"),
    "ocop4": _("OCOP 4★ or more"),
    "ocop5": _("OCOP 5★"),
}


class CatalogueFilterForm(forms.Form):
    """The search and filter form (GET). It only shows what the URL holds: `catalogue_params` parses."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. sầu riêng, măng cụt")}),
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    ward = forms.CharField(
        label=_("Ward, commune or former district"),
        required=False,
        help_text=_("Current or former names, separated by commas: Phong Điền, Ô Môn."),
    )
    certification = forms.MultipleChoiceField(
        label=_("Certification"),
        required=False,
        choices=[(key, CERTIFICATION_LABELS[key]) for key in CERTIFICATIONS],
        widget=forms.CheckboxSelectMultiple,
    )
    min_price = forms.CharField(
        label=_("Lowest price (₫)"), required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    max_price = forms.CharField(
        label=_("Highest price (₫)"), required=False, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    in_stock = forms.BooleanField(label=_("In stock only"), required=False)
    available = forms.ChoiceField(
        label=_("Availability"), required=False, choices=AVAILABILITY_CHOICES, widget=forms.RadioSelect
    )
    ordering = forms.ChoiceField(
        label=_("Sort by"), required=False, choices=[(key, ORDERING_LABELS[key]) for key in ORDERINGS]
    )

    def __init__(self, querydict, *, categories=None):
        """Show the URL's values as typed (even wrong ones, so they can be corrected)."""
        initial = {
            "q": querydict.get("q", ""),
            "category": querydict.get("category", ""),
            "ward": ", ".join(value.strip() for value in querydict.getlist("ward") if value.strip()),
            "certification": [value.lower() for value in querydict.getlist("certification")],
            "min_price": querydict.get("min_price", ""),
            "max_price": querydict.get("max_price", ""),
            "in_stock": querydict.get("in_stock", "").lower() in {"1", "true", "yes", "on"},
            "available": querydict.get("available", ""),
            # The catalogue's default order: relevance for a search, else newest first.
            "ordering": querydict.get("ordering", "") or ("relevance" if querydict.get("q") else "newest"),
        }
        super().__init__(initial=initial, auto_id="f_%s")
        if categories is None:
            del self.fields["category"]
        else:
            choices = [("", _("All categories"))]
            for top in categories:
                choices.append((str(top.pk), top.label))
                choices += [(str(child.pk), f"\u2014 {child.label}") for child in top.subcategories]
            self.fields["category"].choices = choices
