"""Asking a signed-in person for their current password again, counted like a login.

Every place that checks a password outside the login itself (changing the password, the email
or the phone, deleting the account) goes through `password_confirm`: a wrong password counts
toward the same per-account lockout as a wrong login (django-axes, keyed by the phone), and a
locked account is refused before the password is even looked at. A stolen session or token
therefore gives no more guesses than the login page does.
"""
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class AccountLocked(Exception):
    """Too many wrong passwords for this account: answer 429 (`lockout.lockout_response`)."""


def _django_request(request):
    # A DRF Request wraps Django's; axes reads and marks the Django one.
    return getattr(request, "_request", request)


def password_confirm(*, request, user, password: str, field: str = "current_password") -> None:
    """Raise ValidationError on `field` unless `password` is the user's; AccountLocked if locked."""
    django_request = _django_request(request)
    credentials = {"username": user.phone}
    AxesProxyHandler.update_request(django_request)
    if AxesProxyHandler.is_locked(django_request, credentials):
        raise AccountLocked
    if user.check_password(password or ""):
        return
    user_login_failed.send(sender=type(user), credentials=credentials, request=django_request)
    if AxesProxyHandler.is_locked(django_request, credentials):
        raise AccountLocked
    raise ValidationError({field: [_("Your current password is wrong.")]})
