"""Hostile deliveries through the real flow: sensor tick, job run, meta JSON, gallery.

Each bad file ends as `error` with a message that names the problem; the good files of the same
job are processed as if the bad ones were not there.
"""

import io
import os
import shutil
import subprocess
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pix_pipeline.domain.models import ImageMeta
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import (
    cmyk_red,
    jpeg_bytes,
    photo,
    png_bytes,
    two_tone,
    write_settled,
)

JOB = "HOSTILE1"
RED, BLUE = (230, 20, 20), (20, 20, 230)
UPRIGHT = two_tone((300, 200), RED, BLUE)
# What a camera stores for each EXIF orientation so that the photo displays as UPRIGHT.
STORED_AS = {
    1: (),
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_90,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_270,),
}


def saved(image: Image.Image, kind: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=kind, **options)
    return buffer.getvalue()


def with_frame_header(data: bytes, marker: int, precision: int | None = None) -> bytes:
    """The same JPEG with another start-of-frame marker (and sample precision)."""
    at = data.index(b"\xff\xc0")
    header = bytearray(data[at : at + 5])
    header[1] = marker
    if precision is not None:
        header[4] = precision
    return data[:at] + bytes(header) + data[at + 5 :]


def bomb_header(width: int, height: int) -> bytes:
    data = jpeg_bytes(photo((64, 48)))
    at = data.index(b"\xff\xc0")
    size = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return data[: at + 5] + size + data[at + 9 :]


def bad_files() -> dict[str, tuple[bytes, str]]:
    """name -> (content, words the error message must contain)."""
    good = jpeg_bytes(photo((640, 480), seed=3))
    return {
        "truncated.jpg": (good[: len(good) * 2 // 3], "JPEG"),
        "zero.jpg": (b"", "empty file (0 bytes)"),
        "screenshot.jpg": (png_bytes(), "PNG data with a JPEG name"),
        "web.jpg": (saved(photo((64, 48)), "WEBP"), "WebP data with a JPEG name"),
        "anim.jpg": (saved(photo((64, 48)), "GIF"), "GIF data with a JPEG name"),
        "iphone.jpg": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "HEIC"),
        "scan.jpg": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "PDF"),
        "noise.jpg": (os.urandom(4096), "not JPEG data"),
        "twelve_bit.jpg": (with_frame_header(good, 0xC1, precision=12), "12-bit JPEG"),
        "lossless.jpg": (with_frame_header(good, 0xC3), "lossless JPEG (SOF3)"),
        "bomb.jpg": (bomb_header(50_000, 50_000), "50000x50000"),
    }


def good_files() -> dict[str, bytes]:
    files = {
        f"orientation_{n}.jpg": jpeg_bytes(_apply(UPRIGHT, STORED_AS[n]), orientation=n, quality=95)
        for n in STORED_AS
    }
    files["progressive.jpg"] = saved(photo((800, 600), seed=4), "JPEG", progressive=True)
    files["cmyk.jpg"] = cmyk_red((500, 400))
    names = [
        "with space.jpg",
        "Umlaut_äöüß.jpg",
        "emoji_📷.jpg",
        "-leading-dash.jpg",
        "L" * 200 + ".jpg",
        "Case.jpg",
        "case.JPG",
    ]
    for i, name in enumerate(names):
        files[name] = jpeg_bytes(photo((320, 240), seed=10 + i))
    return files


def _apply(image: Image.Image, steps: tuple[Image.Transpose, ...]) -> Image.Image:
    for step in steps:
        image = image.transpose(step)
    return image


def metas(harness: Harness) -> dict[str, ImageMeta]:
    folder = harness.job_path(JOB, "pipeline/meta/images")
    docs = [ImageMeta.model_validate_json(p.read_text(encoding="utf-8")) for p in folder.iterdir()]
    return {m.filename: m for m in docs}


@pytest.fixture
def delivered(harness: Harness) -> Harness:
    folder = harness.final_input(JOB)
    for name, (data, _) in bad_files().items():
        write_settled(folder / name, data)
    for name, data in good_files().items():
        write_settled(folder / name, data)
    # A link that points outside the job: never followed, never registered.
    outside = harness.root / "secret.jpg"
    outside.write_bytes(jpeg_bytes(photo((64, 48))))
    (folder / "escape.jpg").symlink_to(outside)
    harness.tick_and_run()
    return harness


def test_each_bad_file_ends_as_error_with_a_reason_that_names_it(delivered: Harness):
    by_name = metas(delivered)
    for name, (_, words) in bad_files().items():
        meta = by_name[name]
        assert meta.status == "error", name
        assert meta.error_message is not None and words in meta.error_message, (
            name,
            meta.error_message,
        )
        assert meta.error_message.startswith(f"final_input/{name}: ")


def test_every_good_file_is_processed_and_in_the_draft_gallery(delivered: Harness):
    by_name = metas(delivered)
    gallery = {p.name for p in delivered.job_path(JOB, "gallery/images").iterdir()}
    for name in good_files():
        assert by_name[name].status == "processed", (name, by_name[name].error_message)
        assert name in gallery
    assert gallery == set(good_files())
    assert "escape.jpg" not in by_name
    expose = delivered.read_json(JOB, "pipeline/meta/job_expose.json")
    assert expose["counts"]["processed"] == len(good_files())
    assert expose["counts"]["error"] == len(bad_files())


def test_every_exif_orientation_gives_an_upright_preview_and_rotated_dimensions(
    delivered: Harness,
):
    by_name = metas(delivered)
    for n in STORED_AS:
        meta = by_name[f"orientation_{n}.jpg"]
        assert (meta.width, meta.height) == (300, 200), n
        assert meta.thumbnails is not None
        preview = delivered.root / meta.thumbnails.small
        with Image.open(preview) as image:
            rgb = image.convert("RGB")
            assert rgb.size == (300, 200), n
            left, right = rgb.getpixel((30, 100)), rgb.getpixel((270, 100))
        assert left[0] > 150 and left[2] < 100, (n, left)  # red on the left
        assert right[2] > 150 and right[0] < 100, (n, right)  # blue on the right


def test_names_that_differ_only_in_case_are_two_images(delivered: Harness):
    by_name = metas(delivered)
    assert by_name["Case.jpg"].image_id != by_name["case.JPG"].image_id
    assert by_name["Case.jpg"].content_hash != by_name["case.JPG"].content_hash


def test_a_12000_x_8000_photo_is_processed(harness: Harness):
    big = Image.radial_gradient("L").resize((12000, 8000)).convert("RGB")
    write_settled(harness.final_input("BIG1") / "huge.jpg", saved(big, "JPEG", quality=80))
    harness.tick_and_run()
    meta = next(
        ImageMeta.model_validate_json(p.read_text(encoding="utf-8"))
        for p in harness.job_path("BIG1", "pipeline/meta/images").iterdir()
    )
    assert meta.status == "processed" and (meta.width, meta.height) == (12000, 8000)
    assert meta.thumbnails is not None and meta.thumbnails.large_size == (1600, 1067)


def test_a_20000_x_2_photo_goes_through_every_step(harness: Harness, monkeypatch):
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "local")
    h = Harness(harness.root, harness.instance)
    write_settled(h.final_input("LONG1") / "strip.jpg", jpeg_bytes(photo((20000, 2))))
    h.tick_and_run()
    meta = next(
        ImageMeta.model_validate_json(p.read_text(encoding="utf-8"))
        for p in h.job_path("LONG1", "pipeline/meta/images").iterdir()
    )
    assert meta.status == "processed", meta.error_message
    assert (meta.width, meta.height) == (20000, 2)
    assert {s.status for s in meta.steps.values()} <= {"ok", "skipped"}
    assert meta.privacy is not None and meta.privacy.provider.startswith("local/4")
    assert meta.privacy.faces.status == "clear"
    h.close()


def test_a_file_replaced_by_garbage_after_processing_becomes_an_error_alone(harness: Harness):
    folder = harness.final_input("SWAP1")
    write_settled(folder / "a.jpg", jpeg_bytes(photo((320, 240), seed=1)))
    write_settled(folder / "b.jpg", jpeg_bytes(photo((320, 240), seed=2)))
    harness.tick_and_run()
    write_settled(folder / "a.jpg", b"\xff\xd8\xff" + os.urandom(2000))
    harness.tick_and_run()
    rows = {r.filename: r for r in harness.registry.images_of_job("SWAP1")}
    assert rows["a.jpg"].status == "error" and rows["b.jpg"].status == "processed"
    gallery = {p.name for p in harness.job_path("SWAP1", "gallery/images").iterdir()}
    assert gallery == {"b.jpg"}


@pytest.mark.parametrize("name", ["bad job", "ÄÖÜ", "a" * 65, "job\n", "-dash", "job.v2"])
def test_folders_that_are_not_job_ids_never_become_partitions(harness: Harness, name: str):
    folder = harness.root / "pix-jobs" / name / "final_input"
    folder.mkdir(parents=True)
    write_settled(folder / "a.jpg", jpeg_bytes(photo((64, 48))))
    result = harness.tick()
    partitions = harness.instance.get_dynamic_partitions("pix_jobs")
    assert name not in partitions
    assert harness.registry.get_job(name) is None
    assert repr(name) in (result.skip_reason.skip_message if result.skip_reason else "")


def test_a_path_like_file_name_cannot_leave_its_folder():
    from pix_pipeline.domain import layout
    from pix_pipeline.domain.layout import LayoutError

    for name in ("../a.jpg", "x/../../a.jpg", "/etc/a.jpg", "..", "a\x00.jpg"):
        with pytest.raises(LayoutError):
            layout.gallery_image_key("JOB1", name)


def processed_preview(harness: Harness, job_id: str, data: bytes) -> Image.Image:
    """Deliver `data` as the job's only photo, run the job, return its small preview in RGB."""
    write_settled(harness.final_input(job_id) / "photo.jpg", data)
    harness.tick_and_run()
    [row] = harness.registry.images_of_job(job_id)
    assert row.status == "processed", row.error_message
    meta = ImageMeta.model_validate(row.meta)
    assert meta.thumbnails is not None
    with Image.open(harness.root / meta.thumbnails.small) as preview:
        return preview.convert("RGB")


def arithmetic_coded(data: bytes) -> bytes:
    """The same JPEG re-coded with arithmetic coding by libjpeg-turbo's jpegtran (lossless)."""
    jpegtran = shutil.which("jpegtran")
    if jpegtran is None:
        if os.environ.get("PIX_REQUIRE_JPEGTRAN") == "1":
            pytest.fail("PIX_REQUIRE_JPEGTRAN=1 but jpegtran is not installed")
        pytest.skip("jpegtran (Debian: libjpeg-turbo-progs) makes the arithmetic-coded JPEG")
    done = subprocess.run([jpegtran, "-arithmetic"], input=data, capture_output=True, check=True)
    return done.stdout


def test_an_arithmetic_coded_jpeg_is_processed_with_its_colours(harness: Harness):
    data = arithmetic_coded(jpeg_bytes(two_tone((300, 200), RED, BLUE), quality=95))
    assert b"\xff\xc9" in data  # SOF9: arithmetic-coded, sequential
    left = processed_preview(harness, "ARITH1", data).getpixel((30, 100))
    assert left[0] > 150 and left[2] < 100, left


def ycck_two_tone(size: tuple[int, int]) -> bytes:
    """A YCCK JPEG (Adobe transform 2) that displays red on the left, blue on the right.

    libjpeg turns YCCK into CMYK as C = 255 - R(Y, Cb, Cr) (likewise M, Y) and keeps K, and
    Pillow stores CMYK inverted (Adobe style). So the planes hold YCbCr of the wanted (c, m, y),
    inverted, with K as is, written as a CMYK JPEG whose Adobe marker is then set to YCCK.
    """
    w, h = size
    cmyk = np.zeros((h, w, 4), np.float64)
    cmyk[:, : w // 2] = (0, 255, 255, 0)  # red
    cmyk[:, w // 2 :] = (255, 255, 0, 0)  # blue
    c, m, y, k = (cmyk[..., i] for i in range(4))
    luma = 0.299 * c + 0.587 * m + 0.114 * y
    cb = -0.168736 * c - 0.331264 * m + 0.5 * y + 128
    cr = 0.5 * c - 0.418688 * m - 0.081312 * y + 128
    planes = np.stack([255 - luma, 255 - cb, 255 - cr, k], axis=-1)
    data = bytearray(
        saved(Image.fromarray(planes.round().clip(0, 255).astype(np.uint8), "CMYK"), "JPEG")
    )
    adobe = data.index(b"Adobe") - 4
    assert data[adobe : adobe + 2] == b"\xff\xee"  # the APP14 segment
    # APP14: marker, length, "Adobe", version, flags0, flags1, then the transform byte.
    data[adobe + 15] = 2
    return bytes(data)


def test_a_ycck_jpeg_is_processed_with_its_colours(harness: Harness):
    data = ycck_two_tone((300, 200))
    with Image.open(io.BytesIO(data)) as image:
        assert (image.mode, image.info.get("adobe_transform")) == ("CMYK", 2)
    rgb = processed_preview(harness, "YCCK1", data)
    left, right = rgb.getpixel((30, 100)), rgb.getpixel((270, 100))
    assert left[0] > 150 and left[2] < 100, left  # red
    assert right[2] > 90 and right[0] < 100, right  # blue
