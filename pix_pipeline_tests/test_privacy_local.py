"""The local privacy check on real and rendered photos, and its findings in the job outputs."""

import json

import pytest
from PIL import Image, ImageDraw, ImageFont

from pix_pipeline.analysis.local.privacy import LocalPrivacyChecks
from pix_pipeline.analysis.local.text_rules import is_house_number, is_licence_plate
from pix_pipeline.domain.models import Finding
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


@pytest.mark.parametrize("text", ["42", "17b", "7 A", "3-5", "12/14", "4"])
def test_house_numbers_are_recognised(text: str):
    assert is_house_number(text)


@pytest.mark.parametrize("text", ["Familie Müller", "1234 Main St", "abc", "42abc", "12345"])
def test_other_text_is_not_a_house_number(text: str):
    assert not is_house_number(text)


@pytest.mark.parametrize(
    "text", ["M AB 1234", "B-XY 123E", "HH A 1", "D KA F 621", "AB-123-CD", "AB12 CDE"]
)
def test_licence_plate_formats_are_recognised(text: str):
    assert is_licence_plate(text)


@pytest.mark.parametrize("text", ["Hausverwaltung", "42a", "1234", "Praxis Dr. Weber"])
def test_ordinary_text_is_not_a_licence_plate(text: str):
    assert not is_licence_plate(text)


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
    assert (
        result.model_version
        and "rapidocr" in result.model_version
        and "opencv" in result.model_version
    )
    assert result.thresholds["text_min_score"] == 0.6


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
    assert portrait["privacy"]["provider"].startswith("local/1 (rapidocr-")
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
    for internal_only in ("17b", "privacy", "rapidocr", "provider", "cleanup", "face"):
        assert internal_only not in customer.lower()
    h.close()
