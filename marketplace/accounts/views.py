"""Account pages: sign-up, login, password reset, profile, data export, deletion."""
import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from marketplace.throttling import rate_limit_wait, throttled_page, too_many_attempts_message

from . import services
from .forms import (
    DeleteAccountForm,
    LoginForm,
    PasswordResetCodeForm,
    PasswordResetRequestForm,
    ProfileForm,
    SignupForm,
)
from .models import Role
from .selectors import user_data_export

ROLE_HOME = {
    Role.BUYER: "home",
    Role.FARMER: "farms:dashboard",
    Role.OFFICIAL: "official-home",
    Role.COURIER: "courier-home",
    Role.STAFF: "admin:index",
}


def _throttled_form(request, template: str, form_class, wait: int, **form_kwargs):
    """Answer a limited form post: 429, the form again with what was typed (passwords aside)."""
    typed = {
        key: value
        for key, value in request.POST.items()
        if key in form_class.base_fields and "password" not in key
    }
    form = form_class(initial=typed, **form_kwargs)
    context = {"form": form, "throttled_message": too_many_attempts_message(wait)}
    return throttled_page(render(request, template, context), wait)


def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:home")
    if request.method == "POST" and (wait := rate_limit_wait(request, "register")):
        return _throttled_form(request, "accounts/signup.html", SignupForm, wait)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_register(**form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Chợ Nổi!"))
            return redirect("accounts:home")
    return render(request, "accounts/signup.html", {"form": form})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if wait := rate_limit_wait(request, "login"):
            # An unbound form: binding it would try the password (and count it with axes).
            form = LoginForm(request, initial={"username": request.POST.get("username", "")})
            context = self.get_context_data(form=form, throttled_message=too_many_attempts_message(wait))
            return throttled_page(self.render_to_response(context), wait)
        return super().post(request, *args, **kwargs)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("home")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been changed."))
        return super().form_valid(form)


def password_reset_request(request):
    if request.method == "POST" and (wait := rate_limit_wait(request, "password_reset")):
        template = "accounts/password_reset_request.html"
        return _throttled_form(request, template, PasswordResetRequestForm, wait)
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        services.password_reset_request(phone=phone)
        # Answer the same whether the number has an account, an email, or neither.
        messages.info(
            request,
            _(
                "If an account uses this number, we have sent a reset link to its email "
                "or a code by SMS."
            ),
        )
        query = urlencode({"phone": phone})
        return redirect(f"{reverse('accounts:password_reset_code')}?{query}")
    return render(request, "accounts/password_reset_request.html", {"form": form})


def password_reset_code(request):
    if request.method == "POST" and (wait := rate_limit_wait(request, "password_reset_confirm")):
        return _throttled_form(request, "accounts/password_reset_code.html", PasswordResetCodeForm, wait)
    form = PasswordResetCodeForm(
        request.POST or None, initial={"phone": request.GET.get("phone", "")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_with_code(**form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your password has been reset. You can log in now."))
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_code.html", {"form": form})


class PasswordResetLinkView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_link.html"
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form):
        messages.success(self.request, _("Your password has been reset. You can log in now."))
        return super().form_valid(form)


@login_required
def home(request):
    """Send each role to its own start page."""
    return redirect(ROLE_HOME.get(request.user.role, "home"))


@login_required
def account(request):
    form = ProfileForm(
        request.POST or None,
        initial={"full_name": request.user.full_name, "email": request.user.email},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your details have been saved."))
            return redirect("accounts:account")
    return render(
        request,
        "accounts/account.html",
        {"form": form, "delete_form": DeleteAccountForm()},
    )


@login_required
def export(request):
    data = user_data_export(user=request.user)
    response = HttpResponse(
        # DjangoJSONEncoder: sections hold dates (a certificate's expiry), as the API's export does.
        json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder), content_type="application/json"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="cho-noi-data-{stamp}.json"'
    return response


@login_required
def delete(request):
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_delete(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            logout(request)
            messages.success(request, _("Your account has been deleted."))
            return redirect("home")
    return render(request, "accounts/delete.html", {"form": form})


def set_language(request):
    """Django's language switcher; a signed-in person's choice is also kept for their notices."""
    from django.views.i18n import set_language as django_set_language

    from .language import language_remember

    response = django_set_language(request)  # a GET only goes back, as Django's does
    if request.method == "POST":
        language_remember(user=request.user, language=request.POST.get("language", ""))
    return response
