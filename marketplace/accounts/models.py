"""Users log in with a Vietnamese mobile number and have exactly one role."""
import secrets

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .phone import format_phone, normalize_phone_or_none


class Role(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    FARMER = "farmer", _("Farmer")
    OFFICIAL = "official", _("Agricultural official")
    COURIER = "courier", _("Courier")
    STAFF = "staff", _("Staff")


#: Roles people may choose when they sign up themselves; the others are created by staff.
SELF_SERVICE_ROLES = (Role.BUYER, Role.FARMER)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        # "0912 345 678", "0912345678" and "+84 912 345 678" are one login.
        return self.get(phone=normalize_phone_or_none(username) or username)

    def create_user(self, phone, password=None, **fields):
        from .services import user_create

        return user_create(phone=phone, password=password, **fields)

    def create_superuser(self, phone, password=None, **fields):
        from .services import user_create

        fields.setdefault("full_name", "Admin")
        fields["role"] = Role.STAFF
        user = user_create(phone=phone, password=password, **fields)
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
        return user


class User(AbstractBaseUser, PermissionsMixin):
    phone = models.CharField(
        _("phone number"),
        max_length=32,
        unique=True,
        help_text=_("Vietnamese mobile number, stored as +84…"),
    )
    full_name = models.CharField(_("full name"), max_length=150)
    email = models.EmailField(_("email"), blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.BUYER)
    # Officials see either the whole city or only the wards listed here.
    city_wide = models.BooleanField(
        _("city-wide scope"),
        default=False,
        help_text=_("For officials: sees every ward of the city."),
    )
    wards = models.ManyToManyField(
        "geo.Ward",
        verbose_name=_("wards"),
        blank=True,
        related_name="officials",
        help_text=_("For officials without city-wide scope: the wards they look after."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("can use the admin"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # What notices (in-app, SMS, email) are written in: the language chosen at sign-up or with
    # the switcher since. Vietnamese unless the person picked English.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    privacy_consent_at = models.DateTimeField(_("privacy notice accepted at"), null=True, blank=True)
    privacy_notice_version = models.CharField(max_length=16, blank=True)
    anonymised_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        indexes = [models.Index(fields=["role"])]

    def __str__(self):
        return f"{self.full_name} ({self.phone_display})"

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[-1] if self.full_name else ""

    def has_role(self, *roles) -> bool:
        return self.is_authenticated and self.role in roles


class PasswordResetCode(models.Model):
    """A one-time code sent by SMS to reset a password; only its hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reset_codes")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"reset code #{self.pk} for user {self.user_id}"

    def is_usable(self, now=None) -> bool:
        from django.conf import settings

        now = now or timezone.now()
        return (
            self.used_at is None
            and now < self.expires_at
            and self.attempts < settings.PASSWORD_RESET_CODE_ATTEMPTS
        )


class CodePurpose(models.TextChoices):
    SIGNUP = "signup", _("sign-up")
    PHONE_CHANGE = "phone_change", _("phone number change")


def _verification_key() -> str:
    return secrets.token_urlsafe(24)


class PhoneVerification(models.Model):
    """A one-time code that proves a person holds a phone number, before it becomes a login.

    A sign-up keeps what the person typed in `payload` (the password only as its hash) until
    the code is entered; a phone change keeps the user. Only the code's hash is stored. The
    code is made and sent by a task, so asking costs the same whether or not the number is
    taken; for a taken number no code is sent (`dead_at` is set) and its owner is told.

    A sign-up is confirmed with its `key` (given to whoever asked) and the code: someone else
    asking for the same number starts a sign-up of their own and cannot end or finish this one.
    """

    key = models.CharField(max_length=40, unique=True, default=_verification_key, editable=False)
    purpose = models.CharField(max_length=16, choices=CodePurpose.choices)
    phone = models.CharField(max_length=32)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, null=True, blank=True, related_name="phone_verifications"
    )
    payload = models.JSONField(default=dict, blank=True)
    code_hash = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone", "purpose", "-created_at"])]

    def __str__(self):
        return f"{self.purpose} code #{self.pk}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            bool(self.code_hash)
            and self.used_at is None
            and self.dead_at is None
            and now < self.expires_at
            and self.attempts < settings.PASSWORD_RESET_CODE_ATTEMPTS
        )
