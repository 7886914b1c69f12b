"""Proving a phone number with a one-time code: sign-up, and changing an account's number.

Two steps each. The first records what the person asked (`signup_request`,
`phone_change_request`) and enqueues `phone_code_send`; it answers the same, and does the same
work, whether or not the number already has an account. The task texts a 6-digit code to the
number, or, when the number belongs to someone else, sends no code and tells that owner that
someone tried. The second step (`signup_confirm`, `phone_change_confirm`) takes the code: its
hash only is kept, it expires after PHONE_CODE_MINUTES, and PASSWORD_RESET_CODE_ATTEMPTS
wrong tries end it. Messages to one number are limited (RATE_LIMITS["phone_messages"]).
"""
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from marketplace.notifications.services import sms_send_now
from marketplace.outbox.services import enqueue
from marketplace.throttling import rate_limit_take

from .models import SELF_SERVICE_ROLES, CodePurpose, PhoneVerification, Role, User
from .phone import normalize_phone
from .reauth import password_confirm
from .services import PHONE_TAKEN, Change, account_change_announce, user_create

INVALID_CODE = gettext_lazy("The code is wrong or has expired. Ask for a new code.")


def _expiry():
    return timezone.now() + timedelta(minutes=settings.PHONE_CODE_MINUTES)


def _record_and_send(*, purpose: str, phone: str, user=None, payload=None) -> PhoneVerification:
    """Record a code request and enqueue its sending.

    A phone change ends the same account's earlier requests; a sign-up ends nothing, since
    anyone may ask for any number and must not be able to end someone else's sign-up.
    """
    from .tasks import send_phone_code

    with transaction.atomic():
        if user is not None:
            PhoneVerification.objects.filter(
                purpose=purpose, user=user, used_at=None, dead_at=None
            ).update(dead_at=timezone.now())
        verification = PhoneVerification.objects.create(
            purpose=purpose, phone=phone, user=user, payload=payload or {}, expires_at=_expiry()
        )
        enqueue(send_phone_code, verification.pk)
    return verification


def signup_request(
    *,
    phone: str,
    password: str,
    full_name: str,
    role: str,
    email: str = "",
    privacy_consent: bool,
    language: str = "",
) -> str:
    """Check a sign-up and text a code to prove the number; the account is made by the code.

    Return the sign-up's key, which `signup_confirm` needs with the code: only whoever asked
    holds it. Raises ValidationError with field messages for what can be told without looking
    up the number (its format, the name, the password, the role, consent); never for a taken
    number, which gets a key like any other (its code is never sent).
    """
    errors = {}
    if role not in SELF_SERVICE_ROLES:
        errors["role"] = [_("Only buyers and farmers can sign up here.")]
    if not privacy_consent:
        errors["privacy_consent"] = [_("You must accept the privacy notice to sign up.")]
    try:
        phone = normalize_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    full_name = (full_name or "").strip()
    if not full_name:
        errors["full_name"] = [_("Enter your full name.")]
    email = (email or "").strip().lower()
    candidate = User(
        phone=phone if "phone" not in errors else "", full_name=full_name, email=email, role=role
    )
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    language = language or translation.get_language() or ""
    payload = {
        "full_name": full_name,
        "email": email,
        "role": role,
        "password_hash": make_password(password),
        "language": language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE,
    }
    return _record_and_send(purpose=CodePurpose.SIGNUP, phone=phone, payload=payload).key


def signup_code_resend(*, key: str) -> None:
    """Text a new code for the sign-up `key` (nothing if it is over, or its number is taken)."""
    from .tasks import send_phone_code

    with transaction.atomic():
        pending = (
            PhoneVerification.objects.select_for_update()
            .filter(
                key=str(key or ""),
                purpose=CodePurpose.SIGNUP,
                used_at=None,
                dead_at=None,
                created_at__gt=timezone.now() - timedelta(hours=24),
            )
            .first()
        )
        if pending is None:
            return
        # The earlier code ends: a new one is made and sent by the task.
        pending.code_hash, pending.sent_at, pending.attempts = "", None, 0
        pending.expires_at = _expiry()
        pending.save(update_fields=["code_hash", "sent_at", "attempts", "expires_at"])
        enqueue(send_phone_code, pending.pk)


def _take_code(queryset, code: str) -> PhoneVerification | None:
    """Lock the newest open code of `queryset` and spend it if `code` matches, else count a miss.

    Runs inside the caller's transaction. Returns None on a wrong code: the caller lets its
    transaction commit (so the try counts) and then raises. No usable code raises at once.
    """
    verification = queryset.select_for_update().order_by("-created_at").first()
    if verification is None or not verification.is_usable():
        raise ValidationError({"code": [str(INVALID_CODE)]})
    if not check_password((code or "").strip(), verification.code_hash):
        verification.attempts += 1
        verification.save(update_fields=["attempts"])
        return None
    verification.used_at = timezone.now()
    verification.save(update_fields=["used_at"])
    return verification


def signup_confirm(*, key: str, code: str) -> User:
    """Create the account of sign-up `key` when `code` is its code; raise ValidationError otherwise."""
    with transaction.atomic():
        verification = _take_code(
            PhoneVerification.objects.filter(
                key=str(key or ""), purpose=CodePurpose.SIGNUP, used_at=None, dead_at=None
            ),
            code,
        )
        if verification is not None:
            data = verification.payload
            verification.payload = {}  # the typed details and password hash are not kept
            verification.save(update_fields=["payload"])
            return user_create(
                phone=verification.phone,
                password=None,
                password_hash=data["password_hash"],
                full_name=data["full_name"],
                role=data["role"] if data["role"] in SELF_SERVICE_ROLES else Role.BUYER,
                email=data.get("email", ""),
                privacy_consent=True,
                language=data.get("language", ""),
            )
    # Raised after the block commits: raising inside it would roll back the counted try.
    raise ValidationError({"code": [str(INVALID_CODE)]})


def phone_change_request(*, user: User, request, phone: str, current_password: str) -> None:
    """Check the password and text a code to the new number; the number changes by the code."""
    try:
        phone = normalize_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from None
    password_confirm(request=request, user=user, password=current_password)
    if phone == user.phone:
        raise ValidationError({"phone": [_("This is already your phone number.")]})
    _record_and_send(purpose=CodePurpose.PHONE_CHANGE, phone=phone, user=user)


def phone_change_confirm(*, user: User, code: str) -> User:
    """Move the account to the number the code was sent to; tell the old number."""
    with transaction.atomic():
        verification = _take_code(
            PhoneVerification.objects.filter(
                purpose=CodePurpose.PHONE_CHANGE, user=user, used_at=None, dead_at=None
            ),
            code,
        )
        if verification is not None:
            if User.objects.filter(phone=verification.phone).exclude(pk=user.pk).exists():
                raise ValidationError({"phone": [str(PHONE_TAKEN)]})
            old_phone = user.phone
            user.phone = verification.phone
            try:
                with transaction.atomic():
                    user.save(update_fields=["phone"])
            except IntegrityError:  # taken a moment ago: the unique index decides
                raise ValidationError({"phone": [str(PHONE_TAKEN)]}) from None
            account_change_announce(user=user, change=Change.PHONE, old_phone=old_phone)
            return user
    raise ValidationError({"code": [str(INVALID_CODE)]})


def phone_code_send(*, verification: PhoneVerification) -> bool:
    """Text the code of `verification`, or tell a taken number's owner; True if a code went.

    Safe to run twice: a code already sent is not sent again.
    """
    with transaction.atomic():
        verification = PhoneVerification.objects.select_for_update().get(pk=verification.pk)
        if verification.sent_at or verification.used_at or verification.dead_at:
            return False
        owner = User.objects.filter(phone=verification.phone).exclude(pk=verification.user_id).first()
        # Counted per purpose: codes asked by strangers cannot use up a number's reset messages.
        allowed = rate_limit_take("phone_messages", f"{verification.purpose}:{verification.phone}")
        if owner is not None or not allowed:
            verification.dead_at = timezone.now()
            verification.save(update_fields=["dead_at"])
        else:
            code = f"{secrets.randbelow(1_000_000):06d}"
            verification.code_hash = make_password(code)
            verification.sent_at = timezone.now()
            verification.save(update_fields=["code_hash", "sent_at"])
    if not allowed:
        return False
    if owner is not None:
        with translation.override(owner.language or settings.LANGUAGE_CODE):
            if verification.purpose == CodePurpose.SIGNUP:
                body = _(
                    "Chợ Nổi: someone tried to use your number for a new account. You already "
                    "have one: log in, or reset your password if you forgot it. If it was not "
                    "you, ignore this message."
                )
            else:
                body = _(
                    "Chợ Nổi: someone tried to move another account to your number. Your own "
                    "account is unchanged; nothing else is needed."
                )
            sms_send_now(phone=owner.phone, body=body)
        return False
    language = (
        verification.user.language if verification.user_id else verification.payload.get("language")
    )
    with translation.override(language or settings.LANGUAGE_CODE):
        sms_send_now(
            phone=verification.phone,
            body=_(
                "Chợ Nổi: your code is %(code)s. It expires in %(minutes)s minutes. "
                "Never give it to anyone."
            )
            % {"code": code, "minutes": settings.PHONE_CODE_MINUTES},
        )
    return True


def phone_codes_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete code requests expired for a while (a sign-up's details go with them)."""
    deleted, _unused = PhoneVerification.objects.filter(
        expires_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
