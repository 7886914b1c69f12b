"""Photo processing benchmark (issue #10): the app's path for one phone photo against plain Pillow.

    python -m bench.photos [--images 6] [--rounds 2] [--width 4000 --height 3000]

Makes `--images` phone-sized JPEGs, deterministically: a drawing of produce from
`farms.demo_photos` scaled up to `--width`×`--height`, with sensor-like noise (Pillow's
Gaussian noise) so they weigh what a phone's do, quality 92, every other one shot upright with
EXIF orientation 6 as phones write it. Then, per image and in alternation, timed in this
process (no server, no database):

- **app**: what a listing's photo costs from upload to its sizes: `farms.images.clean_image`
  on the upload (decode under the pixel cap, turn upright, drop metadata, the original as JPEG
  at most IMAGE_ORIGINAL_MAX_SIDE, quality 88), stored with Django's storage, then what the
  `process_product_image` task does with it: `farms.images.make_sizes` on the stored bytes
  (each of IMAGE_SIZES as WebP, quality 80) and the sizes stored (the database rows are left
  out);
- **Pillow**: the same steps written straight with Pillow (same sizes, filters, formats,
  qualities and options; files written with `open`). Outputs must be byte for byte the
  app's: anything else means the two do different work.

Reports milliseconds per image (median over images and rounds) of wall and CPU time, and the
ratio. Writes var/bench/photos.json.
"""

import argparse
import io
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

from bench import harness

KINDS = ["mango", "durian", "pomelo", "leafy", "fish", "rice", "longan", "pineapple"]
ORIENTATION = 0x0112


def phone_photo(number: int, *, width: int, height: int) -> bytes:
    """Return a deterministic phone-sized JPEG (odd numbers carry EXIF orientation 6)."""
    from farms.demo_photos import produce_photo

    kind = KINDS[number % len(KINDS)]
    drawing = Image.open(io.BytesIO(produce_photo(kind, f"bench-{number}"))).convert("RGB")
    image = drawing.resize((width, height), Image.Resampling.BICUBIC)
    # Sensor noise and fine texture: what makes a phone's 12 MP photo weigh 3-5 MB.
    noise = Image.effect_noise((width, height), 40 + 5 * (number % 3)).convert("RGB")
    image = Image.blend(image, noise, 0.18)
    exif = Image.Exif()
    exif[0x010F] = "Bench phone"  # Make
    if number % 2:
        exif[ORIENTATION] = 6  # held upright: stored sideways, turned on display
        image = image.transpose(Image.Transpose.ROTATE_90)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92, exif=exif.tobytes())
    return out.getvalue()


# --- The two paths ---------------------------------------------------------------------------


def app_path(data: bytes, number: int) -> dict[str, bytes]:
    """Upload → clean original stored → sizes made from the stored file and stored."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.files.uploadedfile import SimpleUploadedFile

    from farms.images import clean_image, make_sizes

    cleaned = clean_image(SimpleUploadedFile(f"IMG_{number:04d}.jpg", data, content_type="image/jpeg"))
    original = default_storage.save(f"app/p{number}.{cleaned.extension}", ContentFile(cleaned.content))
    with default_storage.open(original, "rb") as handle:
        sizes = make_sizes(handle.read())
    out = {"original": cleaned.content}
    for name, clean in sizes.items():
        default_storage.save(f"app/p{number}-{name}.{clean.extension}", ContentFile(clean.content))
        out[name] = clean.content
    return out


def _fit(image: Image.Image, side: int) -> Image.Image:
    image = image.copy()
    image.info = {}  # no comment, EXIF or ICC written back
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def pillow_path(
    data: bytes, number: int, *, folder: Path, original_side: int, sizes: dict, stages: dict | None = None
) -> dict[str, bytes]:
    """The same steps in Pillow alone; add each step's milliseconds to `stages`."""
    stamps = [("start", time.perf_counter())]
    image = Image.open(io.BytesIO(data))
    image.load()
    upright = ImageOps.exif_transpose(image).convert("RGB")
    stamps.append(("decode the upload, turn it upright", time.perf_counter()))
    buffer = io.BytesIO()
    _fit(upright, original_side).save(buffer, format="JPEG", quality=88, optimize=True, progressive=True)
    out = {"original": buffer.getvalue()}
    (folder / f"p{number}.jpg").write_bytes(out["original"])
    stamps.append(("resize and encode the original (JPEG), store it", time.perf_counter()))
    stored = Image.open(io.BytesIO((folder / f"p{number}.jpg").read_bytes()))
    stored.load()
    stamps.append(("decode the stored original (the task)", time.perf_counter()))
    for name, side in sizes.items():
        buffer = io.BytesIO()
        _fit(stored, side).save(buffer, format="WEBP", quality=80, method=4)
        out[name] = buffer.getvalue()
        (folder / f"p{number}-{name}.webp").write_bytes(out[name])
        stamps.append((f"resize and encode {name} (WebP ≤{side} px), store it", time.perf_counter()))
    if stages is not None:
        for (_label, before), (label, after) in itertools.pairwise(stamps):
            stages.setdefault(label, []).append((after - before) * 1000)
    return out


def _timed(function, *args, **kwargs) -> tuple[dict, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _summary(walls: list[float], cpus: list[float]) -> dict:
    return {
        "images": len(walls),
        "median_ms": round(statistics.median(walls), 1),
        "mean_ms": round(statistics.fmean(walls), 1),
        "min_ms": round(min(walls), 1),
        "max_ms": round(max(walls), 1),
        "median_cpu_ms": round(statistics.median(cpus), 1),
    }


HEADER = ["path", "images", "ms per image (median)", "mean ms", "min ms", "max ms", "CPU ms per image"]


def table(results: dict) -> str:
    app, plain = results["app"], results["pillow"]
    rows = [
        [
            label,
            r["images"],
            f"**{r['median_ms']:,.1f}**",
            f"{r['mean_ms']:,.1f}",
            f"{r['min_ms']:,.1f}",
            f"{r['max_ms']:,.1f}",
            f"{r['median_cpu_ms']:,.1f}",
        ]
        for label, r in (("app (clean_image, make_sizes, storage)", app), ("plain Pillow, same steps", plain))
    ]
    rows.append(
        [
            "ratio app / Pillow",
            "",
            f"**{app['median_ms'] / plain['median_ms']:.2f}**",
            f"{app['mean_ms'] / plain['mean_ms']:.2f}",
            f"{app['min_ms'] / plain['min_ms']:.2f}",
            f"{app['max_ms'] / plain['max_ms']:.2f}",
            f"{app['median_cpu_ms'] / plain['median_cpu_ms']:.2f}",
        ]
    )
    return harness.markdown_table(HEADER, rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=6, help="distinct input photos (6)")
    parser.add_argument("--rounds", type=int, default=2, help="times each photo goes through each path (2)")
    parser.add_argument("--width", type=int, default=4000, help="input width in pixels (4000)")
    parser.add_argument("--height", type=int, default=3000, help="input height in pixels (3000)")
    args = parser.parse_args(argv)

    url = os.environ.get("BENCH_DATABASE_URL") or harness.DEFAULT_DATABASE_URL
    info = harness.checked_machine(url, workers=harness.default_workers())
    if info is None:
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-photos-") as media:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "marketplace.settings",
                "DJANGO_ENV": "development",
                "DEBUG": "0",
                "MEDIA_ROOT": str(Path(media) / "media"),
                "LOG_LEVEL": "WARNING",
            }
        )
        import django

        django.setup()
        from django.conf import settings

        began = time.monotonic()
        inputs = [phone_photo(number, width=args.width, height=args.height) for number in range(args.images)]
        sizes_kb = [len(data) // 1024 for data in inputs]
        print(
            f"Made {len(inputs)} photos of {args.width}×{args.height} in {time.monotonic() - began:.1f} s "
            f"({min(sizes_kb):,}–{max(sizes_kb):,} KB)."
        )
        plain_folder = Path(media) / "plain"
        plain_folder.mkdir()
        options = {
            "folder": plain_folder,
            "original_side": settings.IMAGE_ORIGINAL_MAX_SIDE,
            "sizes": dict(settings.IMAGE_SIZES),
        }
        # One untimed pass of each: imports, Pillow's plugins, the storage folders.
        app_path(inputs[0], 999)
        pillow_path(inputs[0], 999, **options)

        walls: dict[str, list[float]] = {"app": [], "pillow": []}
        cpus: dict[str, list[float]] = {"app": [], "pillow": []}
        same, outputs, stages = True, {}, {}
        for round_number in range(args.rounds):
            for number, data in enumerate(inputs):
                order = ("app", "pillow") if (number + round_number) % 2 == 0 else ("pillow", "app")
                for path in order:
                    if path == "app":
                        result, wall, cpu = _timed(app_path, data, number)
                    else:
                        result, wall, cpu = _timed(pillow_path, data, number, **options, stages=stages)
                    walls[path].append(wall)
                    cpus[path].append(cpu)
                    outputs[path] = result
                same = same and outputs["app"] == outputs["pillow"]
                if round_number == 0:
                    outputs["shapes"] = {
                        name: Image.open(io.BytesIO(content)).size for name, content in outputs["app"].items()
                    }
        if not same:
            print("The app's files differ from plain Pillow's: the paths do different work.", file=sys.stderr)

    results = {path: _summary(walls[path], cpus[path]) for path in walls}
    ratio = results["app"]["median_ms"] / results["pillow"]["median_ms"]
    text = table(results)
    print()
    print(f"Machine: {harness.machine_line(info)}.")
    print(
        f"Photos: {args.images} JPEGs of {args.width}×{args.height} "
        "(quality 92, half with EXIF orientation 6), "
        f"{args.rounds} rounds; outputs: original JPEG ≤{settings.IMAGE_ORIGINAL_MAX_SIDE} px and "
        + ", ".join(f"{name} WebP ≤{side} px" for name, side in settings.IMAGE_SIZES.items())
        + f"; same bytes from both paths: {'yes' if same else 'NO'}."
    )
    print()
    print(text)
    steps = {label: round(statistics.median(values), 1) for label, values in stages.items()}
    where = "; ".join(f"{label} {value:,.1f}" for label, value in steps.items())
    print(f"\nWhere the time goes (plain Pillow, median ms per image): {where}.")
    target = harness.write_results(
        "photos",
        {
            "benchmark": "photos",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "machine": info,
            "options": vars(args),
            "input_kb": sizes_kb,
            "image_sizes": dict(settings.IMAGE_SIZES),
            "original_max_side": settings.IMAGE_ORIGINAL_MAX_SIDE,
            "output_sizes": {name: list(size) for name, size in outputs["shapes"].items()},
            "same_bytes": same,
            **results,
            "ratio_app_over_pillow": round(ratio, 3),
            "pillow_steps_ms": steps,
            "table": text,
        },
    )
    print(f"\nResults: {os.path.relpath(target, harness.ROOT)}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
