"""Account pages: sign-up, login, password reset, profile, data export, deletion."""
import json
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
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

from . import codes, services
from .forms import (
    CodeForm,
    DeleteAccountForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetCodeForm,
    PasswordResetRequestForm,
    PhoneChangeForm,
    ProfileForm,
    SignupForm,
)
from .lockout import lockout_response
from .models import Role
from .phone import format_phone, normalize_phone_or_none
from .reauth import AccountLocked
from .selectors import user_data_export

ROLE_HOME = {
    Role.BUYER: "home",
    Role.FARMER: "farms:dashboard",
    Role.OFFICIAL: "official-home",
    Role.COURIER: "courier-home",
    Role.STAFF: "admin:index",
}


def _throttled_form(request, template: str, form_class, wait: int, context=None, **form_kwargs):
    """Answer a limited form post: 429, the form again with what was typed (passwords aside)."""
    typed = {
        key: value
        for key, value in request.POST.items()
        if key in form_class.base_fields and "password" not in key
    }
    form = form_class(initial=typed, **form_kwargs)
    context = {**(context or {}), "form": form, "throttled_message": too_many_attempts_message(wait)}
    return throttled_page(render(request, template, context), wait)


# The session holds the sign-up waiting for its code: its key, and the number to show.
SIGNUP_KEY, SIGNUP_PHONE = "signup_key", "signup_phone"


def signup(request):
    """Sign-up, step 1: the details; a code is texted to prove the number (`signup_verify`)."""
    if request.user.is_authenticated:
        return redirect("accounts:home")
    if request.method == "POST" and (wait := rate_limit_wait(request, "register")):
        return _throttled_form(request, "accounts/signup.html", SignupForm, wait)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key = codes.signup_request(**form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            request.session[SIGNUP_KEY] = key
            request.session[SIGNUP_PHONE] = normalize_phone_or_none(form.cleaned_data["phone"])
            return redirect("accounts:signup_verify")
    return render(request, "accounts/signup.html", {"form": form})


def signup_verify(request):
    """Sign-up, step 2: the code from the SMS creates the account and signs the person in."""
    key, phone = request.session.get(SIGNUP_KEY), request.session.get(SIGNUP_PHONE)
    if request.user.is_authenticated:
        return redirect("accounts:home")
    if not key or not phone:
        return redirect("accounts:signup")
    template = "accounts/signup_verify.html"
    context = {"phone": format_phone(phone), "minutes": settings.PHONE_CODE_MINUTES}
    if request.method == "POST":
        scope = "register" if "resend" in request.POST else "signup_confirm"
        if wait := rate_limit_wait(request, scope):
            return _throttled_form(request, template, CodeForm, wait, context=context)
    if request.method == "POST" and "resend" in request.POST:
        codes.signup_code_resend(key=key)
        messages.info(request, _("We have sent a new code. It replaces the one before."))
        return redirect("accounts:signup_verify")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = codes.signup_confirm(key=key, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            request.session.pop(SIGNUP_KEY, None)
            request.session.pop(SIGNUP_PHONE, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to Chợ Nổi!"))
            return redirect("accounts:home")
    return render(request, template, {**context, "form": form})


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


def _security_form(request, *, template: str, form_class, action, success: str, redirect_to: str,
                   context=None):
    """A page that changes how an account is reached or protected (password, email, phone, deletion).

    Limited per user (RATE_LIMITS["account_security"]); the current password is checked by the
    service, counted toward the lockout; a locked account gets the login's 429 page.
    """
    context = context or {}
    if request.method == "POST" and (wait := rate_limit_wait(request, "account_security")):
        return _throttled_form(request, template, form_class, wait, context=context)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            action(form.cleaned_data)
        except AccountLocked:
            logout(request)
            return lockout_response(request)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            if success:
                messages.success(request, success)
            return redirect(redirect_to)
    return render(request, template, {**context, "form": form})


@login_required
def password_change(request):
    def change(data):
        user = services.user_change_password(user=request.user, request=request, **data)
        update_session_auth_hash(request, user)  # this session stays signed in

    return _security_form(
        request,
        template="accounts/password_change.html",
        form_class=PasswordChangeForm,
        action=change,
        success=_("Your password has been changed."),
        redirect_to="accounts:account",
    )


@login_required
def phone_change(request):
    """Change the phone number, step 1: the new number and the current password."""
    return _security_form(
        request,
        template="accounts/phone_change.html",
        form_class=PhoneChangeForm,
        action=lambda data: codes.phone_change_request(user=request.user, request=request, **data),
        success="",
        redirect_to="accounts:phone_verify",
    )


@login_required
def phone_verify(request):
    """Change the phone number, step 2: the code texted to the new number."""
    template = "accounts/phone_verify.html"
    context = {"minutes": settings.PHONE_CODE_MINUTES}
    if request.method == "POST" and (wait := rate_limit_wait(request, "signup_confirm")):
        return _throttled_form(request, template, CodeForm, wait, context=context)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes.phone_change_confirm(user=request.user, code=form.cleaned_data["code"])
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your phone number has been changed."))
            return redirect("accounts:account")
    return render(request, template, {**context, "form": form})


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
    template = "accounts/account.html"
    context = {"delete_form": DeleteAccountForm()}
    initial = {"full_name": request.user.full_name, "email": request.user.email}
    new_email = (request.POST.get("email") or "").strip().lower()
    # A new email is a security change: the same limit as the password's.
    if (
        request.method == "POST"
        and new_email != request.user.email
        and (wait := rate_limit_wait(request, "account_security"))
    ):
        return _throttled_form(request, template, ProfileForm, wait, context=context)
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update_profile(user=request.user, request=request, **form.cleaned_data)
        except AccountLocked:
            logout(request)
            return lockout_response(request)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Your details have been saved."))
            return redirect("accounts:account")
    return render(request, template, {**context, "form": form})


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
    def delete_account(data):
        services.user_delete(user=request.user, request=request, **data)
        logout(request)

    return _security_form(
        request,
        template="accounts/delete.html",
        form_class=DeleteAccountForm,
        action=delete_account,
        success=_("Your account has been deleted."),
        redirect_to="home",
    )


def set_language(request):
    """Django's language switcher; a signed-in person's choice is also kept for their notices."""
    from django.views.i18n import set_language as django_set_language

    from .language import language_remember

    response = django_set_language(request)  # a GET only goes back, as Django's does
    if request.method == "POST":
        language_remember(user=request.user, language=request.POST.get("language", ""))
    return response
