"""Previews of a 24 MP JPEG: the pipeline's make_previews against libvips, side by side.

Both make the same two outputs from the same JPEG bytes: a 1600 px and a 400 px preview,
JPEG quality 85 with optimised Huffman tables and no metadata. The anchor is libvips' thumbnail
(pyvips with the pyvips-binary wheel), the usual way: one `thumbnail_buffer` call per output,
each with shrink-on-load. A second, stricter comparison is libvips' best pipeline for two
outputs: one thumbnail held in memory, the small preview derived from it (which is what ours
does, so its ratio shows the cost of our header checks and colour handling). The process is
pinned to one core and libvips to one thread, so both get the same machine.

Quality: a fine stripe pattern (period 2.1 px, far above the previews' Nyquist limit) must
come out as flat grey; what remains is aliasing. Ours must not alias more than libvips.

    .venv/bin/python benchmarks/previews.py [--images 5] [--repeats 3]
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("VIPS_CONCURRENCY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
import pyvips
from PIL import Image
from privacy_set import photo_like, real_backgrounds

from pix_pipeline.imaging.thumbnails import JPEG_QUALITY, LARGE_EDGE, SMALL_EDGE, make_previews

SIZE_24MP = (6000, 4000)
MAX_PIXELS = 150_000_000
TARGET_RATIO = 1.0


def photo_24mp(background: Image.Image, rng: random.Random) -> bytes:
    """A photo-like 24 MP JPEG at quality 90."""
    buffer = io.BytesIO()
    photo_like(background, SIZE_24MP, rng).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def stripes_24mp() -> bytes:
    """Vertical black/white stripes with a period of 2.1 px: pure aliasing bait."""
    x = np.arange(SIZE_24MP[0])
    row = np.where((x / 2.1) % 1.0 < 0.5, 255, 0).astype(np.uint8)
    pixels = np.repeat(row[None, :], SIZE_24MP[1], axis=0)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").convert("RGB").save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


# The same encoder settings as ours: the same two files come out.
ENCODE = {"Q": JPEG_QUALITY, "optimize_coding": True, "keep": "none"}


def vips_previews(data: bytes) -> tuple[bytes, bytes]:
    """The anchor: libvips' thumbnail once per output, each shrinking on load."""
    large = pyvips.Image.thumbnail_buffer(data, LARGE_EDGE, height=LARGE_EDGE, size="down")
    small = pyvips.Image.thumbnail_buffer(data, SMALL_EDGE, height=SMALL_EDGE, size="down")
    return large.jpegsave_buffer(**ENCODE), small.jpegsave_buffer(**ENCODE)


def vips_best_previews(data: bytes) -> tuple[bytes, bytes]:
    """libvips' cheapest way to both outputs: one decode, the small one from the large."""
    # The source is read sequentially: keep the large preview in memory to derive the small.
    large = pyvips.Image.thumbnail_buffer(
        data, LARGE_EDGE, height=LARGE_EDGE, size="down"
    ).copy_memory()
    small = large.thumbnail_image(SMALL_EDGE, height=SMALL_EDGE, size="down")
    return large.jpegsave_buffer(**ENCODE), small.jpegsave_buffer(**ENCODE)


def our_previews(data: bytes) -> tuple[bytes, bytes]:
    previews = make_previews(data, MAX_PIXELS)
    return previews.large_jpeg, previews.small_jpeg


def aliasing(jpeg: bytes) -> float:
    """Standard deviation of the grey levels across the image: 0 for a perfect flat grey."""
    grey = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float64)
    columns = grey[grey.shape[0] // 4 : grey.shape[0] * 3 // 4].mean(axis=0)
    return float(columns.std())


def timed(make, data: bytes) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    make(data)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rng = random.Random(5)
    backgrounds = real_backgrounds()
    photos = [photo_24mp(backgrounds[i % len(backgrounds)][1], rng) for i in range(args.images)]
    makers = (our_previews, vips_previews, vips_best_previews)
    for make in makers:  # warm up (libvips loads its modules, Pillow its plugins)
        make(photos[0])
    seconds: dict[str, list[float]] = {make.__name__: [] for make in makers}
    for repeat in range(args.repeats):
        for data in photos:
            # Rotate the order so drifting machine load hits all alike.
            for make in makers[repeat % 3 :] + makers[: repeat % 3]:
                seconds[make.__name__].append(timed(make, data))
    stripes = stripes_24mp()
    our_large, our_small = our_previews(stripes)
    vips_large, vips_small = vips_previews(stripes)

    ok = True
    print(
        f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)} (pyvips "
        f"{pyvips.__version__}), one core; {args.images} photo-like 24 MP JPEGs x "
        f"{args.repeats}"
    )
    print(f"{'name':<34}{'ours':>9}{'anchor':>9}{'ratio':>8}{'target':>9}  verdict")
    o = statistics.median(seconds["our_previews"])
    a = statistics.median(seconds["vips_previews"])
    passed = o / a <= TARGET_RATIO
    ok &= passed
    print(
        f"{'previews 1600+400, median s':<34}{o:>9.3f}{a:>9.3f}{o / a:>8.3f}"
        f"{'<= 1.0':>9}  {'PASS' if passed else 'FAIL'}"
    )
    best = statistics.median(seconds["vips_best_previews"])
    print(f"{'  against libvips one-decode, s':<34}{o:>9.3f}{best:>9.3f}{o / best:>8.3f}")
    for name, mine, theirs in (
        ("aliasing 1600 (grey std)", our_large, vips_large),
        ("aliasing 400 (grey std)", our_small, vips_small),
    ):
        m, t = aliasing(mine), aliasing(theirs)
        passed = m <= max(t, 1.0)  # both flat to within one grey level counts as equal
        ok &= passed
        ratio = m / t if t else float("inf")
        print(
            f"{name:<34}{m:>9.2f}{t:>9.2f}{ratio:>8.2f}{'<= vips':>9}  "
            f"{'PASS' if passed else 'FAIL'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
