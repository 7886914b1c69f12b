"""Order page forms: they read what buyers and households type; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from farms.forms import IMAGE_TYPES, FormErrorsMixin, QuantityField, WardChoiceField, WholeNumberField, text
from marketplace.accounts.forms import PHONE_WIDGET
from marketplace.geo.models import Ward


class CheckoutForm(FormErrorsMixin, forms.Form):
    name = text(_("Recipient's name"), max_length=120, autocomplete="name")
    phone = forms.CharField(label=_("Recipient's phone"), max_length=32, widget=PHONE_WIDGET)
    ward = WardChoiceField(
        label=_("Ward or commune"),
        queryset=Ward.objects.order_by("name_folded", "name"),
        empty_label=_("Choose the ward or commune"),
    )
    address = text(_("Address (house number and street, or hamlet)"), autocomplete="street-address")
    delivery_date = forms.DateField(
        label=_("Delivery date (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    note = forms.CharField(
        label=_("Note for the households (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    payment_method = forms.ChoiceField(label=_("Payment"), widget=forms.RadioSelect)
    cart_version = forms.CharField(widget=forms.HiddenInput, required=False, max_length=4000)

    def __init__(self, *args, methods, **kwargs):
        super().__init__(*args, **kwargs)
        # Every method set up is a choice: one refused for this order is explained by the
        # checkout's 409 (and a notice beside the choice), never as "not a valid choice".
        self.fields["payment_method"].choices = [(m.method, m.label) for m in methods]


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why are you cancelling? (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RejectForm(FormErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why can you not fill it?"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# --- Problems after delivery (issue #7) ---------------------------------------------------------


class ProblemReportForm(FormErrorsMixin, forms.Form):
    """The buyer's report on one delivered line; the service judges the quantity and the photo."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    kind = forms.ChoiceField(label=_("What is wrong?"), choices=[])
    quantity = QuantityField(label=_("How much is affected?"))
    description = forms.CharField(
        label=_("Tell the household more (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_TYPES}),
    )

    def __init__(self, *args, **kwargs):
        from .models import ProblemKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = ProblemKind.choices


class ProblemResolveForm(FormErrorsMixin, forms.Form):
    refund_amount = WholeNumberField(label=_("Refund (đồng)"))
    answer = forms.CharField(label=_("Message to the buyer (optional)"), required=False, max_length=500)


class ProblemDeclineForm(FormErrorsMixin, forms.Form):
    # Not required here: the service's own message says what to write.
    answer = forms.CharField(label=_("Why not? (told to the buyer)"), required=False, max_length=500)
