"""Photo jobs for the benchmarks that run the pipeline: photo-like JPEGs, delivered settled."""

import io
import os
import random
import shutil
from pathlib import Path

from privacy_set import photo_like, real_backgrounds

# Long past any settle period, as a finished delivery's files are.
SETTLED = 1_600_000_000.0


def write_photos(
    folder: Path, size: tuple[int, int], count: int, rng: random.Random, backgrounds: int = 1
) -> list[Path]:
    """`count` photo-like JPEGs of `size` at quality 90, each with its own bytes, on up to
    `backgrounds` different real photos."""
    bases = [photo_like(img, size, rng) for _, img in real_backgrounds()[:backgrounds]]
    folder.mkdir(parents=True)
    paths = []
    for i in range(count):
        buffer = io.BytesIO()
        # A small crop per copy keeps every file (and its content hash) distinct.
        shift = i // len(bases)
        crop = (shift, shift, size[0] - shift, size[1] - shift)
        bases[i % len(bases)].crop(crop).save(buffer, "JPEG", quality=90)
        path = folder / f"IMG_{i:04d}.jpg"
        path.write_bytes(buffer.getvalue())
        os.utime(path, (SETTLED, SETTLED))
        paths.append(path)
    return paths


def deliver(photos: list[Path], folder: Path) -> list[Path]:
    """Copies `photos` into a job's final_input/ `folder` as settled files on disk."""
    folder.mkdir(parents=True)
    delivered = []
    for path in photos:
        target = folder / path.name
        shutil.copyfile(path, target)
        os.utime(target, (SETTLED, SETTLED))
        delivered.append(target)
    # Delivered photos have long been written back to disk; without this, the run's first
    # fsync would pay for writing back the copies made just now.
    os.sync()
    return delivered
