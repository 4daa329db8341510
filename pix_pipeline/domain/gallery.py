"""Brief 7: keep the customer gallery in step with the processed photos, under the release gate.

The gallery is `gallery/images/` (the photos), `gallery/previews/{400,1600}/` (their
previews, made from pipeline/thumbs/ so that reprocessing cannot change what the customer
sees) and `gallery/expose.json`, the customer's document (`GalleryExpose`).

The sync is the one place that writes customer files. Photos and previews are renditions
(`imaging.rendition.render_customer_copy`), never byte copies: metadata by the
PIX_CUSTOMER_METADATA rule, and each redacted area (domain/redaction.py) obscured. A copy's
fingerprint is its content (gallery_hash), its redactions (gallery_redactions) and the
rendition (gallery_rendition: metadata rule and renderer version). A changed rendition alone
reaches a released gallery at the next sync (it removes data and changes no pixel); changed
redactions are a change the customer sees, held for a release like a new version.

Before the first release the gallery follows the pipeline directly (visibility `internal`).
After a release it is what the customer sees: the sync then leaves it untouched and only
records `update_pending` when the gallery *would* change for the customer; `release_gallery`
applies the changes. Internal-only changes (an error, a privacy finding, a provider version)
never make a gallery pending. A released photo whose newer version failed stays as released
until a release for other changes removes it: failed photos are never part of a gallery that
a sync or a release writes.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from pix_pipeline.domain import layout, redaction
from pix_pipeline.domain.expose import write_job_expose
from pix_pipeline.domain.fields import expose_values, gallery_order, parsed_meta
from pix_pipeline.domain.gallery_state import GalleryEvent
from pix_pipeline.domain.meta import render_json
from pix_pipeline.domain.models import (
    Box,
    GalleryCaption,
    GalleryExpose,
    GalleryPhoto,
    GalleryPreview,
    GalleryStatus,
    GalleryVisibility,
)
from pix_pipeline.domain.photos import (
    JobPhotos,
    failed_in_gallery,
    findings_checked,
    keeps_last_version,
    shows_in_gallery,
)
from pix_pipeline.imaging.rendition import (
    RENDITION_VERSION,
    MetadataRule,
    RenditionError,
    render_customer_copy,
)
from pix_pipeline.notify.events import DRAFT_READY_MAX_DELAY, DRAFT_READY_QUIET, EventKind
from pix_pipeline.registry.repository import OutboxEvent
from pix_pipeline.registry.schema import ImageRow, JobRow, RedactionRow
from pix_pipeline.runtime import Runtime, on_workers

PREVIEW_SIZES = (layout.ThumbSize.SMALL, layout.ThumbSize.LARGE)


def rendition_tag(rule: MetadataRule) -> str:
    """The rendition part of a gallery copy's fingerprint."""
    return f"{rule.value}/{RENDITION_VERSION}"


@dataclass(frozen=True)
class Redactions:
    """The job's redactions as the sync needs them: image_id -> the active boxes."""

    boxes: dict[str, list[Box]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: dict[str, list[RedactionRow]]) -> "Redactions":
        return cls({image_id: redaction.areas(mine) for image_id, mine in rows.items()})

    def of_image(self, image_id: str) -> list[Box]:
        return self.boxes.get(image_id, [])

    def digest(self, image_id: str) -> str:
        return redaction.areas_digest(self.of_image(image_id))


def redactions_changed(row: ImageRow, redactions: Redactions) -> bool:
    """The gallery holds this content with other redactions than decided now."""
    return (row.gallery_redactions or "") != redactions.digest(row.image_id)


class ChangeKind(StrEnum):
    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"
    EXPOSE = "expose"


@dataclass(frozen=True)
class GalleryChange:
    """One difference between the customer's gallery and what a release would make of it."""

    kind: ChangeKind
    filename: str = ""
    # Why a photo leaves: `hidden`, or its status (`error`, `removed`).
    reason: str = ""

    def describe(self) -> str:
        """In English, for Dagster's metadata and logs (the desk words it in German)."""
        if self.kind is ChangeKind.EXPOSE:
            return "update expose.json (photos, order, cover, captions, room or view types)"
        if self.kind is ChangeKind.REMOVE:
            return f"remove {self.filename} ({self.reason})"
        return f"{self.kind.value} {self.filename}"


@dataclass
class GalleryReport:
    job_id: str
    gallery_status: str
    gallery_visibility: str
    image_count: int
    copied: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    pending_changes: list[str] = field(default_factory=list)
    # Photos the gallery holds without their previews, because pipeline/thumbs/ lost them
    # too: the thumbs step makes them again on the job's next run, and that run's sync
    # copies them.
    missing_previews: list[str] = field(default_factory=list)

    @property
    def held_for_release(self) -> bool:
        return self.gallery_status == GalleryStatus.UPDATE_PENDING


def _photo(job_id: str, row: ImageRow) -> GalleryPhoto | None:
    """The customer's entry for the row's current (processed) version; None without previews."""
    meta = parsed_meta(row)
    if meta is None or meta.thumbnails is None:
        return None
    values = expose_values(meta)
    small, large = meta.thumbnails.small_size, meta.thumbnails.large_size
    return GalleryPhoto(
        image_id=row.image_id,
        filename=row.filename,
        file=layout.gallery_relative(job_id, layout.gallery_image_key(job_id, row.filename)),
        width=meta.width,
        height=meta.height,
        preview_small=GalleryPreview(
            file=_preview_name(job_id, row.filename, layout.ThumbSize.SMALL),
            width=small[0],
            height=small[1],
        ),
        preview_large=GalleryPreview(
            file=_preview_name(job_id, row.filename, layout.ThumbSize.LARGE),
            width=large[0],
            height=large[1],
        ),
        caption_short=values.caption_short,
        caption_long=values.caption_long,
        room_type=values.room_type,
        view_type=values.view_type,
        objects=list(values.objects),
    )


def _preview_name(job_id: str, filename: str, size: layout.ThumbSize) -> str:
    return layout.gallery_relative(job_id, layout.gallery_preview_key(job_id, filename, size))


def customer_document(
    job_id: str,
    photos: list[GalleryPhoto],
    *,
    order: Sequence[str] = (),
    cover_image_id: str | None = None,
) -> GalleryExpose:
    """gallery/expose.json for these photos (pure: no I/O), in `order` (image_ids; photos
    not in it come last, by file name), with the cover if it is one of them."""
    rank = {image_id: i for i, image_id in enumerate(order)}
    ordered = sorted(photos, key=lambda p: (rank.get(p.image_id, len(rank)), p.filename))
    room_types: dict[str, list[str]] = defaultdict(list)
    view_types: dict[str, list[str]] = defaultdict(list)
    for photo in ordered:
        if photo.room_type is not None:
            room_types[photo.room_type.value].append(photo.filename)
        if photo.view_type is not None:
            view_types[photo.view_type.value].append(photo.filename)
    shown = {p.image_id for p in ordered}
    return GalleryExpose(
        job_id=job_id,
        image_count=len(ordered),
        images=ordered,
        cover_image_id=cover_image_id if cover_image_id in shown else None,
        captions=[
            GalleryCaption(
                filename=p.filename, caption_short=p.caption_short, caption_long=p.caption_long
            )
            for p in ordered
            if p.caption_short or p.caption_long
        ],
        room_types=dict(sorted(room_types.items())),
        view_types=dict(sorted(view_types.items())),
    )


def arranged_document(
    job: JobRow, rows: list[ImageRow], photos: list[GalleryPhoto]
) -> GalleryExpose:
    """`customer_document` as Daniel arranged the gallery: his order and his cover."""
    return customer_document(
        job.job_id, photos, order=gallery_order(rows), cover_image_id=job.cover_image_id
    )


def document_hash(document: GalleryExpose) -> str:
    return hashlib.sha256(render_json(document)).hexdigest()


def current_photos(rt: Runtime, job_id: str) -> dict[str, GalleryPhoto]:
    """image_id -> entry of gallery/expose.json as it is now (empty when absent or unreadable)."""
    try:
        data = rt.storage.read_bytes(layout.gallery_expose_key(job_id))
        # Photo by photo: a document of an earlier schema_version still names its photos.
        listed = json.loads(data).get("images", [])
        photos = [GalleryPhoto.model_validate(photo) for photo in listed]
    except (FileNotFoundError, ValueError, AttributeError):
        return {}
    return {photo.image_id: photo for photo in photos}


def planned_photos(
    job_id: str,
    rows: list[ImageRow],
    current: dict[str, GalleryPhoto],
    *,
    keep_failed: bool = False,
) -> list[GalleryPhoto]:
    """The entries the gallery's document would list: each shown photo's current version, and
    the entry the gallery has for each photo that keeps its last version (with `keep_failed`,
    also for each that failed: the view that decides whether a change is pending)."""
    photos = []
    for row in rows:
        if shows_in_gallery(row):
            photo = _photo(job_id, row)
        elif keeps_last_version(row) or (keep_failed and failed_in_gallery(row)):
            photo = current.get(row.image_id)
        else:
            photo = None
        if photo is not None:
            photos.append(photo)
    return photos


def gallery_changes(
    job: JobRow,
    rows: list[ImageRow],
    current: dict[str, GalleryPhoto],
    redactions: Redactions,
) -> list[GalleryChange]:
    """How the customer's gallery would change for reasons worth a release.

    Empty when the customer would see no difference, whatever changed internally; photos that
    failed do not count (see `failed_in_gallery`).
    """
    changes: list[GalleryChange] = []
    for row in rows:
        if shows_in_gallery(row):
            if row.gallery_hash is None:
                changes.append(GalleryChange(ChangeKind.ADD, row.filename))
            elif row.gallery_hash != row.content_hash or redactions_changed(row, redactions):
                changes.append(GalleryChange(ChangeKind.REPLACE, row.filename))
        elif row.gallery_hash is not None and not (
            keeps_last_version(row) or failed_in_gallery(row)
        ):
            reason = "hidden" if row.hidden_at is not None else row.status
            changes.append(GalleryChange(ChangeKind.REMOVE, row.filename, reason))
    planned = arranged_document(
        job, rows, planned_photos(job.job_id, rows, current, keep_failed=True)
    )
    if document_hash(planned) != job.gallery_expose_hash:
        changes.append(GalleryChange(ChangeKind.EXPOSE))
    return changes


def pending_changes(
    job: JobRow, rows: list[ImageRow], current: dict[str, GalleryPhoto], redactions: Redactions
) -> list[str]:
    """`gallery_changes` for people (English, as Dagster's metadata shows them)."""
    return [change.describe() for change in gallery_changes(job, rows, current, redactions)]


def release_changes(loaded: JobPhotos, current: dict[str, GalleryPhoto]) -> list[GalleryChange]:
    """What a release applies (pure: no I/O): the pending changes, and the photos that failed
    since the last release, which it takes out of the gallery. `current` is the gallery's
    document as it is now (`current_photos`)."""
    changes = gallery_changes(loaded.job, loaded.rows, current, Redactions.of(loaded.redactions))
    changes += [
        GalleryChange(ChangeKind.REMOVE, r.filename, str(r.status))
        for r in loaded.rows
        if failed_in_gallery(r)
    ]
    return changes


def metadata_rule(rt: Runtime) -> MetadataRule:
    return rt.settings.customer_metadata


def _copy_photo(rt: Runtime, row: ImageRow, boxes: list[Box]) -> bool:
    """Render the processed version and its previews into gallery/; False when final_input/
    holds another by now, its previews are gone (then the next run brings it), or it cannot
    be rendered (recorded on the photo for the desk)."""
    data = rt.storage.read_bytes(row.storage_path)
    if hashlib.sha256(data).hexdigest() != row.content_hash:
        return False
    try:
        copy = render_customer_copy(
            data, boxes, metadata_rule(rt), max_pixels=rt.settings.max_image_pixels
        )
    except RenditionError as exc:
        rt.registry.set_rendition_error(row.image_id, str(exc))
        return False
    if not _copy_previews_safely(rt, row, boxes):
        return False
    rt.storage.write_bytes(layout.gallery_image_key(row.job_id, row.filename), copy)
    return True


def _copy_previews(rt: Runtime, row: ImageRow, boxes: list[Box]) -> bool:
    """Render both previews from pipeline/thumbs/ with the photo's redactions (RenditionError
    passes to the caller)."""
    rule = metadata_rule(rt)
    for size in PREVIEW_SIZES:
        try:
            data = rt.storage.read_bytes(layout.thumb_key(row.job_id, row.image_id, size))
        except FileNotFoundError:
            return False
        rt.storage.write_bytes(
            layout.gallery_preview_key(row.job_id, row.filename, size),
            render_customer_copy(data, boxes, rule),
        )
    return True


def _copy_recorded(rt: Runtime, row: ImageRow, redactions: Redactions) -> None:
    rt.registry.set_gallery_copy(
        row.image_id,
        gallery_hash=row.content_hash,
        redactions=redactions.digest(row.image_id),
        rendition=rendition_tag(metadata_rule(rt)),
    )


def _is_current_copy(rt: Runtime, row: ImageRow, redactions: Redactions) -> bool:
    return (
        row.gallery_hash is not None
        and row.gallery_hash == row.content_hash
        and not redactions_changed(row, redactions)
        and row.gallery_rendition == rendition_tag(metadata_rule(rt))
    )


def _refresh_renditions(rt: Runtime, rows: list[ImageRow], redactions: Redactions) -> list[str]:
    """Make again the released copies whose only difference is the rendition (a new metadata
    rule, a new renderer): the same pixels and areas the customer has, less data."""
    tag = rendition_tag(metadata_rule(rt))
    stale = [
        r
        for r in rows
        if shows_in_gallery(r)
        and r.gallery_hash == r.content_hash
        and not redactions_changed(r, redactions)
        and r.gallery_rendition != tag
    ]
    done = on_workers(
        rt.settings,
        lambda r: (r, _copy_photo(rt, r, redactions.of_image(r.image_id))),
        stale,
        "gallery",
    )
    refreshed = []
    for row, ok in done:
        if ok:
            _copy_recorded(rt, row, redactions)
            refreshed.append(row.filename)
    return refreshed


def _copy_previews_safely(rt: Runtime, row: ImageRow, boxes: list[Box]) -> bool:
    try:
        return _copy_previews(rt, row, boxes)
    except RenditionError as exc:
        rt.registry.set_rendition_error(row.image_id, str(exc))
        return False


def _apply_policy(rt: Runtime, job: JobRow, rows: list[ImageRow]) -> dict[str, list[RedactionRow]]:
    """Record PIX_REDACT_AUTO's redactions of new findings (see redaction.policy_redactions);
    returns the job's redactions with them."""
    redactions = rt.registry.redactions_of_job(job.job_id)
    if not rt.settings.redact_auto:
        return redactions
    new = redaction.apply_policy(
        rows,
        redactions,
        rt.settings.redact_auto,
        released=job.gallery_visibility == GalleryVisibility.CUSTOMER,
        checked={r.image_id: findings_checked(r) for r in rows},
    )
    if new and rt.registry.add_redactions(job.job_id, new):
        return rt.registry.redactions_of_job(job.job_id)
    return redactions


def sync_gallery(rt: Runtime, job_id: str) -> GalleryReport:
    """Bring gallery/ in step with the processed photos, or record that it would change.

    A released gallery is left as the customer sees it: its differences are recorded as
    `update_pending`, for release_gallery to apply (`apply_release`). The job's rows are read
    once for both documents: a desk change syncs 200 photos in time.
    """
    with rt.registry.gallery_lock(job_id):
        job = rt.registry.get_job(job_id)
        if job is None:
            raise KeyError(f"job {job_id} is not registered")
        rows = rt.registry.images_of_job(job_id)
        write_job_expose(rt, job_id, job, rows)
        # A plain sync (not a release's): the redaction policy covers the new findings.
        loaded = JobPhotos(job, rows, _apply_policy(rt, job, rows))
        return _sync(rt, loaded, current_photos(rt, job_id), apply_to_released=False)


def apply_release(
    rt: Runtime, loaded: JobPhotos, current: dict[str, GalleryPhoto]
) -> GalleryReport:
    """Apply every change a release's gate checked to gallery/ and both documents.

    `loaded` is the read the gate decided on, `current` the gallery's document it compared
    with: the gallery then shows exactly those photos, even if one was processed, hidden or
    unchecked again meanwhile (the next sync records that as pending). The caller
    (release_gallery) holds the job's gallery lock and moves the gallery's state itself.
    """
    write_job_expose(rt, loaded.job_id, loaded.job, loaded.rows)
    return _sync(rt, loaded, current, apply_to_released=True)


def _draft_event(job_id: str, image_count: int, update_pending: bool) -> OutboxEvent:
    """gallery.draft_ready: a gallery for Daniel to review (a draft, or a pending update)."""
    return OutboxEvent(
        EventKind.DRAFT_READY.value,
        {
            "job_id": job_id,
            "image_count": image_count,
            "update_pending": update_pending,
            "expose_key": layout.gallery_expose_key(job_id),
        },
        quiet=DRAFT_READY_QUIET,
        max_delay=DRAFT_READY_MAX_DELAY,
    )


def _sync(
    rt: Runtime,
    loaded: JobPhotos,
    current: dict[str, GalleryPhoto],
    *,
    apply_to_released: bool,
) -> GalleryReport:
    job, rows, job_id = loaded.job, loaded.rows, loaded.job_id
    redactions = Redactions.of(loaded.redactions)
    changes = pending_changes(job, rows, current, redactions)
    released = job.gallery_visibility == GalleryVisibility.CUSTOMER
    if released and not apply_to_released:
        _refresh_renditions(rt, rows, redactions)
        event = GalleryEvent.CHANGES_PENDING if changes else GalleryEvent.CHANGES_CLEARED
        newly_pending = bool(changes) and job.gallery_status != GalleryStatus.UPDATE_PENDING
        held = sum(1 for r in rows if r.gallery_hash is not None)
        report = GalleryReport(job_id, "", job.gallery_visibility, held, pending_changes=changes)
        outbox = None
        if newly_pending:
            planned = planned_photos(job_id, rows, current, keep_failed=True)
            outbox = _draft_event(job_id, len(planned), True)
        _, (status, _) = rt.registry.transition_gallery(job_id, event, outbox)
        report.gallery_status = status.value
        return report

    report = GalleryReport(job_id, "", job.gallery_visibility, 0, pending_changes=changes)
    to_copy = [r for r in rows if shows_in_gallery(r) and not _is_current_copy(rt, r, redactions)]
    copied = dict(
        on_workers(
            rt.settings,
            lambda r: (r.image_id, _copy_photo(rt, r, redactions.of_image(r.image_id))),
            to_copy,
            "gallery",
        )
    )
    previews = {
        size: {f.name for f in rt.storage.list_files(layout.gallery_previews_prefix(job_id, size))}
        for size in PREVIEW_SIZES
    }
    # gallery_hash records what gallery/images/ holds of each photo: set for every file kept,
    # cleared for every file about to be deleted (gallery_names reads it back).
    keep: set[str] = set()
    kept_ids: set[str] = set()
    for row in rows:
        current_copy = _is_current_copy(rt, row, redactions)
        if shows_in_gallery(row) and (current_copy or copied.get(row.image_id)):
            if not current_copy:
                _copy_recorded(rt, row, redactions)
                report.copied.append(row.filename)
            elif any(row.filename not in names for names in previews.values()) and not (
                # synced before previews were released, or deleted
                _copy_previews_safely(rt, row, redactions.of_image(row.image_id))
            ):
                report.missing_previews.append(row.filename)
            keep.add(row.filename)
            kept_ids.add(row.image_id)
        elif keeps_last_version(row):
            keep.add(row.filename)
            kept_ids.add(row.image_id)
        elif row.gallery_hash is not None:
            # Not shown any more, or final_input/ changed again before the copy.
            rt.registry.set_gallery_hash(row.image_id, None)
    for prefix in (
        layout.gallery_images_prefix(job_id),
        *(layout.gallery_previews_prefix(job_id, size) for size in PREVIEW_SIZES),
    ):
        for stored in rt.storage.list_files(prefix):
            if stored.name not in keep and not stored.name.startswith("."):
                rt.storage.delete(f"{prefix}/{stored.name}")
                if prefix == layout.gallery_images_prefix(job_id):
                    report.deleted.append(stored.name)

    # The document names exactly the photos the folder now holds.
    document = arranged_document(
        job, rows, [p for p in planned_photos(job_id, rows, current) if p.image_id in kept_ids]
    )
    data = render_json(document)
    digest = hashlib.sha256(data).hexdigest()
    expose_key = layout.gallery_expose_key(job_id)
    if job.gallery_expose_hash != digest or not rt.storage.exists(expose_key):
        rt.storage.write_bytes(expose_key, data)
    report.image_count = document.image_count
    if released:  # applied for a release: release_gallery moves the state
        rt.registry.update_job(job_id, gallery_expose_hash=digest)
        report.gallery_status = GalleryStatus.DRAFT_READY.value
        return report
    changed = bool(report.copied or report.deleted or job.gallery_expose_hash != digest)
    event = GalleryEvent.DRAFT_SYNCED if keep else GalleryEvent.DRAFT_EMPTIED
    # A release of the draft queues gallery.released itself; draft_ready is for Daniel's review.
    announce = changed and keep and not apply_to_released
    outbox = _draft_event(job_id, report.image_count, False) if announce else None
    _, (status, _) = rt.registry.transition_gallery(
        job_id, event, outbox, gallery_expose_hash=digest
    )
    report.gallery_status = status.value
    return report
