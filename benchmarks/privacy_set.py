"""The privacy evaluation set, built on the fly from real photos that scikit-image ships.

Backgrounds are real photos (coffee, cat, rocket, textures, the Hubble deep field, a stereo
street scene) plus rendered interiors. Onto them go real faces (the astronaut, the LFW faces
of `skimage.data.lfw_subset`), rendered house numbers and door signs, and rendered German
licence plates, at realistic sizes and angles. Every image carries its ground truth.
"""

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from skimage import data

SIZE = (3000, 2000)  # composed at 6 MP, then sent through the real preview path


@dataclass
class Sample:
    name: str
    image: Image.Image
    truth: set[str] = field(default_factory=set)  # categories that must be detected
    ignore: set[str] = field(default_factory=set)  # categories not scored on this image
    note: str = ""

    def jpeg(self, quality: int = 90) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="JPEG", quality=quality)
        return buffer.getvalue()


def _fit(image: Image.Image, size: tuple[int, int] = SIZE) -> Image.Image:
    """Crop to the aspect ratio of `size`, then resize: a 3:2 photo like a camera's."""
    w, h = image.size
    target = size[0] / size[1]
    if w / h > target:
        new_w = int(h * target)
        image = image.crop(((w - new_w) // 2, 0, (w - new_w) // 2 + new_w, h))
    else:
        new_h = int(w / target)
        image = image.crop((0, (h - new_h) // 2, w, (h - new_h) // 2 + new_h))
    return image.convert("RGB").resize(size, Image.Resampling.BICUBIC)


def grain(image: Image.Image, rng: random.Random, sigma: float = 4.0) -> Image.Image:
    """Sensor-like noise, so upscaled sample photos do not decode unrealistically smooth."""
    noise = np.random.default_rng(rng.randrange(2**32)).normal(
        0.0, sigma, (image.height, image.width, 1)
    )
    pixels = np.asarray(image.convert("RGB"), dtype=np.float32) + noise
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def photo_like(background: Image.Image, size: tuple[int, int], rng: random.Random) -> Image.Image:
    """A real sample photo upscaled to `size` with sensor-like noise (flat colour would decode
    unrealistically fast): the benchmarks' stand-in for a camera's 24 MP photo."""
    return grain(background.convert("RGB").resize(size, Image.Resampling.BICUBIC), rng, 6.0)


def real_backgrounds() -> list[tuple[str, Image.Image]]:
    left, _right, _disp = data.stereo_motorcycle()
    photos = {
        "coffee": data.coffee(),
        "chelsea": data.chelsea(),
        "rocket": data.rocket(),
        "brick": data.brick(),
        "grass": data.grass(),
        "gravel": data.gravel(),
        "hubble": data.hubble_deep_field(),
        "motorcycle": left,
        "retina": data.retina(),
    }
    return [(name, Image.fromarray(np.asarray(pixels))) for name, pixels in photos.items()]


def interior(rng: random.Random) -> Image.Image:
    """A rendered room: wall, floor, window, furniture and a picture frame, with soft light."""
    w, h = SIZE
    wall = tuple(rng.randint(170, 235) for _ in range(3))
    image = Image.new("RGB", SIZE, wall)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    horizon = int(h * rng.uniform(0.55, 0.7))
    floor = tuple(rng.randint(90, 160) for _ in range(3))
    draw.rectangle((0, horizon, w, h), fill=floor)  # type: ignore[arg-type]
    for x in range(0, w, rng.randint(60, 140)):  # floor boards
        draw.line(
            (x, horizon, x + rng.randint(-80, 80), h), fill=tuple(c - 15 for c in floor), width=3
        )  # type: ignore[arg-type]
    wx = rng.randint(200, w - 900)
    draw.rectangle(
        (wx, int(h * 0.12), wx + 700, int(h * 0.5)),
        fill=(200, 225, 245),
        outline=(250, 250, 250),
        width=18,
    )
    draw.line((wx + 350, int(h * 0.12), wx + 350, int(h * 0.5)), fill=(250, 250, 250), width=14)
    for _ in range(rng.randint(2, 4)):  # furniture
        fx, fw = rng.randint(0, w - 600), rng.randint(300, 900)
        fy = horizon - rng.randint(150, 500)
        colour = tuple(rng.randint(30, 140) for _ in range(3))
        draw.rectangle((fx, fy, fx + fw, horizon + rng.randint(20, 200)), fill=colour)  # type: ignore[arg-type]
    px = rng.randint(100, w - 500)
    draw.rectangle(
        (px, int(h * 0.18), px + 380, int(h * 0.4)),
        fill=(60, 80, 70),
        outline=(30, 20, 10),
        width=14,
    )
    image = image.filter(ImageFilter.GaussianBlur(2))
    shade = Image.linear_gradient("L").resize(SIZE).rotate(rng.choice([0, 90, 180, 270]))
    return Image.composite(
        image, Image.new("RGB", SIZE, (20, 20, 20)), shade.point(lambda v: 150 + v * 105 // 255)
    )


def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


def _paste_rotated(
    base: Image.Image, tile: Image.Image, rng: random.Random, max_angle: float, box: tuple[int, int]
) -> tuple[int, int]:
    """Rotate and slightly skew `tile`, paste it at a random place; returns its top-left."""
    tile = tile.convert("RGBA")
    w, h = tile.size
    skew = rng.uniform(-0.12, 0.12) * h
    # Perspective-like shear: a plaque seen a little from the side.
    tile = tile.transform(
        (w, h), Image.Transform.QUAD, (0, skew, 0, h - skew, w, h, w, 0), Image.Resampling.BICUBIC
    )
    tile = tile.rotate(
        rng.uniform(-max_angle, max_angle), expand=True, resample=Image.Resampling.BICUBIC
    )
    x = rng.randint(40, max(41, box[0] - tile.width - 40))
    y = rng.randint(40, max(41, box[1] - tile.height - 40))
    base.paste(tile, (x, y), tile)
    return x, y


HOUSE_NUMBERS = ["42", "17b", "3-5", "128", "7A", "12/14", "9", "56c", "231", "4"]
DOOR_SIGNS = [
    "Familie Schmidt",
    "Praxis Dr. Weber",
    "Hausverwaltung Meyer",
    "Bitte klingeln",
    "K. Nowak",
]


def text_plaque(text: str, char_px: int, rng: random.Random) -> Image.Image:
    font = _font(int(char_px / 0.72))  # cap height is about 0.72 of the font size
    left, top, right, bottom = font.getbbox(text)
    pad = char_px // 2
    plate = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad))
    light = rng.random() < 0.6
    bg = (235, 235, 225) if light else (30, 50, 90)
    fg = (20, 20, 20) if light else (240, 240, 240)
    plate.paste(bg, (0, 0, plate.width, plate.height))
    ImageDraw.Draw(plate).text((pad - left, pad - top), text, font=font, fill=fg)
    return plate


DISTRICTS = ["M", "B", "HH", "K", "S", "F", "D", "KA", "BN", "MZ", "WI", "H"]


def licence_plate(rng: random.Random, width: int) -> tuple[Image.Image, str]:
    """A German plate (520 x 110 mm): EU band with 'D', district, letters, digits."""
    letters = "".join(rng.choices("ABCDEFGHKLMNPRSTUVWXYZ", k=rng.randint(1, 2)))
    text = f"{rng.choice(DISTRICTS)} {letters} {rng.randint(1, 9999)}"
    height = int(width * 110 / 520)
    plate = Image.new("RGB", (width, height), (245, 245, 240))
    draw = ImageDraw.Draw(plate)
    border = max(2, height // 25)
    draw.rectangle((0, 0, width - 1, height - 1), outline=(15, 15, 15), width=border)
    band = int(width * 0.08)
    draw.rectangle((border, border, band, height - border), fill=(20, 60, 170))
    draw.text(
        (band // 2, int(height * 0.78)),
        "D",
        font=_font(int(height * 0.28)),
        fill=(240, 240, 240),
        anchor="mm",
    )
    font = _font(int(height * 0.75))
    draw.text(
        ((band + width) // 2, height // 2),
        text,
        font=font,
        fill=(15, 15, 15),
        anchor="mm",
        stroke_width=max(1, height // 40),
        stroke_fill=(15, 15, 15),
    )
    return plate, text


def face_tiles() -> tuple[Image.Image, list[Image.Image]]:
    """Real faces: the astronaut's head (170 px tall) and the 100 LFW faces (25 px tall)."""
    astronaut = Image.fromarray(data.astronaut()).crop((150, 30, 300, 200))
    lfw = []
    for face in data.lfw_subset()[:100]:
        grey = Image.fromarray((face * 255).astype(np.uint8))
        # LFW crops are tight; give them forehead and chin context like a real head.
        canvas = Image.new("L", (33, 37), int(np.asarray(grey).mean()))
        canvas.paste(grey, (4, 6))
        lfw.append(canvas.convert("RGB"))
    return astronaut, lfw


def _jitter(face: Image.Image, rng: random.Random) -> Image.Image:
    """Another take of the same face: mirrored, lit differently, tilted a little."""
    if rng.random() < 0.5:
        face = face.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    face = Image.eval(face, lambda v: min(255, int(v * rng.uniform(0.75, 1.2))))
    return face.rotate(
        rng.uniform(-8, 8), resample=Image.Resampling.BICUBIC, fillcolor=face.getpixel((0, 0))
    )


def _paste_face(base: Image.Image, tile: Image.Image, height_px: int, rng: random.Random) -> None:
    w = int(tile.width * height_px / tile.height)
    face = tile.resize((w, height_px), Image.Resampling.BICUBIC)
    mask = Image.new("L", face.size, 0)
    ImageDraw.Draw(mask).ellipse((0, 0, w - 1, height_px - 1), fill=255)
    mask = mask.filter(ImageFilter.GaussianBlur(max(1, w // 20)))
    x = rng.randint(20, base.width - w - 20)
    y = rng.randint(20, base.height - height_px - 20)
    base.paste(face, (x, y), mask)


def _real_content(background: str) -> set[str]:
    """Categories a background photo itself contains: the motorcycle carries lettering."""
    return {"text"} if background == "motorcycle" else set()


def build(seed: int = 7, per_category: int = 40, clean: int = 40) -> Iterator[Sample]:
    """The whole set, deterministic for a seed."""
    rng = random.Random(seed)
    reals = real_backgrounds()

    def background(i: int) -> tuple[str, Image.Image]:
        if i % 3 == 2:
            return "interior", interior(rng)
        name, photo = reals[i % len(reals)]
        img = _fit(photo)
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return name, grain(img, rng)

    for i in range(clean):
        name, img = background(i)
        yield Sample(f"clean_{i:02d}_{name}", img, ignore=_real_content(name), note="clean")

    h = SIZE[1]
    for i in range(per_category):
        name, img = background(i + 1)
        text = rng.choice(HOUSE_NUMBERS) if i % 2 == 0 else rng.choice(DOOR_SIGNS)
        char_px = int(h * rng.uniform(0.02, 0.06))
        _paste_rotated(img, text_plaque(text, char_px, rng), rng, 12, SIZE)
        yield Sample(
            f"text_{i:02d}_{name}", img, {"text"}, note=f"{text!r} at {char_px / h:.1%} height"
        )

    astronaut, lfw = face_tiles()
    for i in range(per_category):
        name, img = background(i + 2)
        if i % 2 == 0:
            # The astronaut's head is sharp enough for any size.
            tile, height_px = _jitter(astronaut, rng), int(h * rng.uniform(0.05, 0.15))
        else:
            # LFW faces are 25 px tall: keep them at sizes a camera would give them sharply
            # (a preview of 1067 px: 5-8 % of height is at most ~3.4x their size).
            tile, height_px = _jitter(lfw[i % len(lfw)], rng), int(h * rng.uniform(0.05, 0.08))
        _paste_face(img, tile, height_px, rng)
        yield Sample(
            f"face_{i:02d}_{name}",
            img,
            {"faces"},
            _real_content(name),
            note=f"face {height_px / h:.1%} of height",
        )

    for i in range(per_category):
        name, img = background(i)
        width = int(SIZE[0] * rng.uniform(0.12, 0.22))
        plate, text = licence_plate(rng, width)
        _paste_rotated(img, plate, rng, 8, SIZE)
        yield Sample(f"plate_{i:02d}_{name}", img, {"licence_plates"}, {"text"}, note=text)
