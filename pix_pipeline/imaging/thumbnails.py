"""Previews: the large preview from one decode, the small one from the large.

libvips makes them (benchmarks/previews.py: as fast as its own thumbnail, and no aliasing on a
fine stripe pattern, where Pillow's DCT-scaled decode and 2x box reduce left visible moiré).
It shrinks on load only while a factor of two remains for its Lanczos pass, turns the photo
upright and converts it to sRGB from its ICC profile (CMYK included). Pillow is the fallback
where libvips cannot be loaded.

One rule decides which JPEGs are usable, here and at intake: the photo decodes to its end
with libjpeg through Pillow, as every viewer shows it (`decode.check_jpeg`). libjpeg's
warnings about corrupt scan data (a short last entropy segment, a missing restart marker)
do not reject a photo: viewers show it, with the lost blocks grey. libvips is stricter on
such files (it stops at "found marker 0xd9 instead of RST"), so a photo libvips refuses is
made by the Pillow path, which refuses exactly what the intake refuses.
"""

import io
import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

import PIL
from PIL import Image

from pix_pipeline.imaging.decode import ImageRejected, JpegInfo, decode_for_size, read_info

log = logging.getLogger(__name__)

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
    maker: str = "pillow"  # the library that decoded and scaled the photo, with its version


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


@cache
def _vips() -> Any:
    # pyvips logs every operation at DEBUG with the images as arguments, and formatting such an
    # image's repr logs again: with the root logger at DEBUG, two workers formatting at once
    # took two handlers' locks in opposite order and waited for each other for good. Its INFO
    # lines narrate each thumbnail; libvips' warnings (a damaged file) still come through.
    logging.getLogger("pyvips").setLevel(logging.WARNING)
    try:
        import pyvips
    except (ImportError, OSError) as exc:  # the module, or the libvips library, is missing
        log.warning("libvips is not available (%s); previews are made with Pillow", exc)
        return None
    # The step spreads images over PIX_IMAGE_WORKERS threads; one libvips thread each.
    pyvips.concurrency_set(1)
    pyvips.cache_set_max(0)  # every photo is read once: caching operations only holds memory
    return pyvips


def _vips_jpeg(image: Any) -> bytes:
    data: bytes = image.jpegsave_buffer(Q=JPEG_QUALITY, optimize_coding=True, keep="none")
    return data


def _vips_previews(vips: Any, data: bytes, info: JpegInfo) -> Previews:
    try:
        # Loader options go in option_string: a truncated file fails instead of coming out
        # grey-filled.
        large = vips.Image.thumbnail_buffer(
            data, LARGE_EDGE, height=LARGE_EDGE, size="down", option_string="fail_on=truncated"
        )
        if large.get_typeof("icc-profile-data") != 0:
            # Colour-managed at preview size: at full size the transform costs more than
            # decoding does.
            large = large.icc_transform("srgb", embedded=True, intent="relative")
        if large.interpretation != "srgb" or large.bands != 3:
            large = large.colourspace("srgb")
            if large.bands == 4:
                large = large.flatten(background=[255, 255, 255])
        if large.format != "uchar":
            large = large.cast("uchar")
        # The JPEG is read sequentially: hold the large preview to derive the small one.
        large = large.copy_memory()
        small = large.thumbnail_image(SMALL_EDGE, height=SMALL_EDGE, size="down")
        return Previews(
            large_jpeg=_vips_jpeg(large),
            small_jpeg=_vips_jpeg(small),
            large_size=(large.width, large.height),
            small_size=(small.width, small.height),
            info=info,
            maker=f"libvips-{vips.version(0)}.{vips.version(1)}.{vips.version(2)}",
        )
    except vips.Error as exc:
        # libvips puts its own reason (e.g. "premature end of JPEG image") on the last line.
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
        raise ImageRejected(f"libvips could not decode the JPEG: {reason}") from None


def make_previews(data: bytes, max_pixels: int) -> Previews:
    """The 1600 px and 400 px previews of a JPEG, upright, in sRGB, never upscaled.

    Raises ImageRejected for exactly the JPEGs the intake's `check_jpeg` refuses.
    """
    vips = _vips()
    if vips is not None:
        # Format, bomb guard and orientation from the header, before libvips decodes anything.
        info = read_info(data, max_pixels)
        try:
            return _vips_previews(vips, data, info)
        except ImageRejected as exc:
            # The intake's rule decides, not libvips' stricter one (module docstring).
            log.info("%s; making the previews with Pillow", exc)
    return _pillow_previews(data, max_pixels)


def _pillow_previews(data: bytes, max_pixels: int) -> Previews:
    decoded, info = decode_for_size(data, LARGE_EDGE, max_pixels)
    large = fit_within(decoded, LARGE_EDGE)
    small = fit_within(large, SMALL_EDGE)
    return Previews(
        large_jpeg=encode_jpeg(large),
        small_jpeg=encode_jpeg(small),
        large_size=large.size,
        small_size=small.size,
        info=info,
        maker=f"pillow-{PIL.__version__}",
    )


def open_preview(data: bytes) -> Image.Image:
    """Decode a preview written by `make_previews` (the raster the analysis steps look at)."""
    image = Image.open(io.BytesIO(data), formats=["JPEG"])
    image.load()
    return image.convert("RGB") if image.mode != "RGB" else image
