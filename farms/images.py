"""Uploaded photos and documents: judged by content, cleaned of metadata, resized.

Nothing here trusts a file's name or declared type. Pillow decodes the file under a
pixel cap; its decompression-bomb warning is an error. A cleaned image is re-encoded
from its pixels alone, so EXIF (GPS above all), XMP, ICC and comments are all gone.
"""

import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
PDF_MAGIC = b"%PDF-"

TOO_BIG = _("The file is larger than %(mb)s MB. Send a smaller photo or document.")
NOT_AN_IMAGE = _("This file is not a JPEG, PNG or WebP image.")
NOT_A_DOCUMENT = _("This file is not a JPEG, PNG or WebP image, nor a PDF.")
TOO_MANY_PIXELS = _("The image is too large (%(mp)s megapixels; at most %(max)s). Send a smaller photo.")
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


def _open_image(data: bytes) -> Image.Image:
    """Open and fully decode an accepted image, refusing bombs and oversized pictures."""
    max_pixels = settings.UPLOAD_MAX_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=sorted(ACCEPTED_FORMATS))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationError(
                TOO_MANY_PIXELS % {"mp": "> 89", "max": max_pixels // 1_000_000}, code="too_many_pixels"
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            raise ValidationError(NOT_AN_IMAGE, code="not_an_image") from None
        # The header's size is checked before a single pixel is decoded.
        width, height = image.size
        if width * height > max_pixels:
            raise ValidationError(
                TOO_MANY_PIXELS
                % {"mp": round(width * height / 1_000_000, 1), "max": max_pixels // 1_000_000},
                code="too_many_pixels",
            )
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationError(
                TOO_MANY_PIXELS % {"mp": "> 89", "max": max_pixels // 1_000_000}, code="too_many_pixels"
            ) from None
        except (OSError, SyntaxError, ValueError):
            raise ValidationError(BROKEN, code="broken") from None
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """Return an RGB copy: transparency on white, palettes and CMYK converted."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _pixels_only(image: Image.Image) -> Image.Image:
    """Return a copy that carries no metadata: Pillow writes `info` (a JPEG comment) back out."""
    image = image.copy()
    image.info = {}
    return image


def encode_jpeg(image: Image.Image, *, max_side: int, quality: int = 85) -> CleanFile:
    """Re-encode pixels only (no EXIF, ICC or comments), scaled to fit `max_side`."""
    image = _pixels_only(image)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return CleanFile(out.getvalue(), "jpg", "image/jpeg", image.width, image.height)


def encode_webp(image: Image.Image, *, max_side: int, quality: int = 80) -> CleanFile:
    image = _pixels_only(image)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="WEBP", quality=quality, method=4)
    return CleanFile(out.getvalue(), "webp", "image/webp", image.width, image.height)


def clean_image(upload) -> CleanFile:
    """Return an uploaded photo as a clean JPEG, upright and without metadata.

    Raise ValidationError with a message a person can act on for anything else.
    """
    image = _open_image(_read_capped(upload))
    upright = ImageOps.exif_transpose(image)
    return encode_jpeg(_flatten(upright), max_side=settings.IMAGE_ORIGINAL_MAX_SIDE, quality=88)


def clean_document(upload) -> CleanFile:
    """Return a certificate: a PDF kept as sent (after a content check) or a cleaned image."""
    data = _read_capped(upload)
    if data.startswith(PDF_MAGIC):
        if b"%%EOF" not in data[-2048:]:
            raise ValidationError(BROKEN, code="broken")
        return CleanFile(data, "pdf", "application/pdf")
    try:
        image = _open_image(data)
    except ValidationError as exc:
        if exc.code == "not_an_image":
            raise ValidationError(NOT_A_DOCUMENT, code="not_a_document") from None
        raise
    upright = ImageOps.exif_transpose(image)
    return encode_jpeg(_flatten(upright), max_side=settings.IMAGE_ORIGINAL_MAX_SIDE, quality=88)


def make_sizes(data: bytes) -> dict[str, CleanFile]:
    """Return each display size (settings.IMAGE_SIZES) of a cleaned photo, as WebP."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return {name: encode_webp(image, max_side=side) for name, side in settings.IMAGE_SIZES.items()}
