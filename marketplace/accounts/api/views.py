"""Accounts API: register, token, me, export, deletion, password reset, staff user admin."""
from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import validated
from marketplace.throttling import THROTTLED_RESPONSE, RateLimit

from .. import services
from ..models import Role
from ..permissions import role_permission
from ..selectors import user_data_export, user_list
from . import serializers as s


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RateLimit]
    throttle_scope = "register"

    @extend_schema(request=s.RegisterSerializer, responses={201: s.UserSerializer, 429: THROTTLED_RESPONSE})
    def post(self, request):
        data = validated(s.RegisterSerializer, request)
        user = services.user_register(**data)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


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


class MeView(APIView):
    @extend_schema(responses=s.UserSerializer)
    def get(self, request):
        return Response(s.UserSerializer(request.user).data)

    @extend_schema(request=s.MeUpdateSerializer, responses=s.UserSerializer)
    def patch(self, request):
        data = validated(s.MeUpdateSerializer, request, partial=True)
        user = services.user_update_profile(user=request.user, **data)
        return Response(s.UserSerializer(user).data)


class MeExportView(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="All data held about the user.")})
    def get(self, request):
        return Response(user_data_export(user=request.user))


class MeDeleteView(APIView):
    """Delete the account: personal data is wiped, orders stay anonymised."""

    @extend_schema(request=s.PasswordConfirmSerializer, responses={204: None})
    def post(self, request):
        data = validated(s.PasswordConfirmSerializer, request)
        services.user_delete(user=request.user, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MePasswordView(APIView):
    @extend_schema(request=s.PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        data = validated(s.PasswordChangeSerializer, request)
        services.user_change_password(user=request.user, **data)
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
