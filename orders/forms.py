"""Order page forms: they read what buyers and households type; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from farms.forms import FormErrorsMixin, WardChoiceField, text
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
    reason = forms.CharField(label=_("Reason (optional)"), required=False, max_length=500)


class RejectForm(FormErrorsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why can you not fill it?"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
