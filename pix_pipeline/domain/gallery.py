"""Brief 7: keep the draft customer gallery in step with the processed images.

Before the first release the gallery follows the pipeline directly (visibility `internal`).
After a release it is what the customer sees: the sync then leaves it untouched and only
records `update_pending`; `release_gallery` applies the changes.
"""

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from pix_pipeline.domain import layout
from pix_pipeline.domain.gallery_state import GalleryEvent
from pix_pipeline.domain.models import GalleryStatus, GalleryVisibility, ImageStatus
from pix_pipeline.registry.schema import ImageRow, JobRow
from pix_pipeline.runtime import Runtime, on_workers


@dataclass
class GalleryReport:
    job_id: str
    gallery_status: str
    gallery_visibility: str
    image_count: int
    copied: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    expose_mirrored: bool = False
    pending_changes: list[str] = field(default_factory=list)

    @property
    def held_for_release(self) -> bool:
        return self.gallery_status == GalleryStatus.UPDATE_PENDING


def shows_in_gallery(row: ImageRow) -> bool:
    """Whether the photo belongs in the customer's gallery: processed, and not hidden by Daniel.

    The one answer for gallery/images/, the customer's expose.json, the release gate and the
    desk. A hidden photo stays processed (its previews and meta are kept).
    """
    return row.status == ImageStatus.PROCESSED and row.hidden_at is None


class ChangeKind(StrEnum):
    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"
    EXPOSE = "expose"


@dataclass(frozen=True)
class GalleryChange:
    """One difference between the gallery and what the pipeline would put there now."""

    kind: ChangeKind
    filename: str = ""
    # Why a photo leaves: `hidden`, or its status (`error`, `removed`).
    reason: str = ""

    def describe(self) -> str:
        if self.kind is ChangeKind.EXPOSE:
            return "update expose.json"
        if self.kind is ChangeKind.REMOVE:
            return f"remove {self.filename} ({self.reason})"
        return f"{self.kind.value} {self.filename}"


def gallery_changes(job: JobRow, rows: list[ImageRow]) -> list[GalleryChange]:
    """How the gallery differs from what the pipeline would put there now."""
    changes: list[GalleryChange] = []
    for row in rows:
        if shows_in_gallery(row):
            if row.gallery_hash is None:
                changes.append(GalleryChange(ChangeKind.ADD, row.filename))
            elif row.gallery_hash != row.content_hash:
                changes.append(GalleryChange(ChangeKind.REPLACE, row.filename))
        elif row.gallery_hash is not None and (
            row.status != ImageStatus.PENDING_PROCESSING or row.hidden_at is not None
        ):
            reason = "hidden" if row.hidden_at is not None else row.status
            changes.append(GalleryChange(ChangeKind.REMOVE, row.filename, reason))
    if job.expose_hash != job.gallery_expose_hash:
        changes.append(GalleryChange(ChangeKind.EXPOSE))
    return changes


def pending_changes(job: JobRow, rows: list[ImageRow]) -> list[str]:
    """How the gallery differs from what the pipeline would put there now, for people."""
    return [change.describe() for change in gallery_changes(job, rows)]


def _copy_verified(rt: Runtime, row: ImageRow) -> bool:
    """Copy the processed version of the file; False when final_input/ holds another by now."""
    data = rt.storage.read_bytes(row.storage_path)
    if hashlib.sha256(data).hexdigest() != row.content_hash:
        return False
    rt.storage.write_bytes(layout.gallery_image_key(row.job_id, row.filename), data)
    return True


def sync_gallery(rt: Runtime, job_id: str, *, apply_to_released: bool = False) -> GalleryReport:
    """Copy processed images into gallery/images/, drop the others, mirror expose.json.

    A released gallery is left as the customer sees it: its differences are recorded as
    `update_pending` unless `apply_to_released` (release_gallery, which holds the job's
    gallery lock and moves the state itself).
    """
    # expose.py asks shows_in_gallery which photos its document names: imported here, not at
    # the top, so the two modules do not import each other while loading.
    from pix_pipeline.domain.expose import build_job_expose

    build_job_expose(rt, job_id)
    if apply_to_released:
        return _sync(rt, job_id, apply_to_released=True)
    with rt.registry.gallery_lock(job_id):
        return _sync(rt, job_id, apply_to_released=False)


def _sync(rt: Runtime, job_id: str, *, apply_to_released: bool) -> GalleryReport:
    job = rt.registry.get_job(job_id)
    if job is None:
        raise KeyError(f"job {job_id} is not registered")
    rows = rt.registry.images_of_job(job_id)
    processed = [r for r in rows if shows_in_gallery(r)]
    changes = pending_changes(job, rows)
    released = job.gallery_visibility == GalleryVisibility.CUSTOMER
    if released and not apply_to_released:
        event = GalleryEvent.CHANGES_PENDING if changes else GalleryEvent.CHANGES_CLEARED
        _, (status, visibility) = rt.registry.transition_gallery(job_id, event)
        return GalleryReport(
            job_id, status.value, visibility.value, len(processed), pending_changes=changes
        )

    report = GalleryReport(job_id, "", job.gallery_visibility, 0, pending_changes=changes)
    to_copy = [r for r in processed if r.gallery_hash != r.content_hash]
    copied = dict(
        on_workers(rt.settings, lambda r: (r.image_id, _copy_verified(rt, r)), to_copy, "gallery")
    )
    # gallery_hash records what gallery/images/ holds of each image: set for every file kept,
    # cleared for every file about to be deleted (gallery_names reads it back).
    keep: set[str] = set()
    for row in rows:
        current = row.gallery_hash == row.content_hash
        if shows_in_gallery(row) and (current or copied[row.image_id]):
            if not current:
                rt.registry.set_gallery_hash(row.image_id, row.content_hash)
                report.copied.append(row.filename)
            keep.add(row.filename)
        elif (
            row.status == ImageStatus.PENDING_PROCESSING
            and row.gallery_hash is not None
            and row.hidden_at is None
        ):
            keep.add(row.filename)  # replaced once its new version is processed
        elif row.gallery_hash is not None:
            # Hidden, not processed any more, or final_input/ changed again before the copy.
            rt.registry.set_gallery_hash(row.image_id, None)
    gallery_prefix = layout.gallery_images_prefix(job_id)
    for stored in rt.storage.list_files(gallery_prefix):
        if stored.name not in keep and not stored.name.startswith("."):
            rt.storage.delete(f"{gallery_prefix}/{stored.name}")
            report.deleted.append(stored.name)

    expose_key = layout.gallery_expose_key(job_id)
    if job.gallery_expose_hash != job.expose_hash or not rt.storage.exists(expose_key):
        rt.storage.copy(layout.job_expose_key(job_id), expose_key)
        report.expose_mirrored = True
    report.image_count = len(keep)
    if released:  # applied for a release: release_gallery moves the state
        rt.registry.update_job(job_id, gallery_expose_hash=job.expose_hash)
        report.gallery_status = GalleryStatus.DRAFT_READY.value
        return report
    event = GalleryEvent.DRAFT_SYNCED if processed else GalleryEvent.DRAFT_EMPTIED
    _, (status, _) = rt.registry.transition_gallery(
        job_id, event, gallery_expose_hash=job.expose_hash
    )
    report.gallery_status = status.value
    return report
