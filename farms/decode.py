"""What decoding a picture costs, told from its header, and display sizes made under a memory limit.

Pillow only, no Django, so the same rules serve two places:

- the web process (`farms.images`) judges an upload by its header before a pixel is decoded;
- the photo task runs this file as a program of its own (`sizes_in_subprocess`): a short-lived
  process with an address-space limit (RLIMIT_AS) and a CPU limit, so a picture that costs more
  than its header said fails that photo, not the Celery worker that runs other tasks too.

The cost of a decode is the memory Pillow and its decoders hold for it (measured, Pillow 13):

- the picture: 4 bytes a pixel whatever the mode. Pillow keeps RGB, RGBA, CMYK and LA at 4 bytes
  a pixel, and the cleaning turns every picture into RGB, so a 16-bit, palette or 1-bit picture
  costs as much in the end;
- WebP: 12 bytes a pixel more (libwebp's two canvases and its own decode buffer);
- a JPEG that libjpeg reads in several scans (progressive, or sequential with one component a
  scan) keeps every DCT coefficient: 2 bytes a sample, at full size even when drafted.

A JPEG is drafted first (decoded at 1/2, 1/4 or 1/8 scale by libjpeg) when the sizes it is
decoded for are that much smaller, and judged at the drafted size. An animated PNG or WebP
counts, and is decoded, by its first frame only: the others are never read.
"""

from __future__ import annotations

import base64
import io
import json
import math
import os
import re
import subprocess
import sys
import warnings

from PIL import Image, ImageOps

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
PICTURE_BYTES_PER_PIXEL = 4
WEBP_DECODER_BYTES_PER_PIXEL = 12
COEFFICIENT_BYTES = 2  # libjpeg's JCOEF, one per sample of each component
MIB = 1024 * 1024
# The child's address space besides the pictures: the interpreter, Pillow and its libraries.
CHILD_BASE_MEMORY = 256 * MIB
SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
PROGRESSIVE_SOF = frozenset({0xC2, 0xC6, 0xCA, 0xCE})


class Refused(Exception):
    """The picture is not processed; `code` says why, `params` fill the message."""

    def __init__(self, code: str, **params):
        super().__init__(code, params)
        self.code = code
        self.params = params


def fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """Return `size` scaled down (never up) to fit a square of `side`, keeping its shape."""
    width, height = size
    scale = min(1.0, side / max(width, height, 1))
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _jpeg_keeps_coefficients(data: bytes) -> bool:
    """Whether libjpeg buffers the whole image's coefficients: its `has_multiple_scans`.

    True for a progressive file, or a sequential one whose first scan holds fewer components than
    the frame. Read from the markers before the first scan; anything not understood counts as True.
    """
    position, progressive, components = 2, False, 0
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return True
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # no length
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segment = data[position + 4 : position + 2 + length]
        if marker in SOF_MARKERS:
            progressive = marker in PROGRESSIVE_SOF
            components = segment[5] if len(segment) > 5 else 0
        elif marker == 0xDA:
            in_scan = segment[0] if segment else 0
            return progressive or in_scan < components
        position += 2 + length
    return True


def _coefficient_bytes(image: Image.Image, size: tuple[int, int]) -> int:
    """libjpeg's whole-image coefficient buffer for a JPEG of `size` (before any draft)."""
    width, height = size
    layers = getattr(image, "layer", None) or [(0, 1, 1, 0)] * 3
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    total = 0
    for _id, h, v, _table in layers:
        blocks_wide = math.ceil(width * h / (h_max * 8))
        blocks_high = math.ceil(height * v / (v_max * 8))
        # Rounded up to whole MCUs, as libjpeg allocates them; 64 coefficients a block.
        total += (math.ceil(blocks_wide / h) * h) * (math.ceil(blocks_high / v) * v) * 64
    return total * COEFFICIENT_BYTES


def decode_cost(image: Image.Image, data: bytes, original_size: tuple[int, int] | None = None) -> int:
    """Bytes of memory the decode of `image` (opened, drafted or not, not loaded) will hold."""
    width, height = image.size
    cost = width * height * PICTURE_BYTES_PER_PIXEL
    if image.format == "WEBP":
        cost += width * height * WEBP_DECODER_BYTES_PER_PIXEL
    elif image.format in ("JPEG", "MPO") and _jpeg_keeps_coefficients(data):
        cost += _coefficient_bytes(image, original_size or image.size)
    return cost


def _pixel_count(message: str) -> int | None:
    found = re.search(r"\((\d+) pixels\)", message)
    return int(found.group(1)) if found else None


def open_bounded(data: bytes, *, max_pixels: int, max_decoded_bytes: int, fit_side: int | None = None):
    """Open `data` and judge it by its header alone: nothing is decoded yet.

    `fit_side`: the largest side the picture is needed at; a JPEG much larger is drafted (decoded
    at a reduced scale). Raise Refused: not_an_image, too_many_pixels, too_costly.
    """
    # Pillow's own bomb check at the same cap: its warning (past the cap) is an error here, and
    # its error (past twice the cap) also stops a WebP decoder from reserving its canvases.
    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            pixels = _pixel_count(str(exc)) or max_pixels + 1
            raise Refused("too_many_pixels", pixels=pixels, max_pixels=max_pixels) from None
        except (OSError, SyntaxError, ValueError, EOFError):  # UnidentifiedImageError is an OSError
            raise Refused("not_an_image") from None
        except MemoryError:
            raise Refused("too_costly", reason="out of memory") from None
    width, height = original_size = image.size
    if width * height > max_pixels:
        raise Refused("too_many_pixels", pixels=width * height, max_pixels=max_pixels)
    if fit_side and image.format in ("JPEG", "MPO"):
        image.draft(None, fit(original_size, fit_side))
    cost = decode_cost(image, data, original_size)
    if cost > max_decoded_bytes:
        raise Refused("too_costly", width=width, height=height, cost=cost, max_bytes=max_decoded_bytes)
    return image


def load(image: Image.Image) -> Image.Image:
    """Decode the first frame of an image that `open_bounded` accepted."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image.load()
        except MemoryError:
            raise Refused("too_costly", reason="out of memory") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Refused("too_many_pixels", pixels=_pixel_count(str(exc)) or 0, max_pixels=0) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise Refused("broken") from None
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def clean_rgb(image: Image.Image, *, max_side: int) -> Image.Image:
    """Return a decoded picture as RGB, upright, within `max_side`, without metadata.

    Shrunk first, so the turning and flattening work on the small picture: besides the decoded
    picture, at most one more of its size is held (a mode conversion or Pillow's premultiplied copy).
    """
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if _has_alpha(image) else "RGB")  # keeps `info` (EXIF)
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    image = ImageOps.exif_transpose(image)  # a copy of the small picture, turned upright
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat = image.convert("RGB")
    flat.info = {}  # Pillow writes `info` (a JPEG comment, EXIF) back out
    return flat


def encode(image: Image.Image, *, fmt: str, max_side: int, quality: int) -> tuple[bytes, int, int]:
    """Encode pixels only, scaled to fit `max_side`; return the bytes, width and height."""
    image = image.copy()
    image.info = {}
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    else:
        image.save(out, format="WEBP", quality=quality, method=4)
    return out.getvalue(), image.width, image.height


def make_sizes(data: bytes, *, sizes: dict[str, int], max_pixels: int, max_decoded_bytes: int) -> dict:
    """Return {name: (webp bytes, width, height)} for each display size of a stored photo."""
    largest = max(sizes.values())
    opened = open_bounded(data, max_pixels=max_pixels, max_decoded_bytes=max_decoded_bytes, fit_side=largest)
    picture = clean_rgb(load(opened), max_side=largest)
    del opened
    return {name: encode(picture, fmt="WEBP", max_side=side, quality=80) for name, side in sizes.items()}


# --- In a process of its own ---------------------------------------------------------------------


def child_memory_limit(max_decoded_bytes: int) -> int:
    """The child's address-space limit: its base, the decode, and room for one working copy."""
    return CHILD_BASE_MEMORY + 3 * max_decoded_bytes


def sizes_in_subprocess(
    data: bytes,
    *,
    sizes: dict[str, int],
    max_pixels: int,
    max_decoded_bytes: int,
    memory_limit: int | None = None,
    cpu_seconds: int = 30,
    timeout: float = 120,
) -> dict:
    """`make_sizes` in a short-lived process limited to `memory_limit` bytes of address space.

    Raise Refused for a picture that is refused, unreadable, or that the limits stopped
    (`too_costly` when the process ran out of memory or time); OSError when no process could be
    started (the caller may retry).
    """
    config = {
        "sizes": sizes,
        "max_pixels": max_pixels,
        "max_decoded_bytes": max_decoded_bytes,
        "memory_limit": memory_limit or child_memory_limit(max_decoded_bytes),
        "cpu_seconds": cpu_seconds,
    }
    # -I: no PYTHON* variables, no user site, no script folder on the path; only Pillow is imported.
    command = [sys.executable, "-I", os.path.abspath(__file__), json.dumps(config)]
    try:
        # The command is this interpreter and this file; the picture goes in on standard input.
        done = subprocess.run(command, input=data, capture_output=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise Refused("too_costly", reason=f"no answer within {timeout} s") from None
    if done.returncode != 0:
        # Killed by the CPU limit (SIGXCPU), or a decoder that died when memory ran out.
        reason = f"exit {done.returncode}: {done.stderr[-300:].decode(errors='replace').strip()}"
        raise Refused("too_costly", reason=reason)
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise Refused("broken", reason="no answer from the decoding process") from None
    if "refused" in answer:
        raise Refused(answer["refused"], **answer.get("params", {}))
    return {
        name: (base64.b64decode(item["data"]), item["width"], item["height"])
        for name, item in answer["sizes"].items()
    }


def _child_main(argv: list[str]) -> int:
    import resource

    config = json.loads(argv[1])
    limit = int(config["memory_limit"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = int(config["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    data = sys.stdin.buffer.read()
    try:
        made = make_sizes(
            data,
            sizes=config["sizes"],
            max_pixels=int(config["max_pixels"]),
            max_decoded_bytes=int(config["max_decoded_bytes"]),
        )
    except Refused as refused:
        answer = {"refused": refused.code, "params": refused.params}
    except MemoryError:
        answer = {"refused": "too_costly", "params": {"reason": "out of memory"}}
    else:
        answer = {
            "sizes": {
                name: {"data": base64.b64encode(content).decode(), "width": width, "height": height}
                for name, (content, width, height) in made.items()
            }
        }
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv))
