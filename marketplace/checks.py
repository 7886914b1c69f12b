"""What production may not run with, refused twice: when the settings load with
`DJANGO_ENV=production` (ImproperlyConfigured, like a missing SECRET_KEY), and by
`manage.py check --deploy` whatever built the settings (a settings module of its own, a test).

- An SMS or email backend that prints messages, writes them to a file, keeps them in memory or
  drops them: reset codes and links would land in the server's log (or nowhere) instead of with
  the person who asked.
- A cache that each process keeps for itself (locmem) or no cache at all (dummy) under the rate
  limits (marketplace/throttling.py counts in the default cache) or under django-axes when it
  counts in a cache: every gunicorn worker would count apart, so two workers allow twice a limit.

This module imports nothing from Django at load time: the settings module uses it.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

UNSENT_SMS = {
    "marketplace.notifications.sms.ConsoleSMSBackend": "prints every message, reset codes included, "
    "to the server's output",
    "marketplace.notifications.sms.FileSMSBackend": "writes every message, reset codes included, to a file",
}
UNSENT_EMAIL = {
    "django.core.mail.backends.console.EmailBackend": "prints every email, reset links included, "
    "to the server's output",
    "django.core.mail.backends.filebased.EmailBackend": "writes every email, reset links included, to files",
    "django.core.mail.backends.locmem.EmailBackend": "keeps every email in the process's memory",
    "django.core.mail.backends.dummy.EmailBackend": "throws every email away",
}
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "each process's own memory",
    "django.core.cache.backends.dummy.DummyCache": "no cache at all",
}
# django-axes handlers that count failed logins in a cache (AXES_CACHE) rather than the database.
AXES_CACHE_HANDLERS = {"axes.handlers.cache.AxesCacheHandler"}

SMS_HINT = (
    "Set SMS_BACKEND to the dotted path of your SMS provider's backend (a class with "
    "send(phone=..., body=...), see marketplace/notifications/sms.py)."
)
EMAIL_HINT = (
    "Set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST, EMAIL_PORT, "
    "EMAIL_HOST_USER, EMAIL_HOST_PASSWORD and EMAIL_USE_TLS (or another backend that sends)."
)
CACHE_HINT = "Set CACHE_URL to a cache every process shares, such as rediscache://127.0.0.1:6379/1."


@dataclass(frozen=True)
class Refusal:
    id: str
    setting: str
    message: str
    hint: str

    def __str__(self) -> str:
        return f"{self.message} {self.hint}"


def _names(dotted: str) -> set[str]:
    return {dotted}


def production_refusals(
    *,
    sms_backend: str,
    email_backend: str,
    caches: Mapping[str, Mapping],
    axes_handler: str = "",
    axes_cache: str = "default",
    names_of: Callable[[str], Iterable[str]] = _names,
) -> list[Refusal]:
    """What in these settings production must not run with (empty: nothing).

    `names_of(dotted path)` gives the names a backend answers to: by default only its own, which
    is all the settings module can know; the system check passes the names of its class and
    every base class, so a subclass of the console backend is refused too.
    """

    def why(dotted: str, table: Mapping[str, str]) -> str | None:
        return next((table[name] for name in names_of(dotted) if name in table), None)

    refusals = []
    if sms := why(sms_backend, UNSENT_SMS):
        message = f"SMS_BACKEND is {sms_backend}, which {sms}."
        refusals.append(Refusal("marketplace.E001", "SMS_BACKEND", message, SMS_HINT))
    if email := why(email_backend, UNSENT_EMAIL):
        message = f"EMAIL_BACKEND is {email_backend}, which {email}."
        refusals.append(Refusal("marketplace.E002", "EMAIL_BACKEND", message, EMAIL_HINT))
    # The rate limits count in the default cache; django-axes in AXES_CACHE when its handler uses one.
    counted_in = {"default": "the rate limits"}
    if axes_handler and why(axes_handler, dict.fromkeys(AXES_CACHE_HANDLERS, "cache")):
        earlier = counted_in.get(axes_cache)
        counted_in[axes_cache] = f"{earlier} and the login lockouts" if earlier else "the login lockouts"
    for alias, what in counted_in.items():
        backend = (caches.get(alias) or {}).get("BACKEND", "")
        kind = why(backend, PER_PROCESS_CACHES)
        if backend and not kind:
            continue
        setting = "CACHE_URL" if alias == "default" else f"CACHES[{alias!r}]"
        where = f"{backend}, {kind}" if backend else "missing"
        refusals.append(
            Refusal(
                "marketplace.E003",
                setting,
                f"The {alias!r} cache ({setting}) is {where}: {what} would be counted in each process "
                "apart, so every gunicorn worker adds its own allowance.",
                CACHE_HINT,
            )
        )
    return refusals


def _class_names(dotted: str) -> list[str]:
    """The dotted names of the class at `dotted` and of its bases (just `dotted` if it cannot be imported)."""
    from django.utils.module_loading import import_string

    try:
        cls = import_string(dotted)
    except ImportError:
        return [dotted]
    return [dotted, *(f"{base.__module__}.{base.__qualname__}" for base in getattr(cls, "__mro__", ()))]


def check_production_backends(app_configs=None, **kwargs):
    """`check --deploy`: the SMS and email backends send, and limits count in a shared cache."""
    from django.conf import settings
    from django.core.checks import Error

    refusals = production_refusals(
        sms_backend=settings.SMS_BACKEND,
        email_backend=settings.EMAIL_BACKEND,
        caches=settings.CACHES,
        axes_handler=getattr(settings, "AXES_HANDLER", ""),
        axes_cache=getattr(settings, "AXES_CACHE", "default"),
        names_of=_class_names,
    )
    return [Error(refusal.message, hint=refusal.hint, id=refusal.id) for refusal in refusals]
