"""Real JPEGs for tests, made with Pillow: photo-like texture, EXIF orientation, CMYK, grey."""

import io
import os
import time
from pathlib import Path

from PIL import Image, ImageDraw

EXIF_ORIENTATION = 0x0112


def photo(size: tuple[int, int] = (640, 480), seed: int = 0) -> Image.Image:
    """A textured RGB image (noise over a gradient), so it decodes like a photo, not flat colour."""
    w, h = size
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    noise = Image.effect_noise(size, 25 + seed % 20).convert("RGB")
    tinted = Image.blend(base, noise, 0.4)
    draw = ImageDraw.Draw(tinted)
    draw.rectangle((w // 8, h // 8, w // 3, h // 2), fill=(40 + seed * 37 % 200, 90, 160))
    return tinted


def jpeg_bytes(image: Image.Image, *, orientation: int | None = None, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    kwargs = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[EXIF_ORIENTATION] = orientation
        kwargs["exif"] = exif.tobytes()
    image.save(buffer, format="JPEG", quality=quality, **kwargs)
    return buffer.getvalue()


def two_tone(
    size: tuple[int, int], first: tuple[int, int, int], second: tuple[int, int, int]
) -> Image.Image:
    """Left half `first`, right half `second`: shows where the left edge ended up."""
    w, h = size
    image = Image.new("RGB", size, second)
    ImageDraw.Draw(image).rectangle((0, 0, w // 2 - 1, h - 1), fill=first)
    return image


def cmyk_red(size: tuple[int, int] = (500, 400)) -> bytes:
    image = Image.new("CMYK", size, (0, 255, 255, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def write_settled(path: Path, data: bytes, age_seconds: float = 120.0) -> Path:
    """Write a file whose mtime lies in the past, as a finished upload's would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    age(path, age_seconds)
    return path


def age(path: Path, seconds: float = 120.0) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))
