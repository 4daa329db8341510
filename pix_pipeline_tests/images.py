"""Real JPEGs for tests, made with Pillow: photo-like texture, EXIF orientation, CMYK, grey,
and scenes for the privacy checks: a plain room, a real face in it, a house number."""

import io
import os
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

EXIF_ORIENTATION = 0x0112
SCENE_SIZE = (2400, 1600)
# Where the privacy findings are drawn in the scenes, in pixels of SCENE_SIZE.
ASTRONAUT_AREA = (700, 300, 1600, 1200)
NUMBER_PLAQUE = (1020, 330, 1380, 620)


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


def same_pixels(a: bytes, b: bytes) -> bool:
    """Two JPEGs decode to the same pixels (a customer copy without redactions is a
    metadata-only rendition of its original: other bytes, the same picture)."""
    with Image.open(io.BytesIO(a)) as one, Image.open(io.BytesIO(b)) as two:
        return one.size == two.size and one.mode == two.mode and one.tobytes() == two.tobytes()


def write_settled(path: Path, data: bytes, age_seconds: float = 120.0) -> Path:
    """Write a file whose mtime lies in the past, as a finished upload's would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    age(path, age_seconds)
    return path


def age(path: Path, seconds: float = 120.0) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def room(size: tuple[int, int] = SCENE_SIZE) -> Image.Image:
    """A plain rendered interior: wall, floor, window, sofa. No face, no text."""
    w, h = size
    image = Image.new("RGB", size, (214, 205, 190))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, int(h * 0.65), w, h), fill=(120, 90, 60))
    draw.rectangle(
        (int(w * 0.6), int(h * 0.12), int(w * 0.85), int(h * 0.5)),
        fill=(190, 215, 240),
        outline=(250, 250, 250),
        width=16,
    )
    draw.rectangle((int(w * 0.1), int(h * 0.45), int(w * 0.45), int(h * 0.7)), fill=(70, 80, 95))
    return image


def astronaut_photo() -> Image.Image:
    """scikit-image's astronaut, a real photo of a real face, hung in the room at ASTRONAUT_AREA."""
    from skimage import data  # a dev dependency, loaded by the tests that show a face

    frame = room()
    x0, y0, x1, y1 = ASTRONAUT_AREA
    frame.paste(Image.fromarray(data.astronaut()).resize((x1 - x0, y1 - y0)), (x0, y0))
    return frame


def facade(number: str = "17") -> Image.Image:
    """A house front: windows, a door, and the house number large on a plaque above it."""
    w, h = SCENE_SIZE
    image = Image.new("RGB", SCENE_SIZE, (196, 178, 150))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, w, 180), fill=(150, 190, 225))  # sky
    draw.rectangle((0, 1450, w, h), fill=(110, 110, 105))  # pavement
    for x in (200, 1700):
        for y in (300, 900):
            draw.rectangle(
                (x, y, x + 420, y + 420), fill=(60, 80, 100), outline=(240, 240, 235), width=18
            )
    draw.rectangle((950, 700, 1450, 1450), fill=(95, 55, 30))  # door
    draw.rectangle(NUMBER_PLAQUE, fill=(245, 245, 240), outline=(30, 30, 30), width=6)
    x0, y0, x1, y1 = NUMBER_PLAQUE
    font = ImageFont.load_default(size=230)
    draw.text(((x0 + x1) / 2, (y0 + y1) / 2), number, font=font, fill=(15, 15, 15), anchor="mm")
    return image
