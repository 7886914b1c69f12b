"""Uploaded photos and documents: judged by content, cleaned of metadata, resized.

Nothing here trusts a file's name or declared type. A picture is judged by its header before a
pixel is decoded (`farms.decode`): its pixel count (UPLOAD_MAX_PIXELS, Pillow's own bomb check at
the same cap) and the memory its decode would hold (UPLOAD_MAX_DECODED_BYTES). A cleaned image is
re-encoded from its pixels alone, so EXIF (GPS above all), XMP, ICC and comments are all gone.
The display sizes are made by the photo task in a process of its own under a memory limit.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import decode
from .decode import ACCEPTED_FORMATS, Refused  # noqa: F401 (ACCEPTED_FORMATS: the formats taken)

PDF_MAGIC = b"%PDF-"

TOO_BIG = _("The file is larger than %(mb)s MB. Send a smaller photo or document.")
NOT_AN_IMAGE = _("This file is not a JPEG, PNG or WebP image.")
NOT_A_DOCUMENT = _("This file is not a JPEG, PNG or WebP image, nor a PDF.")
TOO_MANY_PIXELS = _("The image is too large (%(mp)s megapixels; at most %(max)s). Send a smaller photo.")
TOO_COSTLY = _(
    "The image is too large to process (%(width)s × %(height)s pixels would take %(mb)s MB of "
    "memory; at most %(max)s MB). Send a smaller photo, or the photo as JPEG."
)
TOO_COSTLY_PLAIN = _("The image is too large to process. Send a smaller photo, or the photo as JPEG.")
BROKEN = _("The image could not be read: the file may be damaged.")
EMPTY = _("The file is empty.")


@dataclass
class CleanFile:
    content: bytes
    extension: str
    content_type: str
    width: int = 0
    height: int = 0


def _read_capped(upload) -> bytes:
    max_bytes = settings.UPLOAD_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(TOO_BIG % {"mb": max_bytes // (1024 * 1024)}, code="too_big")
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationError(TOO_BIG % {"mb": max_bytes // (1024 * 1024)}, code="too_big")
    if not data:
        raise ValidationError(EMPTY, code="empty")
    return data


def _megabytes(count: int) -> int:
    return -(-count // (1024 * 1024))  # rounded up: "at most 96", never "97 of at most 96"


def refusal_error(refused: Refused) -> ValidationError:
    """The message a person can act on for a picture `farms.decode` refused."""
    params = refused.params
    if refused.code == "too_many_pixels":
        max_pixels = params.get("max_pixels") or settings.UPLOAD_MAX_PIXELS
        return ValidationError(
            TOO_MANY_PIXELS
            % {"mp": round(params.get("pixels", 0) / 1_000_000, 1), "max": max_pixels // 1_000_000},
            code="too_many_pixels",
        )
    if refused.code == "too_costly" and not params.get("width"):
        return ValidationError(TOO_COSTLY_PLAIN, code="too_costly")  # stopped by a limit, size unknown
    if refused.code == "too_big":
        max_bytes = settings.UPLOAD_MAX_BYTES
        return ValidationError(TOO_BIG % {"mb": max_bytes // (1024 * 1024)}, code="too_big")
    if refused.code == "too_costly":
        max_bytes = params.get("max_bytes") or settings.UPLOAD_MAX_DECODED_BYTES
        return ValidationError(
            TOO_COSTLY
            % {
                "width": params["width"],
                "height": params["height"],
                "mb": _megabytes(params.get("cost") or max_bytes + 1),
                "max": max_bytes // (1024 * 1024),
            },
            code="too_costly",
        )
    if refused.code == "not_an_image":
        return ValidationError(NOT_AN_IMAGE, code="not_an_image")
    return ValidationError(BROKEN, code="broken")


def _clean_picture(data: bytes) -> CleanFile:
    """Judge a picture by its header, decode it, and return it as a clean upright JPEG."""
    side = settings.IMAGE_ORIGINAL_MAX_SIDE
    try:
        image = decode.open_bounded(
            data,
            max_pixels=settings.UPLOAD_MAX_PIXELS,
            max_decoded_bytes=settings.UPLOAD_MAX_DECODED_BYTES,
            fit_side=side,
        )
        picture = decode.clean_rgb(decode.load(image), max_side=side)
    except Refused as refused:
        raise refusal_error(refused) from None
    content, width, height = decode.encode(picture, fmt="JPEG", max_side=side, quality=88)
    return CleanFile(content, "jpg", "image/jpeg", width, height)


def clean_image(upload) -> CleanFile:
    """Return an uploaded photo as a clean JPEG, upright and without metadata.

    Raise ValidationError with a message a person can act on for anything else.
    """
    return _clean_picture(_read_capped(upload))


def clean_document(upload) -> CleanFile:
    """Return a certificate: a PDF kept as sent (after a content check) or a cleaned image."""
    data = _read_capped(upload)
    if data.startswith(PDF_MAGIC):
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(BROKEN, code="broken")
        return CleanFile(data, "pdf", "application/pdf")
    try:
        return _clean_picture(data)
    except ValidationError as exc:
        if exc.code == "not_an_image":
            raise ValidationError(NOT_A_DOCUMENT, code="not_a_document") from None
        raise


def make_sizes(data: bytes) -> dict[str, CleanFile]:
    """Return each display size (settings.IMAGE_SIZES) of a stored photo, as WebP.

    The stored file is judged again (it may have reached storage another way) and decoded in a
    process of its own under a memory limit. Raise Refused when it is refused or the limits stop
    it; OSError when no process could be started.
    """
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise Refused("too_big")
    made = decode.sizes_in_subprocess(
        data,
        sizes=dict(settings.IMAGE_SIZES),
        max_pixels=settings.UPLOAD_MAX_PIXELS,
        max_decoded_bytes=settings.UPLOAD_MAX_DECODED_BYTES,
    )
    return {
        name: CleanFile(content, "webp", "image/webp", width, height)
        for name, (content, width, height) in made.items()
    }
