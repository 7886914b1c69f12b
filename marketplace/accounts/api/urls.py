from django.urls import path

from . import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/register/confirm/", views.RegisterConfirmView.as_view(), name="auth-register-confirm"),
    path("auth/register/resend/", views.RegisterResendView.as_view(), name="auth-register-resend"),
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/password-reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path(
        "auth/password-reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/export/", views.MeExportView.as_view(), name="me-export"),
    path("me/delete/", views.MeDeleteView.as_view(), name="me-delete"),
    path("me/password/", views.MePasswordView.as_view(), name="me-password"),
    path("me/phone/", views.MePhoneView.as_view(), name="me-phone"),
    path("me/phone/confirm/", views.MePhoneConfirmView.as_view(), name="me-phone-confirm"),
    path("users/", views.StaffUserListView.as_view(), name="user-list"),
]
