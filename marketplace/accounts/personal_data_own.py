"""Accounts' entries in the personal data registry: the account itself, and the models of Django
and the libraries below every app (the admin's log, the login lock's records, sessions, tokens).

Registered from `AccountsConfig.ready()`; each domain app registers its own models the same way.
"""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from rest_framework.authtoken.models import Token

from marketplace.geo.models import Ward, WardAlias
from marketplace.outbox.models import OutboxMessage

from .models import PasswordResetCode, User
from .personal_data import (
    Kind,
    blank,
    elsewhere,
    personal_data_exempt,
    personal_data_register,
    replace,
)

WIPED_BY_ACCOUNTS = "accounts.services.user_anonymise replaces it before the registry runs"
ACTOR = (
    "who did it (staff, an official, a courier): a work record; the account row it points at "
    "is itself anonymised when that person leaves, so the link names nobody afterwards"
)


def admin_log_rows(model, owner: str | None):
    """The admin's log entries about the person's rows of `model` (their text names the row)."""

    def rows(user, **_kwargs):
        objects = model._default_manager.filter(**({owner: user} if owner else {"pk": user.pk}))
        ids = [str(pk) for pk in objects.values_list("pk", flat=True)]
        content_type = ContentType.objects.get_for_model(model)
        return LogEntry.objects.filter(content_type=content_type, object_id__in=ids)

    return rows


def admin_log_register(model, *, owner: str | None) -> None:
    """Register the admin log entries about `model`'s rows of a person: their text becomes `#<id>`."""
    personal_data_register(
        LogEntry,
        label=f"admin.logentry ({model._meta.label_lower})",
        rows=admin_log_rows(model, owner),
        fields=[replace("object_repr", Kind.NAME, lambda entry: f"#{entry.object_id}")],
        context=("action_time", "action_flag"),
    )


def _phones(user, former_phone) -> set[str]:
    return {p for p in (user.phone, former_phone) if p and not p.startswith("deleted:")}


def _by_phone(model):
    def rows(user, *, former_phone=None, **_kwargs):
        return model._default_manager.filter(username__in=_phones(user, former_phone))

    return rows


def _outbox_rows(user, *, former_phone=None, former_email=None, **_kwargs):
    """Queued tasks whose arguments carry the person's phone or email (a reset code's number)."""
    needles = _phones(user, former_phone) | {e for e in (user.email, former_email) if e}
    if not needles:
        return OutboxMessage.objects.none()
    found = Q()
    for needle in needles:
        found |= Q(args_text__contains=needle) | Q(kwargs_text__contains=needle)
    return OutboxMessage.objects.annotate(
        args_text=Cast("args", TextField()), kwargs_text=Cast("kwargs", TextField())
    ).filter(found)


def register() -> None:
    personal_data_register(
        User,
        label="accounts.user",
        rows=lambda user, **_kwargs: User.objects.filter(pk=user.pk),
        fields=[
            elsewhere("phone", Kind.PHONE, WIPED_BY_ACCOUNTS),
            elsewhere("full_name", Kind.NAME, WIPED_BY_ACCOUNTS),
            elsewhere("email", Kind.EMAIL, WIPED_BY_ACCOUNTS),
        ],
        context=("role", "date_joined"),
    )
    personal_data_exempt(
        User,
        {
            "privacy_notice_version": "the version of the notice accepted, the same for everyone",
            "password": "a salted hash, never exported; made unusable at deletion",
        },
    )
    admin_log_register(User, owner=None)
    personal_data_exempt(
        LogEntry,
        {
            "user": ACTOR,
            "object_id": "the id of the row changed",
            "change_message": "names the fields changed, never their values",
        },
    )
    # The login lock (django-axes) keeps the normalised phone, the address and the browser of
    # each login and each failure: found by phone, deleted with the account.
    for model in (AccessLog, AccessAttempt, AccessFailureLog):
        requests = [blank("get_data", Kind.TEXT), blank("post_data", Kind.TEXT)]
        extra = requests if model is AccessAttempt else []
        personal_data_register(
            model,
            rows=_by_phone(model),
            fields=[
                blank("username", Kind.PHONE),
                blank("ip_address", Kind.NETWORK),
                blank("user_agent", Kind.NETWORK),
                *extra,
            ],
            context=("attempt_time",),
            delete_rows=True,
        )
    personal_data_exempt(
        Token, {"user": "a login secret, never exported; user_anonymise deletes it with the account"}
    )
    personal_data_exempt(
        PasswordResetCode,
        {"user": "only the hash of a one-time code; user_anonymise deletes them with the account"},
    )
    personal_data_exempt(
        Session,
        {
            "session_data": "signed ids (the account, the cart) and the language; a deleted account's "
            "sessions stop working at once (its password hash changed) and expire with the cookie"
        },
    )
    personal_data_exempt(Group, {"name": "the name of a staff permission group"})
    personal_data_exempt(Permission, {"name": "the name of a permission", "codename": "a permission's code"})
    # Tasks carry ids, except those that must reach a number or an address that is no account's
    # yet or any more (a reset code, the notice that an account changed): found by them.
    personal_data_register(
        OutboxMessage,
        rows=_outbox_rows,
        fields=[blank("args", Kind.RECORD), blank("kwargs", Kind.RECORD)],
        context=("task", "created_at", "sent_at"),
        delete_rows=True,  # a pending one is a code or notice for an account that is gone
    )
    place = "a place name of the seeded ward list"
    personal_data_exempt(
        Ward, dict.fromkeys(("name", "full_name", "name_en", "full_name_en", "name_folded"), place)
    )
    personal_data_exempt(WardAlias, dict.fromkeys(("name", "short_name", "name_folded"), place))
    _register_phone_verification()


def _register_phone_verification() -> None:
    from .models import PhoneVerification

    personal_data_register(
        PhoneVerification,
        owner="user",
        fields=[blank("phone", Kind.PHONE), blank("payload", Kind.RECORD)],
        context=("purpose", "created_at"),
        delete_rows=True,
    )
