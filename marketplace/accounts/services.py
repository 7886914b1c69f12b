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
from marketplace.outbox.services import enqueue
from marketplace.throttling import rate_limit_take

from .hooks import user_anonymised
from .models import PasswordResetCode, PhoneVerification, Role, User
from .phone import normalize_phone, normalize_phone_or_none
from .reauth import password_confirm

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
    password_hash: str = "",
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
    elif password_hash:
        user.password = password_hash
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


def user_update_profile(
    *,
    user: User,
    request,
    full_name: str | None = None,
    email: str | None = None,
    current_password: str = "",
) -> User:
    """Change the fields a user may edit about themselves.

    A new email changes where password resets go, so it needs the current password (counted
    toward the lockout) and the old email and the phone are told.
    """
    fields = []
    if full_name is not None:
        if not full_name.strip():
            raise ValidationError({"full_name": [_("Enter your full name.")]})
        user.full_name = full_name.strip()
        fields.append("full_name")
    old_email = user.email
    if email is not None and email.strip().lower() != old_email:
        if not current_password:
            raise ValidationError(
                {"current_password": [_("Enter your current password to change your email.")]}
            )
        password_confirm(request=request, user=user, password=current_password)
        user.email = email.strip().lower()
        fields.append("email")
    if fields:
        user.save(update_fields=fields)
    if "email" in fields:
        account_change_announce(user=user, change=Change.EMAIL, old_email=old_email)
    return user


def user_change_password(*, user: User, request, old_password: str, new_password: str) -> User:
    """Set a new password after the current one is confirmed; other sessions and tokens end."""
    password_confirm(request=request, user=user, password=old_password, field="old_password")
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    Token.objects.filter(user=user).delete()
    account_change_announce(user=user, change=Change.PASSWORD)
    return user


def token_for(*, user: User) -> str:
    token, _created = Token.objects.get_or_create(user=user)
    return token.key


def token_revoke(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


def password_reset_request(*, phone: str) -> None:
    """Ask for a reset link or code for `phone`; the work (and any message) happens in a task.

    The request does the same work whether or not the number has an account (one outbox row),
    so neither its answer nor its time tells an attacker which numbers are registered.
    """
    from .tasks import send_password_reset

    normalized = normalize_phone_or_none(phone)
    if normalized:
        enqueue(send_password_reset, normalized)


def password_reset_send(*, phone: str) -> str | None:
    """Send a reset link by email, or a code by SMS when the account has no email.

    Return "email", "sms" or None (no such account, or a limit reached). Messages to one number
    are limited whoever asks (RATE_LIMITS["phone_messages"]); SMS codes are also limited per
    account (one a minute, PASSWORD_RESET_SMS_PER_HOUR an hour).
    """
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        return None
    now = timezone.now()
    recent = PasswordResetCode.objects.filter(user=user, created_at__gt=now - timedelta(hours=1))
    if not user.email and (
        recent.count() >= settings.PASSWORD_RESET_SMS_PER_HOUR
        or recent.filter(created_at__gt=now - timedelta(minutes=1)).exists()
    ):
        return None
    if not rate_limit_take("phone_messages", f"reset:{user.phone}"):
        return None
    with translation.override(user.language or settings.LANGUAGE_CODE):
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


def user_delete(*, user: User, request, password: str) -> None:
    """Delete an account after its password is confirmed (counted toward the lockout)."""
    password_confirm(request=request, user=user, password=password, field="password")
    old_phone, old_email = user.phone, user.email
    user_anonymise(user=user)
    account_change_announce(user=user, change=Change.DELETED, old_phone=old_phone, old_email=old_email)


def user_anonymise(*, user: User) -> None:
    """Wipe an account's personal data as the personal data law asks, keeping its records.

    The row stays (orders point at it) but holds nothing that identifies the person.
    """
    # Rows kept by phone or email, not by a link to the account (login records, queued tasks),
    # are found with what the account had.
    former_phone, former_email = user.phone, user.email
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
        PhoneVerification.objects.filter(user=user).delete()
        # Other sessions die by themselves: the password hash they were signed with changed.
        user_anonymised.send(sender=User, user=user, former_phone=former_phone, former_email=former_email)


class Change:
    """What `account_change_announce` tells a person about."""

    PASSWORD = "password"
    EMAIL = "email"
    PHONE = "phone"
    DELETED = "deleted"


def account_change_announce(*, user: User, change: str, old_phone: str = "", old_email: str = "") -> None:
    """Tell the person, at the phone and email the account had before, that it changed (a task)."""
    from .tasks import tell_account_changed

    enqueue(
        tell_account_changed,
        user.pk,
        change,
        old_phone or user.phone,
        old_email if old_email or change in (Change.EMAIL, Change.DELETED) else user.email,
    )


def _mask_email(email: str) -> str:
    name, _at, domain = email.partition("@")
    return f"{name[:1]}***@{domain}" if domain else "***"


def _mask_phone(phone: str) -> str:
    from .phone import format_phone

    shown = format_phone(phone)
    return shown[:4] + " *** " + shown[-3:] if len(shown) > 8 else "***"


def account_change_tell(*, user: User, change: str, phone: str, email: str) -> None:
    """Send the notice of a security change to `phone` and `email` (the old ones)."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        advice = _("If it was not you, reset your password at once and contact Chợ Nổi.")
        if change == Change.PASSWORD:
            text = _("The password of your Chợ Nổi account was changed.")
        elif change == Change.EMAIL:
            text = (
                _("The email of your Chợ Nổi account was changed to %(email)s.")
                % {"email": _mask_email(user.email)}
                if user.email
                else _("The email of your Chợ Nổi account was removed.")
            )
        elif change == Change.PHONE:
            text = _("The phone number of your Chợ Nổi account was changed to %(phone)s.") % {
                "phone": _mask_phone(user.phone)
            }
        else:
            text = _("Your Chợ Nổi account was deleted.")
            advice = _("If it was not you, contact Chợ Nổi at once.")
        body = f"{text} {advice}"
        if phone and not phone.startswith("deleted:"):
            sms_send_now(phone=phone, body=f"Chợ Nổi: {body}")
        if email:
            email_send_now(to=email, subject=_("Your Chợ Nổi account changed"), body=body)
