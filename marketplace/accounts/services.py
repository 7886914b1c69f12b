"""Everything that writes accounts: sign-up, roles, password reset, deletion."""
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.models import Token

from marketplace.notifications.services import email_send_now, sms_send_now

from .hooks import user_anonymised
from .models import SELF_SERVICE_ROLES, PasswordResetCode, Role, User
from .phone import normalize_phone, normalize_phone_or_none

PHONE_TAKEN = gettext_lazy("An account with this phone number already exists.")


def phone_normalize_unique(raw: str, *, exclude_pk: int | None = None) -> str:
    """Return the canonical phone, or raise ValidationError when it is invalid or taken."""
    phone = normalize_phone(raw)
    if User.objects.filter(phone=phone).exclude(pk=exclude_pk).exists():
        raise ValidationError(PHONE_TAKEN, code="phone_taken")
    return phone


def user_create(
    *,
    phone: str,
    password: str | None,
    full_name: str,
    role: str = Role.BUYER,
    email: str = "",
    wards=(),
    city_wide: bool = False,
    privacy_consent: bool = False,
    validate_password: bool = True,
    language: str = "",
) -> User:
    """Create a user with a normalised phone; raise ValidationError with field messages."""
    errors = {}
    try:
        phone = phone_normalize_unique(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    full_name = (full_name or "").strip()
    if not full_name:
        errors["full_name"] = [_("Enter your full name.")]
    if role not in Role.values:
        errors["role"] = [_("Unknown role.")]
    if role == Role.OFFICIAL and not city_wide and not wards:
        # An official with neither would see nothing and could verify no one.
        errors["wards"] = [_("Give an official at least one ward, or city-wide scope.")]
    user = User(
        phone=phone if "phone" not in errors else "",
        full_name=full_name,
        email=(email or "").strip().lower(),
        role=role,
        city_wide=bool(city_wide) and role == Role.OFFICIAL,
        is_staff=role == Role.STAFF,
        language=language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
    )
    if password and validate_password:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    if privacy_consent:
        user.privacy_consent_at = timezone.now()
        user.privacy_notice_version = settings.PRIVACY_NOTICE_VERSION
    try:
        with transaction.atomic():
            user.save()
            if role == Role.OFFICIAL and wards:
                user.wards.set(wards)
    except IntegrityError:
        # Two sign-ups with one number at the same moment: the unique index decides.
        raise ValidationError({"phone": [str(PHONE_TAKEN)]}) from None
    return user


def user_register(
    *, phone: str, password: str, full_name: str, role: str, email: str = "", privacy_consent: bool
) -> User:
    """Sign up a buyer or a farmer who accepted the privacy notice, in the language they use now."""
    errors = {}
    if role not in SELF_SERVICE_ROLES:
        errors["role"] = [_("Only buyers and farmers can sign up here.")]
    if not privacy_consent:
        errors["privacy_consent"] = [_("You must accept the privacy notice to sign up.")]
    if errors:
        raise ValidationError(errors)
    return user_create(
        phone=phone,
        password=password,
        full_name=full_name,
        role=role,
        email=email,
        privacy_consent=True,
        language=translation.get_language() or "",
    )


def user_update_profile(*, user: User, full_name: str | None = None, email: str | None = None) -> User:
    """Change the fields a user may edit about themselves."""
    if full_name is not None:
        if not full_name.strip():
            raise ValidationError({"full_name": [_("Enter your full name.")]})
        user.full_name = full_name.strip()
    if email is not None:
        user.email = email.strip().lower()
    user.save(update_fields=["full_name", "email"])
    return user


def user_change_password(*, user: User, old_password: str, new_password: str) -> User:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": [_("Your current password is wrong.")]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    Token.objects.filter(user=user).delete()
    return user


def token_for(*, user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key


def token_revoke(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


def password_reset_request(*, phone: str) -> str | None:
    """Send a reset link by email, or a code by SMS when the account has no email.

    Return "email", "sms" or None (no such account, or the SMS limit reached);
    callers must not reveal which. SMS codes are limited per account (one a minute,
    PASSWORD_RESET_SMS_PER_HOUR an hour) so nobody can flood a number with texts.
    """
    normalized = normalize_phone_or_none(phone)
    user = (
        User.objects.filter(phone=normalized, is_active=True).first() if normalized else None
    )
    if user is None:
        return None
    if user.email:
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        link = settings.SITE_URL.rstrip("/") + reverse(
            "accounts:password_reset_link", kwargs={"uidb64": uid, "token": token}
        )
        email_send_now(
            to=user.email,
            subject=_("Reset your Chợ Nổi password"),
            body=_(
                "Someone asked to reset the password of your Chợ Nổi account. "
                "Open this link within one hour to choose a new one: %(link)s\n"
                "If it was not you, ignore this message."
            )
            % {"link": link},
        )
        return "email"
    now = timezone.now()
    recent = PasswordResetCode.objects.filter(user=user, created_at__gt=now - timedelta(hours=1))
    if (
        recent.count() >= settings.PASSWORD_RESET_SMS_PER_HOUR
        or recent.filter(created_at__gt=now - timedelta(minutes=1)).exists()
    ):
        return None
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        # A new code replaces any earlier one.
        PasswordResetCode.objects.filter(user=user, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        PasswordResetCode.objects.create(
            user=user,
            code_hash=make_password(code),
            expires_at=timezone.now() + timedelta(minutes=settings.PASSWORD_RESET_CODE_MINUTES),
        )
    sms_send_now(
        phone=user.phone,
        body=_("Chợ Nổi: your password reset code is %(code)s. It expires in %(minutes)s minutes.")
        % {"code": code, "minutes": settings.PASSWORD_RESET_CODE_MINUTES},
    )
    return "sms"


INVALID_CODE = gettext_lazy("The code is wrong or has expired. Ask for a new code.")


def password_reset_with_code(*, phone: str, code: str, new_password: str) -> User:
    """Set a new password when the SMS code matches; each wrong try counts."""
    normalized = normalize_phone_or_none(phone)
    with transaction.atomic():
        reset = (
            PasswordResetCode.objects.select_for_update()
            .select_related("user")
            .filter(user__phone=normalized, user__is_active=True, used_at__isnull=True)
            .order_by("-created_at")
            .first()
            if normalized
            else None
        )
        if reset is None or not reset.is_usable():
            raise ValidationError({"code": [str(INVALID_CODE)]})
        if check_password((code or "").strip(), reset.code_hash):
            user = reset.user
            try:
                password_validation.validate_password(new_password, user)
            except ValidationError as exc:
                raise ValidationError({"new_password": exc.messages}) from None
            reset.used_at = timezone.now()
            reset.save(update_fields=["used_at"])
            user.set_password(new_password)
            user.save(update_fields=["password"])
            Token.objects.filter(user=user).delete()
            return user
        reset.attempts += 1
        reset.save(update_fields=["attempts"])
    # Raised after the block commits: raising inside it would roll back the counted try.
    raise ValidationError({"code": [str(INVALID_CODE)]})


def password_reset_codes_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _unused = PasswordResetCode.objects.filter(
        expires_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


def user_delete(*, user: User, password: str) -> None:
    """Delete an account as the personal data law asks: wipe personal data, keep records.

    The row stays (orders point at it) but holds nothing that identifies the person.
    """
    if not user.check_password(password):
        raise ValidationError({"password": [_("Your password is wrong.")]})
    with transaction.atomic():
        user.phone = f"deleted:{user.pk}"
        user.full_name = _("Deleted user")
        user.email = ""
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.city_wide = False
        user.set_unusable_password()
        user.anonymised_at = timezone.now()
        user.save()
        user.wards.clear()
        user.groups.clear()
        user.user_permissions.clear()
        Token.objects.filter(user=user).delete()
        PasswordResetCode.objects.filter(user=user).delete()
        # Other sessions die by themselves: the password hash they were signed with changed.
        user_anonymised.send(sender=User, user=user)

