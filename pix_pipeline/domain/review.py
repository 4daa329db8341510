"""Daniel's review of a job: what the desk shows and the changes it makes.

Pure domain code, like the Dagster wiring's helpers: the desk's request handlers read their
input, call one function here and render the value it returns. Hiding, checking and the
release gate are the same functions the pipeline uses.
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pix_pipeline.domain import layout, redaction
from pix_pipeline.domain.fields import order_key, parsed_meta
from pix_pipeline.domain.gallery import (
    ChangeKind,
    GalleryChange,
    metadata_rule,
    rendition_tag,
    sync_gallery,
)
from pix_pipeline.domain.models import (
    Box,
    GalleryStatus,
    GalleryVisibility,
    ImageMeta,
    ImageStatus,
    RoomType,
    SemanticFields,
    Thumbnails,
)
from pix_pipeline.domain.photos import findings_checked, shows_in_gallery
from pix_pipeline.domain.release import ReleaseCheck, gate, unchecked_categories
from pix_pipeline.imaging.rendition import render_customer_copy
from pix_pipeline.notify.outbox import (
    NotificationView,
    RetryRefused,
    failed_notifications,
    job_notifications,
    retry_notifications_of_job,
)
from pix_pipeline.registry.repository import JobSummary, Registry, as_utc
from pix_pipeline.registry.schema import ImageRow, JobRow, RedactionRow
from pix_pipeline.runtime import Runtime

JOBS_PER_PAGE = 50
IMAGE_ID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class ErrorKind(StrEnum):
    """Why a photo failed, in the terms the desk explains to Daniel."""

    EMPTY = "empty"
    NOT_JPEG = "not_jpeg"
    TOO_LARGE = "too_large"
    UNSUPPORTED_JPEG = "unsupported_jpeg"
    DAMAGED = "damaged"
    STEP_FAILED = "step_failed"
    UNKNOWN = "unknown"


# Matched against the messages imaging/decode.py and imaging/thumbnails.py raise.
_ERROR_PATTERNS: tuple[tuple[ErrorKind, re.Pattern[str]], ...] = (
    (ErrorKind.EMPTY, re.compile(r"empty file")),
    (ErrorKind.NOT_JPEG, re.compile(r"not JPEG data|data with a JPEG name")),
    (ErrorKind.TOO_LARGE, re.compile(r"too large|more than the limit")),
    (ErrorKind.UNSUPPORTED_JPEG, re.compile(r"cannot be decoded|-bit JPEG")),
    (ErrorKind.DAMAGED, re.compile(r"unreadable JPEG|cannot decode JPEG|could not decode")),
)


def error_kind(row: ImageRow) -> ErrorKind | None:
    """The kind of problem of a failed photo; None when it did not fail."""
    if row.status != ImageStatus.ERROR:
        return None
    message = row.error_message or ""
    for kind, pattern in _ERROR_PATTERNS:
        if pattern.search(message):
            return kind
    if row.error_stage and row.error_stage != "validation":
        return ErrorKind.STEP_FAILED
    return ErrorKind.UNKNOWN


def _css(box: Box) -> str:
    """Where a box sits over its preview, in percent of the preview's size."""
    return (
        f"left:{box.x0 * 100:.2f}%;top:{box.y0 * 100:.2f}%;"
        f"width:{(box.x1 - box.x0) * 100:.2f}%;height:{(box.y1 - box.y0) * 100:.2f}%"
    )


@dataclass(frozen=True)
class RedactionView:
    """One area the customer's copies obscure, with who decided it and when."""

    id: int
    category: str
    label: str | None
    text: str | None
    source: str
    by: str | None
    at: datetime | None
    to_confirm: bool
    box: Box

    @property
    def css(self) -> str:
        return _css(self.box)


@dataclass(frozen=True)
class FindingBox:
    """One privacy finding where it is, in 0–1 coordinates of the upright photo, and the
    redaction that obscures it (None: open)."""

    category: str
    label: str
    score: float
    text: str | None
    x0: float
    y0: float
    x1: float
    y1: float
    # How the desk's form names the finding (redaction.FoundArea.key).
    key: str = ""
    redaction: RedactionView | None = None

    @property
    def data_box(self) -> str:
        return ",".join(f"{v:.4f}" for v in (self.x0, self.y0, self.x1, self.y1))

    @property
    def css(self) -> str:
        return _css(Box(x0=self.x0, y0=self.y0, x1=self.x1, y1=self.y1))

    @property
    def redacted(self) -> bool:
        return self.redaction is not None


@dataclass(frozen=True)
class PhotoReview:
    """One photo of the job page."""

    image_id: str
    filename: str
    status: ImageStatus
    source: str
    room_type: RoomType | None
    error: ErrorKind | None
    error_message: str | None
    thumbnails: Thumbnails | None
    # What to look at in the current content (checked or not): detected categories, then those
    # whose check failed (PrivacyResult.to_look_at).
    categories: list[str]
    boxes: list[FindingBox]
    # What blocks a release: for a shown photo Daniel has not marked checked, `categories`.
    unchecked: list[str]
    hidden_at: datetime | None
    hidden_by: str | None
    checked: bool
    checked_at: datetime | None
    checked_by: str | None
    in_gallery: bool
    # Active redactions (findings and dragged areas), and why the customer's copy could not be
    # made, if it could not.
    redactions: list[RedactionView] = field(default_factory=list)
    rendition_error: str | None = None

    @property
    def areas(self) -> list[RedactionView]:
        """Redactions that are no finding of the current check: dragged areas, and findings
        the check no longer reports."""
        shown = {b.redaction.id for b in self.boxes if b.redaction is not None}
        return [r for r in self.redactions if r.id not in shown]

    @property
    def open_findings(self) -> int:
        return sum(1 for b in self.boxes if not b.redacted)

    @property
    def to_confirm(self) -> list[RedactionView]:
        return [r for r in self.redactions if r.to_confirm]

    # The exposé's fields with their source (None before the photo was first settled), and
    # whether the semantics step has yet to run for the current content.
    fields: SemanticFields | None = None
    semantics_pending: bool = True
    # Place in Daniel's gallery order: (placed first, position, file name).
    order: tuple[int, int, str] = (1, 0, "")

    @property
    def failed(self) -> bool:
        return self.status is ImageStatus.ERROR


@dataclass(frozen=True)
class JobReview:
    """Everything the job page shows: photos (failed first), the job and the release check."""

    job: JobRow
    photos: list[PhotoReview]
    release: ReleaseCheck
    changes: list[GalleryChange] = field(default_factory=list)
    # The job's outbox: what the customer (and the web backend) has been told, or not yet.
    notifications: list[NotificationView] = field(default_factory=list)
    # Whether a semantics provider is configured: without one nothing is "still coming".
    semantics_provider: bool = False
    # PIX_NOTIFIER: `log` reaches nobody, so nothing is called delivered.
    notifier: str = "log"

    @property
    def failed(self) -> list[PhotoReview]:
        return [p for p in self.photos if p.failed]

    @property
    def update_pending(self) -> bool:
        """Released, and a release would change what the customer sees: by the recorded
        state, or by the changes listed already while the run that records them is still
        going. The page's header and its release panel both ask here."""
        released = self.job.gallery_visibility == GalleryVisibility.CUSTOMER
        recorded = self.job.gallery_status == GalleryStatus.UPDATE_PENDING
        # A photo that failed since the release leaves with the next one but is no pending
        # change by itself (photos.failed_in_gallery).
        listed = [
            c
            for c in self.changes
            if not (c.kind is ChangeKind.REMOVE and c.reason == ImageStatus.ERROR.value)
        ]
        return released and (recorded or bool(listed))


def _redaction_view(image: ImageRow, row: RedactionRow) -> RedactionView:
    return RedactionView(
        id=row.id,
        category=row.category,
        label=row.finding_label,
        text=row.finding_text,
        source=row.source,
        by=row.created_by,
        at=as_utc(row.created_at),
        to_confirm=row.confirmed_hash != image.content_hash,
        box=redaction.row_box(row),
    )


def _boxes(image: ImageRow, meta: ImageMeta, rows: Sequence[RedactionRow]) -> list[FindingBox]:
    """The findings of the current check, one per area (duplicates folded), each with the
    redaction that obscures it."""
    boxes = []
    for area in redaction.found_areas(meta):
        match = redaction.matching(area, rows)
        b = area.box
        boxes.append(
            FindingBox(
                area.privacy_category,
                area.label,
                area.score,
                area.text,
                b.x0,
                b.y0,
                b.x1,
                b.y1,
                key=area.key,
                redaction=(
                    _redaction_view(image, match)
                    if match is not None and match.undone_at is None
                    else None
                ),
            )
        )
    return boxes


def photo_review(row: ImageRow, redactions: Sequence[RedactionRow] = ()) -> PhotoReview:
    """The desk's view of one registered photo."""
    meta = parsed_meta(row)
    current = meta is not None and meta.content_hash == row.content_hash
    privacy = meta.privacy if meta is not None and current else None
    room = meta.semantics.room_type if meta and meta.semantics else None
    return PhotoReview(
        image_id=row.image_id,
        filename=row.filename,
        status=ImageStatus(row.status),
        source=row.source,
        room_type=room,
        error=error_kind(row),
        error_message=row.error_message,
        thumbnails=meta.thumbnails if meta else None,
        categories=privacy.to_look_at() if privacy else [],
        boxes=_boxes(row, meta, redactions) if meta is not None and current else [],
        unchecked=unchecked_categories(row, redactions),
        hidden_at=as_utc(row.hidden_at),
        hidden_by=row.hidden_by,
        checked=findings_checked(row),
        checked_at=as_utc(row.checked_at),
        checked_by=row.checked_by,
        in_gallery=shows_in_gallery(row),
        redactions=[_redaction_view(row, r) for r in redaction.active(redactions)],
        rendition_error=row.rendition_error,
        fields=meta.fields if meta is not None else None,
        semantics_pending=not current or meta is None or meta.semantics is None,
        order=order_key(row),
    )


def _page_order(photo: PhotoReview) -> tuple[int, tuple[int, int, str]]:
    # Failed files first: they need Daniel (or the editor) to act; then the gallery's order.
    return (0 if photo.failed else 1, photo.order)


def job_review(rt: Runtime, job_id: str) -> JobReview | None:
    """The job page's content; None for a job the registry does not know."""
    # The form's preview: would it go ahead with the box unticked, and what would it bring.
    # The page shows the photos of the same read.
    checked = gate(rt, job_id, approved_by="-", acknowledged=False)
    if checked.loaded is None:
        return None
    loaded = checked.loaded
    rows = [r for r in loaded.rows if r.status != ImageStatus.REMOVED]
    photos = sorted(
        (photo_review(r, loaded.redactions.get(r.image_id, [])) for r in rows), key=_page_order
    )
    return JobReview(
        job=loaded.job,
        photos=photos,
        release=checked.verdict,
        changes=checked.verdict.changes,
        notifications=job_notifications(rt, job_id),
        semantics_provider=rt.settings.semantics_provider != "none",
        notifier=rt.settings.notifier,
    )


def release_check(
    rt: Runtime, job_id: str, *, approved_by: str, acknowledged: bool
) -> ReleaseCheck:
    """The release gate of release_gallery, asked before its run is launched."""
    return gate(rt, job_id, approved_by=approved_by, acknowledged=acknowledged).verdict


@dataclass(frozen=True)
class JobsPage:
    """One page of the jobs list."""

    jobs: list[JobSummary]
    page: int
    pages: int
    total: int
    needs_attention: bool
    # Notifications that gave up, across all jobs (the newest few): each needs a retry.
    failed_notifications: list[NotificationView] = field(default_factory=list)


FAILED_NOTIFICATIONS_SHOWN = 20


def jobs_page(rt: Runtime, page: int, *, needs_attention: bool) -> JobsPage:
    """Jobs by newest activity, JOBS_PER_PAGE at a time (page counts from 1)."""
    page = max(page, 1)
    jobs, total = rt.registry.job_summaries(
        offset=(page - 1) * JOBS_PER_PAGE, limit=JOBS_PER_PAGE, needs_attention=needs_attention
    )
    pages = max((total + JOBS_PER_PAGE - 1) // JOBS_PER_PAGE, 1)
    failed = failed_notifications(rt, limit=FAILED_NOTIFICATIONS_SHOWN)
    return JobsPage(jobs, page, pages, total, needs_attention, failed)


def retry_job_notification(rt: Runtime, job_id: str, notification_id: int) -> bool:
    """Send a failed notification of this job again; False when the job has no such failed
    notification (another job's id, a sent or pending one, one retried meanwhile)."""
    try:
        retry_notifications_of_job(rt, job_id, notification_id)
    except RetryRefused:
        return False
    return True


def hide_photo(rt: Runtime, job_id: str, image_id: str, *, hidden: bool, by: str) -> bool:
    """Hide a photo from the customer's gallery (or show it again) and sync the gallery.

    A draft gallery drops (or takes back) the photo at once; a released one records the
    change as pending until the next release. False when the job has no such photo.
    """
    if not (layout.is_valid_job_id(job_id) and IMAGE_ID_PATTERN.fullmatch(image_id)):
        return False
    if not rt.registry.set_hidden(job_id, image_id, hidden=hidden, by=by):
        return False
    sync_gallery(rt, job_id)
    return True


def check_photo(registry: Registry, job_id: str, image_id: str, *, checked: bool, by: str) -> bool:
    """Mark the findings of the photo's current content as checked (or not any more)."""
    if not (layout.is_valid_job_id(job_id) and IMAGE_ID_PATTERN.fullmatch(image_id)):
        return False
    return registry.set_checked(job_id, image_id, checked=checked, by=by)


def preview_key(registry: Registry, image_id: str, size: layout.ThumbSize) -> str | None:
    """The storage key of a registered photo's preview, or None.

    The key is built from the registry row (its job and image id) by the layout module and
    must be the one the photo's meta records; nothing from a URL becomes part of it.
    """
    if not IMAGE_ID_PATTERN.fullmatch(image_id):
        return None
    row = registry.get_image(image_id)
    if row is None or row.status == ImageStatus.REMOVED or not row.meta:
        return None
    thumbnails = ImageMeta.model_validate(row.meta).thumbnails
    if thumbnails is None:
        return None
    key = layout.thumb_key(row.job_id, row.image_id, size)
    recorded = thumbnails.small if size is layout.ThumbSize.SMALL else thumbnails.large
    return key if key == recorded else None


# -- redaction ("Unkenntlich machen") ----------------------------------------------------


def photo_of_job(rt: Runtime, job_id: str, image_id: str) -> ImageRow | None:
    """The job's photo `image_id` as a request names it, or None when the ids are malformed, the
    photo belongs to another job or its file was removed."""
    if not (layout.is_valid_job_id(job_id) and IMAGE_ID_PATTERN.fullmatch(image_id)):
        return None
    row = rt.registry.get_image(image_id)
    if row is None or row.job_id != job_id or row.status == ImageStatus.REMOVED:
        return None
    return row


def _open_findings(rt: Runtime, row: ImageRow) -> list[redaction.FoundArea]:
    rows = rt.registry.redactions_of_job(row.job_id).get(row.image_id, [])
    return [
        area
        for area in redaction.found_areas(redaction.current_meta(row))
        if (match := redaction.matching(area, rows)) is None or match.undone_at is not None
    ]


def redact_findings(
    rt: Runtime, job_id: str, image_id: str, *, by: str, key: str | None = None
) -> bool:
    """Make one finding of the photo (named by its key), or all of its open findings,
    unrecognisable in the customer's copies, and sync the gallery. False when the job has no
    such photo or finding."""
    row = photo_of_job(rt, job_id, image_id)
    if row is None:
        return False
    chosen = [a for a in _open_findings(rt, row) if key is None or a.key == key]
    if key is not None and not chosen:
        return False
    rt.registry.add_redactions(
        job_id, [redaction.finding_redaction(row, area, by) for area in chosen]
    )
    sync_gallery(rt, job_id)
    return True


def redact_area(rt: Runtime, job_id: str, image_id: str, box: Box, *, by: str) -> bool:
    """Make a rectangle Daniel dragged (0–1 of the upright photo) unrecognisable."""
    row = photo_of_job(rt, job_id, image_id)
    if row is None:
        return False
    rt.registry.add_redactions(job_id, [redaction.area_redaction(row, box, by)])
    sync_gallery(rt, job_id)
    return True


def undo_redaction(rt: Runtime, job_id: str, image_id: str, redaction_id: int, *, by: str) -> bool:
    """Take a redaction back: the customer's copies show the area again after the sync (a
    released gallery: after the next release)."""
    if photo_of_job(rt, job_id, image_id) is None:
        return False
    if not rt.registry.undo_redaction(job_id, image_id, redaction_id, by=by):
        return False
    sync_gallery(rt, job_id)
    return True


def confirm_redaction(rt: Runtime, job_id: str, image_id: str, redaction_id: int) -> bool:
    """Keep a redaction for the photo's replaced file (it no longer holds the release)."""
    if photo_of_job(rt, job_id, image_id) is None:
        return False
    return rt.registry.confirm_redaction(job_id, image_id, redaction_id)


def customer_view(rt: Runtime, image_id: str) -> bytes | None:
    """The "Kundenansicht": the photo's large internal preview as its customer copy would
    look (redactions applied, metadata by the rule), made on demand and kept under pipeline/.

    Never read from gallery/, which stays as released while changes wait. None for a photo
    without a preview.
    """
    key = preview_key(rt.registry, image_id, layout.ThumbSize.LARGE)
    row = rt.registry.get_image(image_id) if key is not None else None
    if key is None or row is None:
        return None
    boxes = redaction.areas(rt.registry.redactions_of_job(row.job_id).get(image_id, []))
    rule = metadata_rule(rt)
    fingerprint = hashlib.sha256(
        f"{row.content_hash}|{redaction.areas_digest(boxes)}|{rendition_tag(rule)}".encode()
    ).hexdigest()[:32]
    cached = layout.customer_view_key(row.job_id, image_id, fingerprint)
    try:
        return rt.storage.read_bytes(cached)
    except FileNotFoundError:
        pass
    try:
        data = render_customer_copy(rt.storage.read_bytes(key), boxes, rule)
    except FileNotFoundError:
        return None
    prefix = layout.customer_view_prefix(row.job_id)
    for old in rt.storage.list_files(prefix):
        if old.name.startswith(f"{image_id}_"):
            rt.storage.delete(f"{prefix}/{old.name}")
    rt.storage.write_bytes(cached, data)
    return data
