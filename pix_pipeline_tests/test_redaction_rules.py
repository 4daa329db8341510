"""The redaction rules without a pipeline: matching by overlap, duplicate findings, the area
form's numbers and the PIX_REDACT_AUTO setting."""

from datetime import UTC, datetime

import pytest

from pix_pipeline.domain import redaction
from pix_pipeline.domain.models import (
    Box,
    CategoryResult,
    Detection,
    Finding,
    ImageMeta,
    PrivacyResult,
)
from pix_pipeline.registry.schema import RedactionRow
from pix_pipeline.settings import SettingsError, load_settings


def box(x0: float, y0: float, x1: float, y1: float) -> Box:
    return Box(x0=x0, y0=y0, x1=x1, y1=y1)


def meta_with(text: list[Detection], faces: list[Detection] | None = None) -> ImageMeta:
    def category(items: list[Detection]) -> CategoryResult:
        return CategoryResult(status=Finding.DETECTED if items else Finding.CLEAR, items=items)

    privacy = PrivacyResult(provider="test", text=category(text), faces=category(faces or []))
    return ImageMeta.model_validate(
        {
            "image_id": "00000000-0000-0000-0000-000000000001",
            "job_id": "J",
            "filename": "a.jpg",
            "storage_path": "pix-jobs/J/final_input/a.jpg",
            "source": "editor",
            "status": "processed",
            "content_hash": "c1",
            "width": 100,
            "height": 100,
            "privacy": privacy.model_dump(mode="json"),
        }
    )


def redaction_row(category: str, b: Box, *, undone: bool = False) -> RedactionRow:
    return RedactionRow(
        id=1,
        image_id="i",
        job_id="J",
        category=category,
        x0=b.x0,
        y0=b.y0,
        x1=b.x1,
        y1=b.y1,
        source="daniel",
        created_at=datetime.now(UTC),
        undone_at=datetime.now(UTC) if undone else None,
    )


def test_iou_of_boxes():
    a = box(0.0, 0.0, 0.2, 0.2)
    assert redaction.iou(a, a) == pytest.approx(1.0)
    assert redaction.iou(a, box(0.1, 0.0, 0.3, 0.2)) == pytest.approx(1 / 3)
    assert redaction.iou(a, box(0.5, 0.5, 0.6, 0.6)) == 0.0


def test_a_finding_after_a_rerun_counts_as_redacted_from_an_overlap_of_one_half():
    redacted = redaction_row("faces", box(0.40, 0.10, 0.50, 0.30))
    # IoU exactly 0.5: the same face, found again a little wider.
    wider = redaction.FoundArea("faces", "faces", "face", 0.9, None, box(0.40, 0.10, 0.55, 0.30))
    assert redaction.iou(wider.box, redaction.row_box(redacted)) == pytest.approx(2 / 3)
    assert redaction.matching(wider, [redacted]) is redacted
    half = redaction.FoundArea("faces", "faces", "face", 0.9, None, box(0.40, 0.10, 0.60, 0.30))
    assert redaction.iou(half.box, redaction.row_box(redacted)) == pytest.approx(0.5)
    assert redaction.matching(half, [redacted]) is redacted
    shifted = redaction.FoundArea("faces", "faces", "face", 0.9, None, box(0.45, 0.10, 0.60, 0.30))
    assert redaction.iou(shifted.box, redaction.row_box(redacted)) < 0.5
    assert redaction.matching(shifted, [redacted]) is None
    # Another category at the same place is another finding.
    plate = redaction.FoundArea(
        "licence_plates", "licence_plates", "licence_plate", 0.9, None, half.box
    )
    assert redaction.matching(plate, [redacted]) is None


def test_an_active_redaction_decides_a_finding_before_an_undone_one():
    b = box(0.1, 0.1, 0.3, 0.2)
    undone, done = redaction_row("text", b, undone=True), redaction_row("text", b)
    area = redaction.FoundArea("text", "text", "text", 0.9, "X", b)
    assert redaction.matching(area, [undone, done]) is done
    assert redaction.matching(area, [undone]) is undone


def test_duplicate_findings_of_one_word_are_one_finding():
    meta = meta_with(
        [
            Detection(
                label="text", score=0.81, box=box(0.10, 0.40, 0.50, 0.50), text="CARSON CITY"
            ),
            Detection(label="text", score=0.93, box=box(0.11, 0.40, 0.49, 0.51), text="CARSONCITY"),
            Detection(label="house_number", score=0.9, box=box(0.7, 0.7, 0.8, 0.8), text="17b"),
        ]
    )
    found = redaction.found_areas(meta)
    assert [(a.category, a.text) for a in found] == [
        ("text", "CARSONCITY"),
        ("house_numbers", "17b"),
    ]


def test_a_category_counts_as_handled_only_when_every_finding_is_redacted():
    sign = box(0.10, 0.40, 0.50, 0.50)
    meta = meta_with(
        [
            Detection(label="text", score=0.9, box=sign, text="CARSON CITY"),
            Detection(label="text", score=0.8, box=box(0.6, 0.1, 0.7, 0.2), text="EXIT"),
        ],
        faces=[Detection(label="face", score=0.9, box=None)],
    )
    assert redaction.redacted_categories(meta, [redaction_row("text", sign)]) == set()
    both = [redaction_row("text", sign), redaction_row("text", box(0.6, 0.1, 0.7, 0.2))]
    assert redaction.redacted_categories(meta, both) == {"text"}
    # A face without a box cannot be redacted: faces stay open whatever is recorded.
    assert "faces" in redaction.unboxed_categories(meta)
    assert "faces" not in redaction.redacted_categories(meta, [*both, redaction_row("faces", sign)])


@pytest.mark.parametrize(
    ("x", "y", "w", "h"),
    [
        ("abc", "0.1", "0.1", "0.1"),
        ("", "0.1", "0.1", "0.1"),
        ("-0.1", "0.1", "0.1", "0.1"),
        ("0.1", "0.1", "0", "0.1"),
        ("0.8", "0.1", "0.3", "0.1"),
        ("0.1", "0.95", "0.1", "0.1"),
        ("nan", "0.1", "0.1", "0.1"),
        ("1", "0", "0.1", "0.1"),
    ],
)
def test_an_area_outside_the_photo_or_not_a_number_is_refused(x, y, w, h):
    with pytest.raises(redaction.AreaError):
        redaction.parse_area(x, y, w, h)


def test_an_area_takes_fractions_with_a_comma_or_a_point():
    assert redaction.parse_area("0,25", "0.5", "0.5", "0,5") == box(0.25, 0.5, 0.75, 1.0)


def test_the_redaction_policy_setting(tmp_path):
    env = {"PIX_LOCAL_ROOT": str(tmp_path)}
    assert load_settings(env).redact_auto == ("faces", "licence_plates")
    assert load_settings({**env, "PIX_REDACT_AUTO": "none"}).redact_auto == ()
    chosen = load_settings({**env, "PIX_REDACT_AUTO": "text, house_numbers"}).redact_auto
    assert chosen == ("house_numbers", "text")
    with pytest.raises(SettingsError, match=r"PIX_REDACT_AUTO.*plates"):
        load_settings({**env, "PIX_REDACT_AUTO": "faces,plates"})
