"""The language a person reads their notices in (`User.language`)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation


def language_of(user) -> str:
    """The person's language, or the site's when theirs is unset or no longer offered."""
    language = getattr(user, "language", "")
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def speaking_to(user):
    """Write a notice for `user` in their language: `with speaking_to(user): notify(...)`."""
    return translation.override(language_of(user))


def language_remember(*, user, language: str) -> None:
    """Keep the language a signed-in person chose with the switcher, for their notices."""
    if user.is_authenticated and language in dict(settings.LANGUAGES) and user.language != language:
        get_user_model().objects.filter(pk=user.pk).update(language=language)
        user.language = language
