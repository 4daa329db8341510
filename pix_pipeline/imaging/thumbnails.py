"""Previews: one reduced-scale decode, the large preview from it, the small one from the large."""

import io
from dataclasses import dataclass

from PIL import Image

from pix_pipeline.imaging.decode import JpegInfo, decode_for_size

LARGE_EDGE = 1600
SMALL_EDGE = 400
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Previews:
    large_jpeg: bytes
    small_jpeg: bytes
    large_size: tuple[int, int]
    small_size: tuple[int, int]
    info: JpegInfo


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def fit_within(
    image: Image.Image,
    long_edge: int,
    resample: Image.Resampling = Image.Resampling.LANCZOS,
) -> Image.Image:
    """A copy whose long edge is at most `long_edge`; never upscaled."""
    copy = image.copy()
    copy.thumbnail((long_edge, long_edge), resample)
    return copy


def make_previews(data: bytes, max_pixels: int) -> Previews:
    """The 1600 px and 400 px previews of a JPEG, upright, in sRGB."""
    decoded, info = decode_for_size(data, LARGE_EDGE, max_pixels)
    large = fit_within(decoded, LARGE_EDGE)
    small = fit_within(large, SMALL_EDGE)
    return Previews(
        large_jpeg=encode_jpeg(large),
        small_jpeg=encode_jpeg(small),
        large_size=large.size,
        small_size=small.size,
        info=info,
    )


def open_preview(data: bytes) -> Image.Image:
    """Decode a preview written by `make_previews` (the raster the analysis steps look at)."""
    image = Image.open(io.BytesIO(data), formats=["JPEG"])
    image.load()
    return image.convert("RGB") if image.mode != "RGB" else image
