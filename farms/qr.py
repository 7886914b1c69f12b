"""QR codes of trace pages, as PNG (for printing at any size) and SVG (sharp on a label)."""

import io

import qrcode
import qrcode.image.pil
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _code(data: str) -> qrcode.QRCode:
    # Medium error correction survives a smudged or creased paper label.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_png(data: str) -> bytes:
    """Return the QR code of `data` as PNG bytes."""
    out = io.BytesIO()
    _code(data).make_image(image_factory=qrcode.image.pil.PilImage).save(out)
    return out.getvalue()


def qr_svg(data: str) -> bytes:
    """Return the QR code of `data` as a standalone SVG document."""
    image = _code(data).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="utf-8")
