"""What Daniel sees of a job in the UI: per-image rows, a contact sheet, and the job's checks.

Pure domain code: the Dagster wiring in `defs/` turns these values into metadata and asset
check results.
"""

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PIL import Image

from pix_pipeline.domain import layout
from pix_pipeline.domain.gallery import Redactions, current_photos, pending_changes
from pix_pipeline.domain.meta import current_results
from pix_pipeline.domain.models import (
    GalleryStatus,
    ImageMeta,
    ImageStatus,
    PrivacyResult,
    StepName,
    StepStatus,
    ThumbsResult,
)
from pix_pipeline.domain.photos import findings_checked
from pix_pipeline.domain.steps import processable_images
from pix_pipeline.registry.repository import as_utc
from pix_pipeline.registry.schema import ImageRow
from pix_pipeline.runtime import Runtime

# Materialization metadata is stored in the event log with every run: keep a sheet small.
CONTACT_SHEET_BUDGET = 60 * 1024
CONTACT_SHEET_EDGE = 96


@dataclass(frozen=True)
class ImageLine:
    """One image as the per-image table shows it."""

    filename: str
    source: str
    status: str
    error: str
    privacy: str
    room_type: str


def image_lines(rows: list[ImageRow]) -> list[ImageLine]:
    """Every image of the job that has not been removed, in filename order."""
    lines = []
    for row in sorted(rows, key=lambda r: r.filename):
        if row.status == ImageStatus.REMOVED:
            continue
        meta = ImageMeta.model_validate(row.meta) if row.meta else None
        room = meta.semantics.room_type if meta and meta.semantics else None
        # A release shows processed images only; so does this column.
        privacy = meta.privacy if meta and row.status == ImageStatus.PROCESSED else None
        lines.append(
            ImageLine(
                filename=row.filename,
                source=row.source,
                status=row.status,
                error=row.error_message or "",
                privacy=", ".join(privacy.to_look_at()) if privacy else "",
                room_type=room.value if room else "",
            )
        )
    return lines


def gallery_tiles(job_id: str, rows: list[ImageRow]) -> list[tuple[str, str]]:
    """(filename, small preview key) of every photo gallery/ holds now, in filename order: its
    own previews, so a released gallery shows what the customer sees, not the changes that
    wait for the next release."""
    return [
        (name, layout.gallery_preview_key(job_id, name, layout.ThumbSize.SMALL))
        for name in sorted(gallery_names(rows))
    ]


def _current_ok(
    rt: Runtime, job_id: str, step: StepName, keep: Callable[[ImageRow], bool] = lambda _: True
) -> list[tuple[str, dict[str, Any]]]:
    """(filename, result) of the step's successful results for the images' current content."""
    results = rt.registry.step_results(job_id)
    found = []
    for image in sorted(
        processable_images(rt.registry.images_of_job(job_id)), key=lambda r: r.filename
    ):
        if not keep(image):
            continue
        row = current_results(rt, image, results)[step]
        if row is not None and row.result is not None and row.status == StepStatus.OK.value:
            found.append((image.filename, row.result))
    return found


def preview_tiles(rt: Runtime, job_id: str) -> list[tuple[str, str]]:
    """(filename, small preview key) of every image whose current previews exist."""
    return [
        (name, ThumbsResult.model_validate(result).small_key)
        for name, result in _current_ok(rt, job_id, StepName.THUMBS)
    ]


def contact_sheet(
    rt: Runtime, tiles: list[tuple[str, str]], budget: int = CONTACT_SHEET_BUDGET
) -> str:
    """Markdown with a small embedded JPEG per (filename, preview key), within `budget` bytes."""
    if not tiles:
        return "_no previews yet_"
    parts: list[str] = []
    size = 0
    for filename, key in tiles:
        try:
            data = rt.storage.read_bytes(key)
        except FileNotFoundError:
            continue
        with Image.open(io.BytesIO(data)) as preview:
            # Decode at the smallest DCT scale that still covers a tile: a quarter of the work.
            preview.draft("RGB", (CONTACT_SHEET_EDGE, CONTACT_SHEET_EDGE))
            tile = preview.convert("RGB")
            tile.thumbnail((CONTACT_SHEET_EDGE, CONTACT_SHEET_EDGE))
            buffer = io.BytesIO()
            tile.save(buffer, format="JPEG", quality=60, optimize=True)
        alt = filename.replace("]", "").replace("[", "")
        part = f"![{alt}](data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode()})"
        if size + len(part) + 100 > budget:
            break
        parts.append(part)
        size += len(part) + 1
    rest = len(tiles) - len(parts)
    tail = f"\n\n… and {rest} more (too many for one sheet)" if rest > 0 else ""
    return " ".join(parts) + tail


def detected_privacy(rt: Runtime, job_id: str) -> dict[str, list[str]]:
    """filename -> categories found by the privacy results of the images' current content.

    Read from the step results, so it is right as soon as the privacy step has run (the image
    meta that `release.privacy_findings` reads is settled later, by image_meta). Like the
    release, it leaves out hidden photos and those whose findings Daniel checked.
    """
    findings = {}

    def to_review(row: ImageRow) -> bool:
        return row.hidden_at is None and not findings_checked(row)

    for name, result in _current_ok(rt, job_id, StepName.PRIVACY, to_review):
        detected = PrivacyResult.model_validate(result).detected()
        if detected:
            findings[name] = detected
    return findings


@dataclass
class GalleryCheck:
    """The gallery folder against what it should hold."""

    expected: set[str] = field(default_factory=set)
    stray: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.stray and not self.missing


def gallery_names(rows: list[ImageRow]) -> set[str]:
    """The files gallery/images/ holds by the registry: those with a gallery_hash. A sync sets
    it for every file it keeps and clears it for every file it deletes; a released gallery
    keeps the released ones."""
    return {row.filename for row in rows if row.gallery_hash is not None}


def check_gallery(rt: Runtime, job_id: str) -> GalleryCheck:
    """Files in gallery/images/ against the files the registry records there."""
    expected = gallery_names(rt.registry.images_of_job(job_id))
    present = {
        f.name
        for f in rt.storage.list_files(layout.gallery_images_prefix(job_id))
        if not f.name.startswith(".")
    }
    return GalleryCheck(expected, sorted(present - expected), sorted(expected - present))


def stuck_pending(rows: list[ImageRow], now: datetime, minutes: float) -> list[str]:
    """Images still `pending_processing` longer than `minutes` after their last change."""
    limit = now - timedelta(minutes=minutes)
    return sorted(
        row.filename
        for row in rows
        if row.status == ImageStatus.PENDING_PROCESSING and as_utc(row.updated_at) < limit
    )


@dataclass(frozen=True)
class FailedImage:
    """A photo that could not be processed, and why."""

    filename: str
    reason: str


def failed_images(rows: list[ImageRow]) -> list[FailedImage]:
    """Every image whose processing failed (status `error`), in filename order."""
    return [
        FailedImage(row.filename, row.error_message or "no reason recorded")
        for row in sorted(rows, key=lambda r: r.filename)
        if row.status == ImageStatus.ERROR
    ]


@dataclass(frozen=True)
class GalleryView:
    """A job's customer gallery as the registry records it now.

    Whoever changes the gallery (the pipeline's sync, a release, a revoke) reports this, so
    the latest report always says who can see the gallery and what it holds.
    """

    gallery_status: str
    gallery_visibility: str
    image_count: int
    # Changes that wait for the next release; empty unless the released gallery is behind.
    pending_changes: list[str]
    last_release: str
    last_revoke: str
    lines: list[ImageLine]
    tiles: list[tuple[str, str]]


def _who_when(number: int | None, who: str | None, when: datetime | None) -> str:
    if when is None:
        return ""
    prefix = f"#{number} " if number is not None else ""
    return f"{prefix}by {who or 'unknown'} on {as_utc(when):%Y-%m-%d %H:%M} UTC"


def gallery_view(rt: Runtime, job_id: str) -> GalleryView:
    """The gallery of `job_id` as stored: state, the files it holds, its last release."""
    job = rt.registry.get_job(job_id)
    if job is None:
        raise KeyError(f"job {job_id} is not registered")
    rows = rt.registry.images_of_job(job_id)
    behind = job.gallery_status == GalleryStatus.UPDATE_PENDING
    return GalleryView(
        gallery_status=job.gallery_status,
        gallery_visibility=job.gallery_visibility,
        image_count=len(gallery_names(rows)),
        pending_changes=(
            pending_changes(
                job,
                rows,
                current_photos(rt, job_id),
                Redactions.of(rt.registry.redactions_of_job(job_id)),
            )
            if behind
            else []
        ),
        last_release=_who_when(job.release_count, job.released_by, job.released_at),
        last_revoke=_who_when(None, job.revoked_by, job.revoked_at),
        lines=image_lines(rows),
        tiles=gallery_tiles(job_id, rows),
    )
