"""Safe JPEG decoding: recognise what a file really is, refuse bombs, decode at reduced scale."""

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image, ImageCms

JPEG_MAGIC = b"\xff\xd8\xff"
EXIF_ORIENTATION_TAG = 0x0112

# Formats that photo tools commonly produce, recognised by their first bytes so the error
# message says what the file is instead of "not a JPEG".
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"%PDF", "PDF"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"BM", "BMP"),
    (0, b"8BPS", "PSD"),
    (0, b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (0, b"\xff\x4f\xff\x51", "JPEG 2000"),
    (0, b"\xff\x0a", "JPEG XL"),
    (0, b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (0, b"PK\x03\x04", "ZIP"),
)
_ISO_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"heif": "HEIF", b"avif": "AVIF"}

# EXIF orientation -> the transpose that makes the image upright (1 needs none).
_TRANSPOSE = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}

_SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(ValueError):
    """The bytes are not a JPEG the pipeline can use; the message says why, for people."""


@dataclass(frozen=True)
class JpegInfo:
    """What a JPEG header says, with width and height after EXIF orientation."""

    width: int
    height: int
    orientation: int
    mode: str


def sniff_format(head: bytes) -> str | None:
    """The format the first bytes announce, or None when unknown."""
    if head.startswith(JPEG_MAGIC):
        return "JPEG"
    for offset, magic, name in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        return _ISO_BRANDS.get(head[8:12], "ISO media (" + head[8:12].decode("latin-1") + ")")
    return None


SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})


@dataclass(frozen=True)
class FrameHeader:
    """The JPEG start-of-frame segment: coding process, sample precision and size."""

    marker: int
    precision: int
    width: int
    height: int


# Coding processes the decoders here cannot handle (ITU T.81 table B.1): lossless and
# hierarchical frames. Arithmetic coding (0xC9, 0xCA) is decoded by libjpeg-turbo.
UNSUPPORTED_FRAMES = {
    0xC3: "lossless",
    0xC5: "hierarchical",
    0xC6: "hierarchical progressive",
    0xC7: "hierarchical lossless",
    0xCB: "lossless arithmetic-coded",
    0xCD: "hierarchical arithmetic-coded",
    0xCE: "hierarchical progressive arithmetic-coded",
    0xCF: "hierarchical lossless arithmetic-coded",
}


def frame_header(data: bytes) -> FrameHeader | None:
    """The frame header, read without decoding; None if not found before the scan data."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE_MARKERS:
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if marker in SOF_MARKERS and pos + 9 <= len(data):
            return FrameHeader(
                marker=marker,
                precision=data[pos + 4],
                height=int.from_bytes(data[pos + 5 : pos + 7], "big"),
                width=int.from_bytes(data[pos + 7 : pos + 9], "big"),
            )
        if marker == 0xDA or length < 2:  # scan data starts: no frame header before it
            return None
        pos += 2 + length
    return None


def check_frame(frame: FrameHeader, max_pixels: int) -> None:
    """Refuse frames no decoder here reads, and more pixels than `max_pixels`."""
    process = UNSUPPORTED_FRAMES.get(frame.marker)
    if process is not None:
        raise ImageRejected(f"{process} JPEG (SOF{frame.marker - 0xC0}) cannot be decoded")
    if frame.precision != 8:
        raise ImageRejected(
            f"{frame.precision}-bit JPEG: only 8-bit JPEGs can be decoded (export as 8-bit)"
        )
    _check_pixels(frame.width, frame.height, max_pixels)


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageRejected(
            f"JPEG header announces {width}x{height} = {width * height:,} pixels,"
            f" more than the limit of {max_pixels:,} (PIX_MAX_IMAGE_PIXELS)"
        )


def _open(data: bytes, max_pixels: int) -> tuple[Image.Image, JpegInfo]:
    if not data:
        raise ImageRejected("empty file (0 bytes)")
    kind = sniff_format(data[:16])
    if kind is None:
        raise ImageRejected(f"not JPEG data (file starts with bytes {data[:4].hex(' ')})")
    if kind != "JPEG":
        raise ImageRejected(f"{kind} data with a JPEG name")
    frame = frame_header(data)
    if frame is not None:
        # Before Pillow sees the file, so a bomb costs nothing and gets our message.
        check_frame(frame, max_pixels)
    try:
        with warnings.catch_warnings():
            # Our own pixel cap below replaces Pillow's warning-only bomb check.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=["JPEG"])
    except Image.DecompressionBombError as exc:
        raise ImageRejected(f"image too large to decode safely: {exc}") from None
    except Exception as exc:  # Pillow raises many types for a broken header
        # Pillow names the in-memory buffer ("<_io.BytesIO object at 0x…>"): no use to anyone.
        reason = re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-f]+>", "", str(exc))
        raise ImageRejected(f"unreadable JPEG header: {reason}") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageRejected(f"JPEG header announces {width}x{height} pixels")
    _check_pixels(width, height, max_pixels)
    try:
        orientation = int(image.getexif().get(EXIF_ORIENTATION_TAG, 1))
    except Exception:  # a broken EXIF block must not make the photo unusable
        orientation = 1
    if orientation not in range(1, 9):
        orientation = 1
    if orientation >= 5:
        width, height = height, width
    return image, JpegInfo(width, height, orientation, image.mode)


def _load(image: Image.Image) -> None:
    try:
        image.load()
    except Exception as exc:
        raise ImageRejected(f"cannot decode JPEG data: {exc}") from None


def read_info(data: bytes, max_pixels: int) -> JpegInfo:
    """What the header says (format, size after orientation), refusing bombs; no pixel decode."""
    image, info = _open(data, max_pixels)
    image.close()
    return info


def check_jpeg(data: bytes, max_pixels: int) -> JpegInfo:
    """Prove `data` is a decodable JPEG: header checks, then a full pass at 1/8 scale.

    The 1/8-scale decode still reads every entropy-coded byte, so a truncated upload or
    corrupt scan data is found here, at a small fraction of a full decode's cost.
    """
    image, info = _open(data, max_pixels)
    with image:
        w, h = image.size
        image.draft(
            image.mode if image.mode in ("L", "RGB") else None, (max(1, w // 8), max(1, h // 8))
        )
        _load(image)
    return info


def decode_stored(data: bytes, max_pixels: int) -> tuple[Image.Image, JpegInfo]:
    """Decode at full resolution as stored: no orientation applied, no colour conversion, so
    the pixels can be edited and encoded again like the original. The caller closes it."""
    image, info = _open(data, max_pixels)
    try:
        _load(image)
    except ImageRejected:
        image.close()
        raise
    return image, info


def upright(image: Image.Image, orientation: int) -> Image.Image:
    for method in _TRANSPOSE.get(orientation, ()):
        image = image.transpose(method)
    return image


def to_srgb(image: Image.Image) -> Image.Image:
    """RGB in sRGB from any JPEG mode (CMYK, YCCK, greyscale, embedded ICC profiles)."""
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: fall back to Pillow's plain conversion below
    return image if image.mode == "RGB" else image.convert("RGB")


def decode_for_size(data: bytes, long_edge: int, max_pixels: int) -> tuple[Image.Image, JpegInfo]:
    """Decode at the smallest DCT scale whose long edge still covers `long_edge`; upright sRGB."""
    image, info = _open(data, max_pixels)
    with image:
        w, h = image.size
        scale = max(w, h) / long_edge
        if scale > 1:
            image.draft(
                "RGB" if image.mode == "RGB" else None,
                (max(1, int(w / scale)), max(1, int(h / scale))),
            )
        _load(image)
        rgb = to_srgb(image)
    return upright(rgb, info.orientation), info
