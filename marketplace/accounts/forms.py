"""Page forms; they parse input and leave the rules to services."""
from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Role

PHONE_WIDGET = forms.TextInput(
    attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "0912 345 678"}
)


class LoginForm(AuthenticationForm):
    username = forms.CharField(label=_("Phone number"), max_length=32, widget=PHONE_WIDGET)

    error_messages = {
        "invalid_login": _("Wrong phone number or password."),
        "inactive": _("This account is not active."),
    }


class ServiceErrorsMixin:
    def add_service_errors(self, exc: ValidationError) -> None:
        """Show a service's field messages next to the matching fields."""
        for field, messages in exc.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class SignupForm(ServiceErrorsMixin, forms.Form):
    role = forms.ChoiceField(
        label=_("I want to"),
        choices=[(Role.BUYER, _("Buy produce")), (Role.FARMER, _("Sell my farm's produce"))],
        widget=forms.RadioSelect,
        initial=Role.BUYER,
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    phone = forms.CharField(label=_("Phone number"), max_length=32, widget=PHONE_WIDGET)
    email = forms.EmailField(label=_("Email (optional)"), required=False)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        # The rules before the first try, not only after a refusal (issue #22).
        help_text=password_validation.password_validators_help_text_html(),
    )
    privacy_consent = forms.BooleanField(
        label=_("I have read and accept the privacy notice"), required=False
    )


CODE_WIDGET = forms.TextInput(
    attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
)
CURRENT_PASSWORD_WIDGET = forms.PasswordInput(attrs={"autocomplete": "current-password"})


class CodeForm(ServiceErrorsMixin, forms.Form):
    code = forms.RegexField(
        label=_("Code from the SMS"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        widget=CODE_WIDGET,
        error_messages={"invalid": _("The code has 6 digits.")},
    )


class ProfileForm(ServiceErrorsMixin, forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("Email (optional)"), required=False)
    current_password = forms.CharField(
        label=_("Current password"),
        required=False,
        widget=CURRENT_PASSWORD_WIDGET,
        help_text=_("Needed only to change your email: password resets are sent there."),
    )


class PhoneChangeForm(ServiceErrorsMixin, forms.Form):
    phone = forms.CharField(label=_("New phone number"), max_length=32, widget=PHONE_WIDGET)
    current_password = forms.CharField(label=_("Current password"), widget=CURRENT_PASSWORD_WIDGET)


class PasswordChangeForm(ServiceErrorsMixin, forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=CURRENT_PASSWORD_WIDGET)
    new_password = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class PasswordResetRequestForm(forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=32, widget=PHONE_WIDGET)


class PasswordResetCodeForm(ServiceErrorsMixin, forms.Form):
    phone = forms.CharField(label=_("Phone number"), max_length=32, widget=PHONE_WIDGET)
    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    new_password = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class DeleteAccountForm(ServiceErrorsMixin, forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
