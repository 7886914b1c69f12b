from django import forms
from django.contrib import admin
from django.contrib.auth import password_validation
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.utils.translation import gettext_lazy as _

from .models import User
from .services import phone_normalize_unique


class UserCreationForm(forms.ModelForm):
    """Staff create officials, couriers and staff here, with a first password."""

    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ["phone", "full_name", "email", "role", "city_wide"]

    def clean_phone(self):
        return phone_normalize_unique(self.cleaned_data["phone"])

    def clean_password1(self):
        password = self.cleaned_data["password1"]
        password_validation.validate_password(password)
        return password

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_password(self.cleaned_data["password1"])
        user.is_staff = user.role == "staff"
        if commit:
            user.save()
        return user


class UserChangeForm(BaseUserChangeForm):
    class Meta(BaseUserChangeForm.Meta):
        model = User
        fields = "__all__"

    def clean_phone(self):
        return phone_normalize_unique(self.cleaned_data["phone"], exclude_pk=self.instance.pk)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreationForm
    form = UserChangeForm
    ordering = ["-date_joined"]
    list_display = ["phone", "full_name", "role", "is_active", "date_joined"]
    list_filter = ["role", "is_active", "city_wide"]
    search_fields = ["phone", "full_name", "email"]
    filter_horizontal = ["wards", "groups", "user_permissions"]
    readonly_fields = ["last_login", "date_joined", "privacy_consent_at", "anonymised_at"]
    fieldsets = [
        (None, {"fields": ["phone", "password"]}),
        (_("Person"), {"fields": ["full_name", "email", "role"]}),
        (_("Official's scope"), {"fields": ["city_wide", "wards"]}),
        (
            _("Access"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (
            _("Dates"),
            {"fields": ["last_login", "date_joined", "privacy_consent_at", "anonymised_at"]},
        ),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["phone", "full_name", "email", "role", "city_wide", "password1"],
            },
        ),
    ]
