"""Which areas of a photo its customer copies obscure ("Unkenntlich machen").

A redaction is data in the registry (RedactionRow): a box in 0–1 coordinates of the upright
photo, its category, the finding it came from, who decided it and when. The customer's copies
are derived from the active redactions by the gallery sync; nothing here touches pixels.

Findings and redactions are matched by their boxes, not by identity, so decisions survive
reruns and better detectors: a finding of the same category whose box overlaps a redaction
with IoU >= MATCH_IOU counts as redacted. The same rule folds duplicate findings of one word
("CARSON CITY" and "CARSONCITY" on one sign) into one.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pix_pipeline.domain.models import PRIVACY_CATEGORIES, Box, ImageMeta, ImageStatus
from pix_pipeline.registry.repository import NewRedaction
from pix_pipeline.registry.schema import ImageRow, RedactionRow

MATCH_IOU = 0.5
# Boxes are stored as floats: an overlap of exactly one half must not fail by a rounding error.
_EPSILON = 1e-9


def overlaps(a: Box, b: Box) -> bool:
    """The matching rule: IoU >= MATCH_IOU."""
    return iou(a, b) >= MATCH_IOU - _EPSILON


class RedactionSource(StrEnum):
    DANIEL = "daniel"
    POLICY = "policy"


# A dragged rectangle: no finding behind it.
AREA = "area"
# Redaction categories of findings: the privacy categories, with house numbers apart from
# other text (PIX_REDACT_AUTO names them separately).
HOUSE_NUMBERS = "house_numbers"
FINDING_CATEGORIES = ("faces", "licence_plates", HOUSE_NUMBERS, "text", "logos")


def redaction_category(privacy_category: str, label: str) -> str:
    """The redaction category of a finding: its privacy category, or house_numbers."""
    if privacy_category == "text" and label == "house_number":
        return HOUSE_NUMBERS
    return privacy_category


@dataclass(frozen=True)
class FoundArea:
    """One finding with a box, as the redaction rules see it."""

    category: str  # redaction category
    privacy_category: str
    label: str
    score: float
    text: str | None
    box: Box

    @property
    def key(self) -> str:
        """How the desk's form names this finding: category and box, 4 decimals."""
        b = self.box
        return f"{self.category}:{b.x0:.4f},{b.y0:.4f},{b.x1:.4f},{b.y1:.4f}"


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty)."""
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union if union > 0 else 0.0


def row_box(row: RedactionRow) -> Box:
    return Box(x0=row.x0, y0=row.y0, x1=row.x1, y1=row.y1)


def current_meta(image: ImageRow) -> ImageMeta | None:
    """The photo's meta when it describes its current content (else its findings are stale)."""
    if image.meta is None:
        return None
    meta = ImageMeta.model_validate(image.meta)
    return meta if meta.content_hash == image.content_hash else None


def found_areas(meta: ImageMeta | None) -> list[FoundArea]:
    """The boxed findings of a photo, one per area: of findings of one category that overlap
    with IoU >= MATCH_IOU only the surest is kept."""
    if meta is None or meta.privacy is None:
        return []
    candidates = [
        FoundArea(
            redaction_category(category, item.label),
            category,
            item.label,
            item.score,
            item.text,
            item.box,
        )
        for category in PRIVACY_CATEGORIES
        for item in meta.privacy.category(category).items
        if item.box is not None
    ]
    kept: list[FoundArea] = []
    for area in sorted(candidates, key=lambda a: -a.score):
        if not any(k.category == area.category and overlaps(k.box, area.box) for k in kept):
            kept.append(area)
    order = {area: i for i, area in enumerate(candidates)}
    return sorted(kept, key=order.__getitem__)


def unboxed_categories(meta: ImageMeta | None) -> set[str]:
    """Privacy categories with a finding that says nothing about where it is: such a photo
    cannot be made safe by redaction (Daniel checks or hides it)."""
    if meta is None or meta.privacy is None:
        return set()
    return {
        category
        for category in PRIVACY_CATEGORIES
        if any(item.box is None for item in meta.privacy.category(category).items)
    }


def matching(area: FoundArea, rows: Iterable[RedactionRow]) -> RedactionRow | None:
    """The redaction that decides this finding: the active one that overlaps it most (IoU >=
    MATCH_IOU, same category), else such an undone one (Daniel took it back), else None."""
    best: tuple[bool, float, RedactionRow] | None = None
    for row in rows:
        if row.category != area.category:
            continue
        if not overlaps(area.box, row_box(row)):
            continue
        overlap = iou(area.box, row_box(row))
        rank = (row.undone_at is None, overlap, row)
        if best is None or rank[:2] > best[:2]:
            best = rank
    return best[2] if best else None


def active(rows: Iterable[RedactionRow]) -> list[RedactionRow]:
    return [r for r in rows if r.undone_at is None]


def to_confirm(image: ImageRow, rows: Iterable[RedactionRow]) -> list[RedactionRow]:
    """Active redactions decided for other content: the file was replaced since ("zu prüfen")."""
    return [r for r in active(rows) if r.confirmed_hash != image.content_hash]


def areas(rows: Iterable[RedactionRow]) -> list[Box]:
    """The boxes the customer's copies obscure, in a stable order."""
    boxes = [row_box(r) for r in active(rows)]
    return sorted(boxes, key=lambda b: (b.x0, b.y0, b.x1, b.y1))


def areas_digest(boxes: Sequence[Box]) -> str:
    """Part of a gallery copy's fingerprint: "" without areas, else a digest of their boxes."""
    if not boxes:
        return ""
    text = ";".join(f"{b.x0:.4f},{b.y0:.4f},{b.x1:.4f},{b.y1:.4f}" for b in boxes)
    return hashlib.sha256(text.encode()).hexdigest()


def redacted_categories(meta: ImageMeta | None, rows: Sequence[RedactionRow]) -> set[str]:
    """Detected privacy categories whose every finding is redacted: handled for the release."""
    if meta is None or meta.privacy is None:
        return set()
    found = found_areas(meta)
    done = set()
    for category in meta.privacy.detected():
        mine = [a for a in found if a.privacy_category == category]
        covered = [a for a in mine if (m := matching(a, rows)) is not None and m.undone_at is None]
        if mine and len(covered) == len(mine) and category not in unboxed_categories(meta):
            done.add(category)
    return done


def policy_redactions(
    image: ImageRow,
    rows: Sequence[RedactionRow],
    policy: Sequence[str],
    *,
    checked: bool,
    released_as_is: bool,
) -> list[NewRedaction]:
    """What PIX_REDACT_AUTO adds for the photo's findings: each finding of a policy category
    that no redaction decides yet (an undone one counts: Daniel said no).

    It applies to new findings only: not to content Daniel marked checked, and not to a photo
    whose content the customer already has as released (that would change a released gallery
    without Daniel).
    """
    if not policy or checked or released_as_is or image.status != ImageStatus.PROCESSED:
        return []
    return [
        finding_redaction(image, area, None, source=RedactionSource.POLICY)
        for area in found_areas(current_meta(image))
        if area.category in policy and matching(area, rows) is None
    ]


def finding_redaction(
    image: ImageRow,
    area: FoundArea,
    by: str | None,
    *,
    source: RedactionSource = RedactionSource.DANIEL,
) -> NewRedaction:
    """The redaction of one finding, by Daniel or by the policy."""
    return NewRedaction(
        image_id=image.image_id,
        category=area.category,
        x0=area.box.x0,
        y0=area.box.y0,
        x1=area.box.x1,
        y1=area.box.y1,
        source=source.value,
        created_by=by,
        finding_label=area.label,
        finding_text=area.text,
    )


class AreaError(ValueError):
    """A dragged (or typed) area that is not a rectangle inside the photo."""


MIN_AREA_SIDE = 0.002


def parse_area(x: str, y: str, w: str, h: str) -> Box:
    """The rectangle of the desk's form: fractions 0–1 of the upright photo."""
    try:
        values = [float(v.strip().replace(",", ".")) for v in (x, y, w, h)]
    except ValueError:
        raise AreaError("not a number") from None
    x0, y0, width, height = values
    if any(v != v for v in values):  # NaN
        raise AreaError("not a number")
    if not (0 <= x0 < 1 and 0 <= y0 < 1):
        raise AreaError("outside the photo")
    if width < MIN_AREA_SIDE or height < MIN_AREA_SIDE:
        raise AreaError("too small")
    if x0 + width > 1 + 1e-6 or y0 + height > 1 + 1e-6:
        raise AreaError("outside the photo")
    return Box(x0=x0, y0=y0, x1=min(x0 + width, 1.0), y1=min(y0 + height, 1.0))


def area_redaction(image: ImageRow, box: Box, by: str) -> NewRedaction:
    """Daniel's dragged rectangle."""
    return NewRedaction(
        image_id=image.image_id,
        category=AREA,
        x0=box.x0,
        y0=box.y0,
        x1=box.x1,
        y1=box.y1,
        source=RedactionSource.DANIEL.value,
        created_by=by,
    )


def apply_policy(
    images: Sequence[ImageRow],
    redactions: Mapping[str, Sequence[RedactionRow]],
    policy: Sequence[str],
    *,
    released: bool,
    checked: Mapping[str, bool],
) -> list[NewRedaction]:
    """The policy's additions for every photo of a job (pure; the caller records them)."""
    new: list[NewRedaction] = []
    for image in images:
        new += policy_redactions(
            image,
            redactions.get(image.image_id, []),
            policy,
            checked=checked.get(image.image_id, False),
            released_as_is=released and image.gallery_hash == image.content_hash,
        )
    return new
