"""Accounts API: register, token, me, export, deletion, password reset, staff user admin."""
from django.conf import settings
from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import validated
from marketplace.throttling import THROTTLED_RESPONSE, RateLimit, rate_limit_wait

from .. import codes, services
from ..lockout import lockout_response
from ..models import Role
from ..permissions import role_permission
from ..reauth import AccountLocked
from ..selectors import user_data_export, user_list
from . import serializers as s

SIGNUP_STARTED = OpenApiResponse(
    s.SignupStartedSerializer,
    description="Accepted: a 6-digit code is texted to the number, unless it already has an account "
    "(then its owner is told instead). The answer has the same shape either way; `signup` is "
    "needed, with the code, by `auth/register/confirm/`.",
)
CODE_SENT = OpenApiResponse(
    s.DetailSerializer,
    description="Accepted: a 6-digit code is texted to the number, unless it already has an account "
    "(then its owner is told instead). The answer is the same either way.",
)
ACCOUNT_LOCKED = OpenApiResponse(
    description="Too many wrong passwords for this account (`code: account_locked`), or too many "
    "security changes (`code: throttled`); see `Retry-After`."
)


def _code_sent_answer(**extra):
    return Response(
        {
            "detail": _(
                "We have sent a 6-digit code by SMS to this number. Enter it to finish; it "
                "expires in %(minutes)d minutes."
            )
            % {"minutes": settings.PHONE_CODE_MINUTES},
            **extra,
        },
        status=status.HTTP_202_ACCEPTED,
    )


class RegisterView(APIView):
    """Sign-up, step 1 of 2: check the details and text a code to prove the phone number.

    Step 2 is `POST /api/v1/auth/register/confirm/` with the phone and the code; the account is
    created only then.
    """

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RateLimit]
    throttle_scope = "register"

    @extend_schema(request=s.RegisterSerializer, responses={202: SIGNUP_STARTED, 429: THROTTLED_RESPONSE})
    def post(self, request):
        data = validated(s.RegisterSerializer, request)
        return _code_sent_answer(signup=codes.signup_request(**data))


class RegisterConfirmView(APIView):
    """Sign-up, step 2 of 2: the code from the SMS creates the account."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RateLimit]
    throttle_scope = "signup_confirm"

    @extend_schema(
        request=s.RegisterConfirmSerializer, responses={201: s.UserSerializer, 429: THROTTLED_RESPONSE}
    )
    def post(self, request):
        data = validated(s.RegisterConfirmSerializer, request)
        user = codes.signup_confirm(key=data["signup"], code=data["code"])
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class RegisterResendView(APIView):
    """Text a new code for a sign-up still waiting (the same answer if there is none)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RateLimit]
    throttle_scope = "register"

    @extend_schema(request=s.SignupKeySerializer, responses={202: CODE_SENT, 429: THROTTLED_RESPONSE})
    def post(self, request):
        data = validated(s.SignupKeySerializer, request)
        codes.signup_code_resend(key=data["signup"])
        return _code_sent_answer()


class SecurityChangeMixin:
    """Views that change how an account is reached or protected.

    Limited per user (RATE_LIMITS["account_security"]); a wrong current password counts toward
    the account's lockout, and a locked account answers 429 `account_locked`.
    """

    def security_limit(self, request):
        if wait := rate_limit_wait(request, "account_security"):
            raise exceptions.Throttled(wait=wait)

    def handle_exception(self, exc):
        if isinstance(exc, AccountLocked):
            return lockout_response(self.request._request)
        return super().handle_exception(exc)


class TokenView(APIView):
    """Exchange a phone number and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RateLimit]
    throttle_scope = "login"

    @extend_schema(
        request=s.TokenRequestSerializer,
        responses={
            200: s.TokenSerializer,
            400: OpenApiResponse(description="Wrong phone number or password."),
            429: OpenApiResponse(
                description="Account locked after too many wrong passwords (`code: account_locked`), "
                "or too many attempts from this address (`code: throttled`); see `Retry-After`."
            ),
        },
    )
    def post(self, request):
        data = validated(s.TokenRequestSerializer, request)
        # Axes counts failures on the Django request, keyed by the normalised phone.
        user = authenticate(
            request._request,
            username=data["phone"],
            password=data["password"],
        )
        if user is None or not user.is_active:
            return Response(
                {"non_field_errors": [_("Wrong phone number or password.")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        # A token is a login: axes resets the failure count, Django records last_login.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        return Response({"token": services.token_for(user=user)})


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(SecurityChangeMixin, APIView):
    @extend_schema(responses=s.UserSerializer)
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(
        request=s.MeUpdateSerializer, responses={200: s.UserSerializer, 429: ACCOUNT_LOCKED}
    )
    def patch(self, request):
        data = validated(s.MeUpdateSerializer, request, partial=True)
        if "email" in data and data["email"].strip().lower() != request.user.email:
            self.security_limit(request)
        user = services.user_update_profile(user=request.user, request=request, **data)
        return Response(s.UserSerializer(user).data)


class MePhoneView(SecurityChangeMixin, APIView):
    """Change the phone number, step 1 of 2: the current password, and a code to the new number."""

    @extend_schema(request=s.PhoneChangeSerializer, responses={202: CODE_SENT, 429: ACCOUNT_LOCKED})
    def post(self, request):
        data = validated(s.PhoneChangeSerializer, request)
        self.security_limit(request)
        codes.phone_change_request(user=request.user, request=request, **data)
        return _code_sent_answer()


class MePhoneConfirmView(APIView):
    """Change the phone number, step 2 of 2: the code texted to the new number."""

    throttle_classes = [RateLimit]
    throttle_scope = "signup_confirm"

    @extend_schema(request=s.CodeSerializer, responses={200: s.UserSerializer, 429: THROTTLED_RESPONSE})
    def post(self, request):
        data = validated(s.CodeSerializer, request)
        user = codes.phone_change_confirm(user=request.user, code=data["code"])
        return Response(s.UserSerializer(user).data)


class MeExportView(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="All data held about the user.")})
    def get(self, request):
        return Response(user_data_export(user=request.user))


class MeDeleteView(SecurityChangeMixin, APIView):
    """Delete the account: personal data is wiped, orders stay anonymised."""

    @extend_schema(request=s.PasswordConfirmSerializer, responses={204: None, 429: ACCOUNT_LOCKED})
    def post(self, request):
        data = validated(s.PasswordConfirmSerializer, request)
        self.security_limit(request)
        services.user_delete(user=request.user, request=request, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MePasswordView(SecurityChangeMixin, APIView):
    @extend_schema(request=s.PasswordChangeSerializer, responses={204: None, 429: ACCOUNT_LOCKED})
    def post(self, request):
        data = validated(s.PasswordChangeSerializer, request)
        self.security_limit(request)
        services.user_change_password(user=request.user, request=request, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(APIView):
    """Send a reset link by email, or a 6-digit code by SMS when the account has no email."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RateLimit]
    throttle_scope = "password_reset"

    @extend_schema(
        request=s.PasswordResetRequestSerializer, responses={202: s.DetailSerializer, 429: THROTTLED_RESPONSE}
    )
    def post(self, request):
        data = validated(s.PasswordResetRequestSerializer, request)
        services.password_reset_request(phone=data["phone"])
        # The same answer whether or not the number has an account.
        return Response(
            {
                "detail": _(
                    "If an account uses this number, we have sent a reset link to its "
                    "email or a code by SMS."
                )
            },
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RateLimit]
    throttle_scope = "password_reset_confirm"

    @extend_schema(
        request=s.PasswordResetConfirmSerializer, responses={200: s.DetailSerializer, 429: THROTTLED_RESPONSE}
    )
    def post(self, request):
        data = validated(s.PasswordResetConfirmSerializer, request)
        services.password_reset_with_code(**data)
        return Response({"detail": _("Your password has been reset. You can log in now.")})


class StaffUserListView(generics.ListCreateAPIView):
    """Staff: list users (filter by role) and create officials, couriers and staff."""

    permission_classes = [IsAuthenticated, role_permission(Role.STAFF)]
    serializer_class = s.UserSerializer

    def get_queryset(self):
        return user_list(role=self.request.query_params.get("role") or None)

    @extend_schema(
        parameters=[OpenApiParameter("role", enum=Role.values, required=False)],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=s.StaffUserCreateSerializer, responses={201: s.UserSerializer})
    def post(self, request, *args, **kwargs):
        data = validated(s.StaffUserCreateSerializer, request)
        user = services.user_create(**data)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)
