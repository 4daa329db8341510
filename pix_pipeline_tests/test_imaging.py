"""Decoding and previews on real JPEGs: what a file really is, orientation, colour, scale."""

import io
import logging
import struct

import pytest
from PIL import Image

from pix_pipeline.imaging.decode import ImageRejected, check_jpeg, decode_for_size, sniff_format
from pix_pipeline.imaging.thumbnails import make_previews
from pix_pipeline_tests.images import cmyk_red, jpeg_bytes, photo, png_bytes, two_tone

CAP = 150_000_000
RED, BLUE = (230, 20, 20), (20, 20, 230)


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def with_announced_size(jpeg: bytes, width: int, height: int) -> bytes:
    """The same JPEG with a baseline frame header (SOF0) that announces another size."""
    at = jpeg.index(b"\xff\xc0")
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file (0 bytes)"),
        (png_bytes(), "PNG data with a JPEG name"),
        (encoded(Image.new("RGB", (8, 8)), "GIF"), "GIF data with a JPEG name"),
        (encoded(Image.new("RGB", (8, 8)), "WEBP"), "WebP data with a JPEG name"),
        (encoded(Image.new("RGB", (8, 8)), "TIFF"), "TIFF data with a JPEG name"),
        (b"%PDF-1.7\n%\xe2\xe3", "PDF data with a JPEG name"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC data with a JPEG name"),
        (b"hello world, not a photo", "not JPEG data (file starts with bytes 68 65 6c 6c)"),
    ],
)
def test_non_jpeg_content_is_named_in_the_rejection(data: bytes, reason: str):
    with pytest.raises(ImageRejected) as info:
        check_jpeg(data, CAP)
    assert str(info.value) == reason


def test_a_truncated_upload_is_rejected():
    data = jpeg_bytes(photo((800, 600)))
    with pytest.raises(ImageRejected, match="cannot decode JPEG data: image file is truncated"):
        check_jpeg(data[: len(data) // 2], CAP)


def test_a_header_announcing_a_decompression_bomb_is_rejected_before_decoding():
    bomb = with_announced_size(jpeg_bytes(photo((64, 64))), 50_000, 50_000)
    with pytest.raises(ImageRejected, match="50000x50000 = 2,500,000,000 pixels"):
        check_jpeg(bomb, CAP)


def test_sniffing_recognises_jpeg():
    assert sniff_format(jpeg_bytes(photo((16, 16)))[:16]) == "JPEG"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_previews_are_upright_for_every_exif_orientation(orientation: int):
    # Stored: red left half, blue right half. Where the stored left edge ends up after the
    # EXIF transform is known for each orientation.
    data = jpeg_bytes(two_tone((300, 200), RED, BLUE), orientation=orientation)
    previews = make_previews(data, CAP)
    image = Image.open(io.BytesIO(previews.large_jpeg))
    rotated = orientation >= 5
    assert image.size == ((200, 300) if rotated else (300, 200))
    assert (previews.info.width, previews.info.height) == image.size
    w, h = image.size
    red_at = {
        1: (w // 4, h // 2),
        2: (3 * w // 4, h // 2),
        3: (3 * w // 4, h // 2),
        4: (w // 4, h // 2),
        5: (w // 2, h // 4),
        6: (w // 2, h // 4),
        7: (w // 2, 3 * h // 4),
        8: (w // 2, 3 * h // 4),
    }[orientation]
    r, _, b = image.getpixel(red_at)
    assert r > 180 and b < 80, (orientation, image.getpixel(red_at))


def test_previews_have_the_right_long_edges_and_are_never_upscaled():
    big = make_previews(jpeg_bytes(photo((4000, 3000))), CAP)
    assert big.large_size == (1600, 1200) and big.small_size == (400, 300)
    small = make_previews(jpeg_bytes(photo((300, 500))), CAP)
    assert small.large_size == (300, 500) and small.small_size == (240, 400)


def test_large_images_are_decoded_at_reduced_scale():
    image, info = decode_for_size(jpeg_bytes(photo((6400, 4800))), 1600, CAP)
    assert (info.width, info.height) == (6400, 4800)
    assert image.size == (1600, 1200)  # DCT scaling 1/4: the full raster was never decoded


def test_cmyk_and_greyscale_become_rgb():
    cmyk = make_previews(cmyk_red(), CAP)
    image = Image.open(io.BytesIO(cmyk.small_jpeg))
    assert image.mode == "RGB" and cmyk.info.mode == "CMYK"
    r, g, b = image.getpixel((image.width // 2, image.height // 2))
    assert r > 180 and g < 90 and b < 90
    grey = make_previews(jpeg_bytes(photo((640, 480)).convert("L")), CAP)
    assert Image.open(io.BytesIO(grey.large_jpeg)).mode == "RGB"


def test_an_embedded_icc_profile_is_converted_to_srgb():
    from PIL import ImageCms

    lab_like = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 100, 50)).save(buffer, "JPEG", icc_profile=lab_like)
    previews = make_previews(buffer.getvalue(), CAP)
    r, g, b = Image.open(io.BytesIO(previews.small_jpeg)).getpixel((32, 32))
    assert abs(r - 200) < 8 and abs(g - 100) < 8 and abs(b - 50) < 8


def test_previews_fall_back_to_pillow_without_libvips(monkeypatch: pytest.MonkeyPatch):
    from pix_pipeline.imaging import thumbnails

    monkeypatch.setattr(thumbnails, "_vips", lambda: None)
    previews = make_previews(jpeg_bytes(photo((2000, 1500))), CAP)
    assert (previews.large_size, previews.small_size) == ((1600, 1200), (400, 300))
    assert Image.open(io.BytesIO(previews.small_jpeg)).size == (400, 300)


def test_a_jpeg_cut_short_is_refused_by_previews_as_by_the_intake():
    data = jpeg_bytes(photo((1200, 900)))
    cut = data[: len(data) // 2]
    with pytest.raises(ImageRejected, match="image file is truncated") as at_intake:
        check_jpeg(cut, CAP)
    with pytest.raises(ImageRejected) as at_previews:
        make_previews(cut, CAP)
    assert str(at_previews.value) == str(at_intake.value)


def short_last_segment(size: tuple[int, int]) -> bytes:
    """A JPEG with restart markers whose last entropy-coded segment lost its end; the file
    still closes with its end-of-image marker (a camera or upload that lost a few kB)."""
    buffer = io.BytesIO()
    photo(size).save(buffer, format="JPEG", quality=90, restart_marker_blocks=4)
    data = buffer.getvalue()
    assert data.endswith(b"\xff\xd9")
    return data[: -len(data) // 20] + b"\xff\xd9"


def test_a_jpeg_whose_last_entropy_segment_is_short_is_accepted_by_intake_and_previews():
    data = short_last_segment((2400, 1600))
    info = check_jpeg(data, CAP)
    previews = make_previews(data, CAP)
    assert (info.width, info.height) == (2400, 1600)
    assert (previews.large_size, previews.small_size) == ((1600, 1067), (400, 267))
    assert Image.open(io.BytesIO(previews.large_jpeg)).size == (1600, 1067)
    # libvips refuses this file; the previews come from the intake's decoder instead.
    assert previews.maker.startswith("pillow-")


def test_previews_name_the_library_that_made_them():
    assert make_previews(jpeg_bytes(photo((800, 600))), CAP).maker.startswith("libvips-")


def test_a_20000_x_2_jpeg_passes_the_intake_and_gets_previews():
    data = jpeg_bytes(photo((20000, 2)))
    info = check_jpeg(data, CAP)
    previews = make_previews(data, CAP)
    assert (info.width, info.height) == (20000, 2)
    assert previews.large_size[0] == 1600 and previews.large_size[1] >= 1
    assert Image.open(io.BytesIO(previews.large_jpeg)).size == previews.large_size


def test_libvips_call_logging_stays_off_when_the_root_logger_is_at_debug(
    caplog: pytest.LogCaptureFixture,
):
    # pyvips logs each call with its images, whose repr logs again: at DEBUG, two image workers
    # formatting at once deadlocked on two handlers' locks.
    caplog.set_level(logging.DEBUG)
    previews = make_previews(jpeg_bytes(photo((900, 600))), CAP)
    assert previews.maker.startswith("libvips-")
    assert not logging.getLogger("pyvips").isEnabledFor(logging.INFO)
    assert not [r for r in caplog.records if r.name.startswith("pyvips")]
