"""Customer copies: metadata by allow-list, untouched scan data, redacted areas gone for good."""

import io
import random
import struct

import numpy as np
import pytest
from PIL import Image, ImageDraw, JpegImagePlugin

from pix_pipeline.domain.models import Box
from pix_pipeline.imaging.decode import read_info
from pix_pipeline.imaging.rendition import (
    RENDITION_VERSION,
    MetadataRule,
    RenditionError,
    render_customer_copy,
)
from pix_pipeline_tests.camera_files import (
    ARTIST,
    BODY_SERIAL,
    COMMENT,
    COPYRIGHT,
    IPTC_CITY,
    LENS_SERIAL,
    MAKER_NOTE,
    OWNER,
    TAKEN,
    XMP_SECRET,
    camera_jpeg,
    exiftool_executable,
    exiftool_tags,
    insert_after_app0,
    jpeg,
    segment,
    srgb_profile,
)
from pix_pipeline_tests.images import cmyk_red, photo
from pix_pipeline_tests.robustness.test_hostile_files import (
    STORED_AS,
    arithmetic_coded,
    ycck_two_tone,
)

MINIMAL, NONE, ORIGINAL = MetadataRule.MINIMAL, MetadataRule.NONE, MetadataRule.ORIGINAL
AREA = Box(x0=0.2, y0=0.25, x1=0.45, y1=0.6)
PRIVATE_BYTES = (
    BODY_SERIAL.encode(),
    LENS_SERIAL.encode(),
    OWNER.encode(),
    MAKER_NOTE[:15],
    XMP_SECRET.encode(),
    IPTC_CITY,
    COMMENT,
    b"PhoneMaker",
    b"MPF\x00",
)


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image).astype(np.int16)


def scan_data(data: bytes) -> bytes:
    """From the first SOS to the next EOI: the scans and the tables between them (in a copy,
    which holds no thumbnail, this is the picture itself)."""
    return data[data.index(b"\xff\xda") : data.index(b"\xff\xd9", data.index(b"\xff\xda")) + 2]


@pytest.fixture(scope="module")
def exiftool() -> str:
    return exiftool_executable()


@pytest.fixture(scope="module")
def camera() -> bytes:
    return camera_jpeg(photo((640, 480), seed=5), orientation=6)


@pytest.fixture(scope="module")
def copies(camera: bytes) -> dict[tuple[MetadataRule, bool], bytes]:
    """The camera file rendered under each rule, without and with a redacted area."""
    return {
        (rule, redacted): render_customer_copy(camera, [AREA] if redacted else [], rule)
        for rule in MetadataRule
        for redacted in (False, True)
    }


# --- metadata ---------------------------------------------------------------------------------


@pytest.mark.parametrize("redacted", [False, True], ids=["untouched", "redacted"])
def test_minimal_keeps_orientation_icc_artist_copyright_and_date_and_nothing_private(
    exiftool: str, copies: dict[tuple[MetadataRule, bool], bytes], camera: bytes, redacted: bool
):
    before = exiftool_tags(exiftool, camera)
    assert before["GPS:GPSLatitude"] and before["IFD1:ThumbnailImage"]  # the input has them
    assert before["ExifIFD:SerialNumber"] == BODY_SERIAL and "MPF0:MPFVersion" in before
    tags = exiftool_tags(exiftool, copies[MINIMAL, redacted])
    assert tags["IFD0:Orientation"] == 6
    assert tags["IFD0:Artist"] == ARTIST and tags["IFD0:Copyright"] == COPYRIGHT
    assert tags["ExifIFD:DateTimeOriginal"] == TAKEN and tags["ExifIFD:ColorSpace"] == 1
    assert tags["ICC_Profile:ProfileDescription"] == "sRGB built-in"
    groups = {key.split(":")[0] for key in tags}
    assert groups & {"GPS", "IFD1", "IPTC", "Photoshop", "MPF0", "MPImage1", "MPImage2"} == set()
    assert not any(g.startswith(("XMP", "MakerNotes")) for g in groups), groups
    exif_tags = {key for key in tags if key.startswith(("IFD0:", "ExifIFD:"))}
    assert exif_tags == {
        "IFD0:Orientation",
        "IFD0:Artist",
        "IFD0:Copyright",
        "ExifIFD:DateTimeOriginal",
        "ExifIFD:ColorSpace",
    }
    assert "File:Comment" not in tags
    out = copies[MINIMAL, redacted]
    for private in PRIVATE_BYTES:
        assert private not in out, private
    assert out.count(b"\xff\xd8") == 1 and out.endswith(b"\xff\xd9")  # no picture but one


def test_none_keeps_only_the_orientation_and_the_icc_profile(
    exiftool: str, copies: dict[tuple[MetadataRule, bool], bytes]
):
    for redacted in (False, True):
        tags = exiftool_tags(exiftool, copies[NONE, redacted])
        exif = {k: v for k, v in tags.items() if k.split(":")[0] in ("IFD0", "ExifIFD", "GPS")}
        assert exif == {"IFD0:Orientation": 6}
        assert "ICC_Profile:ProfileDescription" in tags
        assert ARTIST.encode() not in copies[NONE, redacted]


def test_none_writes_no_exif_at_all_for_a_photo_stored_upright():
    data = camera_jpeg(photo((160, 120)), orientation=1)
    out = render_customer_copy(data, [], NONE)
    assert b"Exif\x00\x00" not in out
    with Image.open(io.BytesIO(out)) as image:
        assert dict(image.getexif()) == {}


def test_original_without_areas_is_a_byte_copy(camera: bytes, copies):
    assert copies[ORIGINAL, False] == camera


def test_original_with_areas_keeps_the_metadata_but_no_hidden_picture(
    exiftool: str, copies: dict[tuple[MetadataRule, bool], bytes]
):
    out = copies[ORIGINAL, True]
    tags = exiftool_tags(exiftool, out)
    assert tags["ExifIFD:SerialNumber"] == BODY_SERIAL and "GPS:GPSLatitude" in tags
    assert tags["IFD0:Orientation"] == 6 and "ICC_Profile:ProfileDescription" in tags
    assert "IFD1:ThumbnailImage" not in tags and "MPF0:MPFVersion" not in tags
    assert out.count(b"\xff\xd8\xff") == 1  # the thumbnail's bytes are gone, not just unlinked
    assert out.endswith(b"\xff\xd9") and b"GImage:Data" not in out  # no extended XMP


def test_original_with_areas_drops_xmp_that_carries_a_picture_and_keeps_plain_xmp():
    plain = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>plain rating</x:xmpmeta>")
    pictured = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta GImage:Data='QUJD'/>")
    base = jpeg(photo((120, 80)))
    kept = render_customer_copy(insert_after_app0(base, plain), [AREA], ORIGINAL)
    assert b"plain rating" in kept
    dropped = render_customer_copy(insert_after_app0(base, pictured), [AREA], ORIGINAL)
    assert b"GImage" not in dropped and b"xap/1.0" not in dropped


def test_two_exif_segments_become_one_with_the_first_ones_values():
    first = segment(0xE1, b"Exif\x00\x00" + exif_with(orientation=8, artist="First"))
    second = segment(0xE1, b"Exif\x00\x00" + exif_with(orientation=3, artist="Second"))
    data = insert_after_app0(jpeg(photo((120, 80))), first, second)
    out = render_customer_copy(data, [], MINIMAL)
    assert out.count(b"Exif\x00\x00") == 1
    with Image.open(io.BytesIO(out)) as image:
        exif = image.getexif()
    assert (exif[0x0112], exif[0x013B]) == (8, "First")


def exif_with(orientation: int, artist: str) -> bytes:
    """A tiny little-endian EXIF block: orientation and artist."""
    text = artist.encode() + b"\x00"
    entries = struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)
    entries += struct.pack("<HHII", 0x013B, 2, len(text), 8 + 2 + 24 + 4)
    return b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 2) + entries + bytes(4) + text


@pytest.mark.parametrize(
    "block",
    [
        b"II*\x00\xff\xff\x00\x00",  # IFD0 far past the end
        b"MM\x00*\x00\x00\x00\x08\xff\xff" + bytes(20),  # 65535 entries announced
        b"II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x00\x00\x00\x10",  # value past end
        b"XX*\x00",  # no TIFF header
        b"",
    ],
    ids=["ifd-past-end", "too-many-entries", "cut-entry", "not-tiff", "empty"],
)
def test_a_broken_exif_block_gives_a_valid_copy_without_it(block: bytes):
    data = insert_after_app0(jpeg(photo((120, 80))), segment(0xE1, b"Exif\x00\x00" + block))
    for areas in ([], [AREA]):
        out = render_customer_copy(data, areas, MINIMAL)
        with Image.open(io.BytesIO(out)) as image:
            image.load()
            assert image.size == (120, 80)


def test_a_pointer_to_a_broken_exif_ifd_keeps_what_ifd0_holds():
    text = b"Kept\x00"
    entries = struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0)
    entries += struct.pack("<HHII", 0x013B, 2, len(text), 8 + 2 + 36 + 4)
    entries += struct.pack("<HHII", 0x8769, 4, 1, 60_000)  # the Exif IFD: far past the end
    block = b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 3) + entries + bytes(4) + text
    data = insert_after_app0(jpeg(photo((120, 80))), segment(0xE1, b"Exif\x00\x00" + block))
    out = render_customer_copy(data, [], MINIMAL)
    with Image.open(io.BytesIO(out)) as image:
        assert (image.getexif()[0x0112], image.getexif()[0x013B]) == (6, "Kept")


def test_a_jfif_thumbnail_is_dropped_and_the_jfif_header_kept():
    thumb = bytes([200, 10, 10]) * 4  # 2 x 2 RGB pixels
    app0 = segment(0xE0, b"JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x02\x02" + thumb)
    plain = jpeg(photo((120, 80)))
    end_of_app0 = 4 + struct.unpack(">H", plain[4:6])[0]
    data = plain[:2] + app0 + plain[end_of_app0:]
    out = render_customer_copy(data, [], MINIMAL)
    assert out.startswith(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00")
    assert thumb not in out
    assert np.array_equal(pixels(out), pixels(data))


# --- pixels without areas ---------------------------------------------------------------------


def progressive() -> bytes:
    return jpeg(photo((400, 300), seed=4), quality=90, progressive=True)


def restart_intervals() -> bytes:
    return jpeg(photo((400, 300), seed=6), quality=90, restart_marker_blocks=2)


@pytest.mark.parametrize(
    "make",
    [
        lambda: camera_jpeg(photo((400, 300), seed=2)),
        progressive,
        restart_intervals,
        lambda: arithmetic_coded(jpeg(photo((400, 300), seed=7), quality=90)),
        lambda: cmyk_red((200, 100)),
        lambda: ycck_two_tone((200, 100)),
        lambda: jpeg(photo((400, 300)).convert("L")),
    ],
    ids=["camera", "progressive", "restarts", "arithmetic", "cmyk-adobe", "ycck", "grey"],
)
def test_without_areas_the_scan_data_and_decoded_pixels_are_the_originals(make):
    data = make()
    for rule in (MINIMAL, NONE):
        out = render_customer_copy(data, [], rule)
        assert scan_data(out) in data  # byte for byte, up to EOI (nothing after it)
        assert np.array_equal(pixels(out), pixels(data))
    if b"Adobe" in data:  # the colour transform of CMYK and YCCK stays, byte for byte
        adobe = data.index(b"\xff\xee")
        assert data[adobe : adobe + 16] in out


def test_an_adobe_segment_keeps_its_twelve_bytes_and_loses_anything_hidden_behind_them():
    data = bytearray(cmyk_red((64, 48)))
    adobe = data.index(b"\xff\xee")
    assert data[adobe + 2 : adobe + 4] == b"\x00\x0e"
    data[adobe + 2 : adobe + 4] = b"\x00\x1e"
    data[adobe + 16 : adobe + 16] = b"HIDDEN PAYLOAD!!"
    out = render_customer_copy(bytes(data), [], MINIMAL)
    assert b"HIDDEN" not in out and data[adobe + 4 : adobe + 16] in out
    assert np.array_equal(pixels(out), pixels(cmyk_red((64, 48))))


def test_the_icc_profile_chunks_are_copied_byte_for_byte():
    profile = srgb_profile()
    data = jpeg(photo((120, 80)), icc_profile=profile)
    for areas in ([], [AREA]):
        with Image.open(io.BytesIO(render_customer_copy(data, areas, NONE))) as image:
            assert image.info["icc_profile"] == profile


# --- redaction --------------------------------------------------------------------------------


def area_pixels(box: Box, size: tuple[int, int], margin: float = 0.0) -> tuple[int, ...]:
    w, h = size
    mx, my = (box.x1 - box.x0) * margin, (box.y1 - box.y0) * margin
    return (
        round(max(0, box.x0 - mx) * w),
        round(max(0, box.y0 - my) * h),
        round(min(1, box.x1 + mx) * w),
        round(min(1, box.y1 + my) * h),
    )


def upright_pixels(data: bytes) -> np.ndarray:
    from pix_pipeline.imaging.decode import upright

    with Image.open(io.BytesIO(data)) as image:
        orientation = image.getexif().get(0x0112, 1)
        return np.asarray(upright(image.convert("RGB"), orientation)).astype(np.int16)


@pytest.mark.parametrize("orientation", sorted(STORED_AS))
def test_an_area_is_drawn_where_it_is_on_the_upright_photo_for_every_orientation(orientation: int):
    upright = photo((300, 200), seed=orientation)
    stored = upright
    for step in STORED_AS[orientation]:
        stored = stored.transpose(step)
    data = camera_jpeg(stored, orientation=orientation)
    box = Box(x0=0.1, y0=0.2, x1=0.3, y1=0.5)  # upper left of the upright photo
    out = render_customer_copy(data, [box], MINIMAL)
    with Image.open(io.BytesIO(out)) as image:
        assert image.size == stored.size  # same stored pixel size, orientation kept as a tag
        assert image.getexif()[0x0112] == orientation
    before, after = upright_pixels(data), upright_pixels(out)
    x0, y0, x1, y1 = area_pixels(box, (300, 200), margin=0.15)
    inside = after[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2]
    assert inside.std(axis=(0, 1)).max() < 3, orientation  # flat: nothing of the photo left
    assert np.abs(before[y0:y1, x0:x1] - after[y0:y1, x0:x1]).mean() > 10
    outside = np.ones(before.shape[:2], bool)
    outside[max(0, y0 - 8) : y1 + 8, max(0, x0 - 8) : x1 + 8] = False
    assert np.abs(before - after)[outside].mean() < 1.5, orientation


@pytest.mark.parametrize("subsampling", [0, 1, 2], ids=["4:4:4", "4:2:2", "4:2:0"])
def test_a_redacted_copy_keeps_the_quantisation_tables_and_chroma_subsampling(subsampling: int):
    data = jpeg(photo((480, 320), seed=9), quality=88, subsampling=subsampling)
    out = render_customer_copy(data, [AREA, Box(x0=0.7, y0=0.7, x1=0.8, y1=0.9)], MINIMAL)
    with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(out)) as b:
        assert b.quantization == a.quantization
        assert JpegImagePlugin.get_sampling(b) == subsampling
        assert b.size == a.size
    before, after = pixels(data), pixels(out)
    mask = np.ones(before.shape[:2], bool)
    for box in (AREA, Box(x0=0.7, y0=0.7, x1=0.8, y1=0.9)):
        x0, y0, x1, y1 = area_pixels(box, (480, 320), margin=0.15)
        mask[max(0, y0 - 16) : y1 + 16, max(0, x0 - 16) : x1 + 16] = False
        assert pixels(out)[y0:y1, x0:x1].std(axis=(0, 1)).max() < 3
    assert np.abs(before - after)[mask].mean() < 1.5


def test_the_margin_is_15_percent_of_the_areas_own_size_clipped_to_the_photo():
    image = Image.new("RGB", (400, 400), (250, 250, 250))
    ImageDraw.Draw(image).rectangle((0, 0, 99, 99), fill=(0, 0, 0))
    data = jpeg(image, quality=95, subsampling=0)
    box = Box(x0=0.0, y0=0.0, x1=0.25, y1=0.25)  # the black square in the corner
    after = pixels(render_customer_copy(data, [box], NONE))
    # 0.25 + 15 % of 0.25 = 0.2875 -> 115 px, filled with the mean: 250 * (1 - 100² / 115²).
    assert 50 < after[50, 112].mean() < 75 and 50 < after[112, 50].mean() < 75
    assert 50 < after[50, 50].mean() < 75
    assert after[50, 125].mean() > 240 and after[125, 50].mean() > 240


def test_a_redacted_cmyk_copy_keeps_its_colours_outside_the_area():
    data = ycck_two_tone((300, 200))
    out = render_customer_copy(data, [Box(x0=0.4, y0=0.3, x1=0.6, y1=0.7)], MINIMAL)
    with Image.open(io.BytesIO(out)) as image:
        assert image.mode == "CMYK" and image.size == (300, 200)
        rgb = image.convert("RGB")
    with Image.open(io.BytesIO(data)) as original:
        expected = original.convert("RGB")
    for point in ((30, 100), (270, 100)):
        assert np.abs(np.subtract(rgb.getpixel(point), expected.getpixel(point))).max() < 12


@pytest.mark.parametrize(
    "make",
    [progressive, lambda: arithmetic_coded(jpeg(photo((400, 300), seed=7), quality=90))],
    ids=["progressive", "arithmetic"],
)
def test_progressive_and_arithmetic_files_are_redacted_into_valid_copies(make):
    data = make()
    out = render_customer_copy(data, [AREA], MINIMAL)
    before, after = pixels(data), pixels(out)
    assert after.shape == before.shape
    x0, y0, x1, y1 = area_pixels(AREA, (400, 300), margin=0.15)
    assert after[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].std(axis=(0, 1)).max() < 3
    assert np.abs(before - after)[: y0 - 16].mean() < 1.5


# --- hostile files ----------------------------------------------------------------------------


def test_truncated_and_lying_files_raise_a_rendition_error_that_says_where(camera: bytes):
    plain = jpeg(photo((120, 80)))
    app1 = camera.index(b"\xff\xe1")
    cases = {
        "truncated": (camera[: len(camera) // 2], "truncated"),
        "cut in a segment": (camera[: app1 + 40], "APP1 at byte"),
        "cut in a length": (plain[:3], "truncated"),
        "length past the end": (plain[:2] + b"\xff\xe1\xff\xf0" + b"x" * 20, "announces 65,520"),
        "impossible length": (plain[:2] + b"\xff\xe1\x00\x01" + plain[2:], "impossible length"),
        "no jpeg": (b"\x89PNG\r\n\x1a\n" + bytes(20), "not a JPEG"),
        "empty": (b"", "not a JPEG"),
        "no frame": (b"\xff\xd8\xff\xd9", "no start-of-frame"),
        "second soi": (plain[:2] + plain, "second start-of-image"),
        "twelve bit": (
            plain.replace(b"\xff\xc0\x00\x11\x08", b"\xff\xc1\x00\x11\x0c", 1),
            "12-bit",
        ),
        "lossless": (plain.replace(b"\xff\xc0", b"\xff\xc3", 1), "lossless"),
        "no quantisation table": (without_segment(plain, 0xDB), "quantisation table 0"),
        "scan of another frame": (other_component(plain), "names colour component 9"),
    }
    for name, (data, words) in cases.items():
        for areas in ([], [AREA]):
            with pytest.raises(RenditionError) as raised:
                render_customer_copy(data, areas, MINIMAL)
            assert words in str(raised.value), (name, str(raised.value))


def without_segment(data: bytes, marker: int) -> bytes:
    """`data` without every segment with `marker` (before the scan)."""
    out, pos = bytearray(data[:2]), 2
    while data[pos + 1] != 0xDA:
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if data[pos + 1] != marker:
            out += data[pos:end]
        pos = end
    return bytes(out + data[pos:])


def other_component(data: bytes) -> bytes:
    """`data` with its scan naming component 9 instead of its first one."""
    at = data.index(b"\xff\xda")
    return data[: at + 5] + b"\x09" + data[at + 6 :]


def test_a_bomb_header_is_refused_before_decoding():
    plain = jpeg(photo((64, 48)))
    at = plain.index(b"\xff\xc0")
    bomb = plain[: at + 5] + struct.pack(">HH", 50_000, 50_000) + plain[at + 9 :]
    with pytest.raises(RenditionError, match="50000x50000"):
        render_customer_copy(bomb, [AREA], MINIMAL)


def decodes(data: bytes) -> np.ndarray | None:
    try:
        return pixels(data)
    except Exception:  # whatever Pillow raises for a broken file
        return None


def orientation(data: bytes) -> int:
    """The orientation the pipeline reads (and makes its upright previews with)."""
    return read_info(data, 10**9).orientation


def test_corrupt_files_give_a_valid_copy_or_a_rendition_error_never_another_exception():
    """A camera file cut off or overwritten at random places in its headers: each copy either
    decodes as the damaged original does (no areas: its scan data is copied as it came, which
    the pipeline has decoded before) or decodes at all (areas), or the renderer says why not."""
    camera = camera_jpeg(photo((240, 160), seed=8), orientation=3)
    rng = random.Random(24)
    header_end = camera.index(b"\xff\xda", camera.index(b"\xff\xd9") + 2)
    variants = [camera[:cut] for cut in rng.sample(range(len(camera)), 30)]
    exif_at = camera.index(b"Exif\x00\x00")
    for low, high in ((2, header_end), (exif_at, exif_at + 200)):  # anywhere; in IFD0
        for _ in range(50):
            spoiled = bytearray(camera)
            for _ in range(rng.randint(1, 4)):
                spoiled[rng.randrange(low, high)] = rng.randrange(256)
            variants.append(bytes(spoiled))
    outcomes = {"copied": 0, "redacted": 0, "refused": 0}
    for data in variants:
        original = decodes(data)
        for areas, rule in (([], MINIMAL), ([AREA], MINIMAL), ([AREA], ORIGINAL)):
            try:
                out = render_customer_copy(data, areas, rule)
            except RenditionError:
                outcomes["refused"] += 1
                continue
            assert out.startswith(b"\xff\xd8") and out.endswith(b"\xff\xd9")
            assert rule is ORIGINAL or BODY_SERIAL.encode() not in out
            if rule is MINIMAL and original is not None:  # upright as the previews were made
                assert orientation(out) == orientation(data)
            copy = decodes(out)
            if areas:
                assert copy is not None and (original is None or copy.shape == original.shape)
                outcomes["redacted"] += 1
            elif original is not None:
                assert copy is not None and np.array_equal(copy, original)
                outcomes["copied"] += 1
    assert min(outcomes.values()) > 0, outcomes


def test_a_copy_without_exif_gets_none_and_keeps_its_pixels():
    data = jpeg(photo((160, 120)))
    assert b"Exif" not in data
    out = render_customer_copy(data, [], MINIMAL)
    assert b"Exif" not in out and np.array_equal(pixels(out), pixels(data))


def test_the_renderer_has_a_version_for_gallery_fingerprints_and_takes_rules_by_name(
    camera: bytes, copies
):
    assert isinstance(RENDITION_VERSION, int) and RENDITION_VERSION >= 1
    assert {rule.value for rule in MetadataRule} == {"minimal", "none", "original"}
    assert render_customer_copy(camera, [], "original") == camera  # type: ignore[arg-type]
    assert render_customer_copy(camera, [], "none") == copies[NONE, False]  # type: ignore[arg-type]
    with pytest.raises(RenditionError, match="unknown metadata rule 'all'"):
        render_customer_copy(camera, [], "all")  # type: ignore[arg-type]


# --- the project's own detectors on a redacted copy --------------------------------------------


@pytest.fixture(scope="module")
def privacy_checks():
    from pix_pipeline.analysis.local.privacy import LocalPrivacyChecks
    from pix_pipeline.settings import PrivacyThresholds

    return LocalPrivacyChecks(PrivacyThresholds())


def street_scene() -> Image.Image:
    """A real face (scikit-image's astronaut) and a house number on a plaque beside it."""
    from PIL import ImageFont

    from pix_pipeline_tests.images import astronaut_photo

    scene = astronaut_photo()
    draw = ImageDraw.Draw(scene)
    draw.rectangle((1800, 330, 2160, 620), fill=(245, 245, 240), outline=(30, 30, 30), width=6)
    font = ImageFont.load_default(size=230)
    draw.text((1980, 475), "17", font=font, fill=(15, 15, 15), anchor="mm")
    return scene


def test_the_projects_detectors_find_nothing_in_the_redacted_areas_of_a_copy(privacy_checks):
    from pix_pipeline.imaging.thumbnails import make_previews, open_preview

    def preview(data: bytes) -> Image.Image:
        return open_preview(make_previews(data, 150_000_000).large_jpeg)

    def crop(image: Image.Image, box: Box) -> Image.Image:
        w, h = image.size
        return image.crop(area_pixels(box, (w, h)))

    # Stored rotated, as a phone held upright stores it: the areas are found upright.
    data = camera_jpeg(street_scene().transpose(Image.Transpose.ROTATE_90), orientation=6)
    before = preview(data)
    faces = [d.box for d in privacy_checks.find_faces(before).items if d.box is not None]
    lines = privacy_checks.reader.read(before)
    assert len(faces) == 1 and [line.text for line in lines] == ["17"]
    areas = [*faces, lines[0].box]

    copy = preview(render_customer_copy(data, areas, MINIMAL))
    after = privacy_checks.analyze(copy)
    assert after.faces.items == [] and after.text.items == []
    for box in areas:
        assert privacy_checks.reader.read(crop(copy, box)) == []
        assert privacy_checks.faces.detect(crop(copy, box)) == []


def test_without_exiftool_the_metadata_checks_skip_or_fail_when_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder without exiftool
    monkeypatch.delenv("PIX_REQUIRE_EXIFTOOL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="libimage-exiftool-perl"):
        exiftool_executable()
    monkeypatch.setenv("PIX_REQUIRE_EXIFTOOL", "1")
    with pytest.raises(pytest.fail.Exception, match="PIX_REQUIRE_EXIFTOOL=1 but exiftool"):
        exiftool_executable()
