from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/verify/", views.signup_verify, name="signup_verify"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("phone/", views.phone_change, name="phone_change"),
    path("phone/verify/", views.phone_verify, name="phone_verify"),
    path("password/reset/", views.password_reset_request, name="password_reset"),
    path("password/reset/code/", views.password_reset_code, name="password_reset_code"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetLinkView.as_view(),
        name="password_reset_link",
    ),
    path("home/", views.home, name="home"),
    path("", views.account, name="account"),
    path("export/", views.export, name="export"),
    path("delete/", views.delete, name="delete"),
]
