"""Storage for files that name people (certificates, buyers' problem photos): outside
MEDIA_ROOT, never given a URL; views that check who asks stream them (`private_file_response`)."""
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404
from django.utils.functional import cached_property


def private_storage():
    """The "private" storage (a callable, so a model field does not freeze it in its migration)."""
    from django.core.files.storage import storages

    return storages["private"]


def private_file_response(field_file, *, filename: str, content_type: str, inline: bool) -> FileResponse:
    """Stream a private file to a caller already checked, or raise Http404 if it is gone."""
    if not field_file:  # wiped with its owner's account (marketplace.accounts.personal_data)
        raise Http404
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # An image opened in the browser can run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class PrivateStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT; views that check who asks stream them."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them through a checked view.")
