from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from marketplace.geo.models import Ward

from ..models import SELF_SERVICE_ROLES, Role, User


class RegisterSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[(r.value, r.label) for r in SELF_SERVICE_ROLES])
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    privacy_consent = serializers.BooleanField(
        required=False,
        default=True,
        help_text=_(
            "The user accepted the privacy notice. API clients must show the notice before "
            "registering; sending false refuses the sign-up."
        ),
    )


class TokenRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(write_only=True, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class UserSerializer(serializers.ModelSerializer):
    wards = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    # Declared: DRF drops `allow_blank` from read-only model fields, and "" (no email) is no email.
    email = serializers.EmailField(read_only=True, allow_blank=True)

    class Meta:
        model = User
        fields = [
            "id",
            "phone",
            "full_name",
            "email",
            "role",
            "city_wide",
            "wards",
            "date_joined",
        ]
        read_only_fields = fields


class MeUpdateSerializer(serializers.Serializer):
    full_name = serializers.CharField(max_length=150, required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    current_password = serializers.CharField(
        write_only=True,
        required=False,
        default="",
        help_text=_("Needed to change the email (password resets go there)."),
    )


class SignupKeySerializer(serializers.Serializer):
    signup = serializers.CharField(
        max_length=64, help_text=_("The `signup` key from the answer to `auth/register/`.")
    )


class SignupStartedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    signup = serializers.CharField()


class RegisterConfirmSerializer(SignupKeySerializer):
    code = serializers.RegexField(r"^\d{6}$", max_length=6)


class CodeSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^\d{6}$", max_length=6)


class PhoneChangeSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text=_("The new phone number."))
    current_password = serializers.CharField(write_only=True)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(write_only=True)
    new_password = serializers.CharField(write_only=True)


class PasswordConfirmSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True)


class PasswordResetRequestSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)


class PasswordResetConfirmSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    code = serializers.RegexField(r"^\d{6}$", max_length=6)
    new_password = serializers.CharField(write_only=True)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class StaffUserCreateSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    password = serializers.CharField(write_only=True)
    full_name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    city_wide = serializers.BooleanField(required=False, default=False)
    wards = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Ward.objects.all(), required=False, default=list
    )
