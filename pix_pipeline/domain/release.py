"""Brief 8: Daniel's release makes the gallery customer-visible and queues its notification.

The notification is an outbox row written in the release's own transaction; delivering it is
the outbox's job (`pix_pipeline.notify.outbox`), so a receiver that is down never fails a
release.
"""

import logging
from dataclasses import dataclass, field

from pix_pipeline.domain import layout
from pix_pipeline.domain.gallery import release_changes, shows_in_gallery, sync_gallery
from pix_pipeline.domain.models import GalleryStatus, GalleryVisibility, ImageMeta, ImageStatus
from pix_pipeline.notify.events import EventKind
from pix_pipeline.registry.repository import OutboxEvent
from pix_pipeline.registry.schema import ImageRow
from pix_pipeline.runtime import Runtime

log = logging.getLogger(__name__)


class ReleaseRefused(RuntimeError):
    """There is nothing to release; the message tells Daniel why."""


@dataclass
class ReleaseReport:
    job_id: str
    release_number: int
    image_count: int
    notification_id: int
    webhook_id: str
    changes: list[str] = field(default_factory=list)
    privacy_findings: dict[str, list[str]] = field(default_factory=dict)


def privacy_findings(rows: list[ImageRow]) -> dict[str, list[str]]:
    """filename -> the privacy categories detected in it, for the images a release would show."""
    findings: dict[str, list[str]] = {}
    for row in rows:
        if not shows_in_gallery(row) or row.meta is None:
            continue
        privacy = ImageMeta.model_validate(row.meta).privacy
        detected = privacy.detected() if privacy is not None else []
        if detected:
            findings[row.filename] = detected
    return findings


def release_gallery(
    rt: Runtime,
    job_id: str,
    *,
    approved_by: str,
    note: str = "",
    acknowledge_privacy_findings: bool = False,
) -> ReleaseReport:
    """Apply pending gallery changes, make the gallery visible, queue one gallery.released.

    Refused while any image to be shown carries privacy findings (faces, licence plates,
    logos, text) that the release does not acknowledge.
    """
    if not approved_by.strip():
        raise ReleaseRefused("approved_by must name who approves the release")
    with rt.registry.gallery_lock(job_id):
        return _release(rt, job_id, approved_by, note, acknowledge_privacy_findings)


def _release(
    rt: Runtime, job_id: str, approved_by: str, note: str, acknowledged: bool
) -> ReleaseReport:
    job = rt.registry.get_job(job_id)
    if job is None:
        raise ReleaseRefused(
            f"job {job_id} is not registered: no file has been seen in"
            f" pix-jobs/{job_id}/final_input/ yet"
        )
    rows = rt.registry.images_of_job(job_id)
    if (
        job.gallery_visibility == GalleryVisibility.CUSTOMER
        and job.gallery_status != GalleryStatus.UPDATE_PENDING
    ):
        raise ReleaseRefused(
            f"job {job_id} was released on {job.released_at:%Y-%m-%d %H:%M} UTC and has no"
            " pending update: nothing to release (its notification is delivered by"
            " notification_outbox_sensor; a failed one is retried with retry_notifications)"
        )
    if not any(shows_in_gallery(r) for r in rows):
        counts = {s: sum(1 for r in rows if r.status == s) for s in ImageStatus}
        raise ReleaseRefused(
            f"nothing to release: job {job_id} has no processed images"
            f" ({counts[ImageStatus.PENDING_PROCESSING]} pending, {counts[ImageStatus.ERROR]}"
            " with errors)"
        )
    findings = privacy_findings(rows)
    if findings and not acknowledged:
        listed = "; ".join(f"{name}: {', '.join(cats)}" for name, cats in sorted(findings.items()))
        raise ReleaseRefused(
            f"{len(findings)} image(s) of job {job_id} carry privacy findings ({listed})."
            " Check them, then launch release_gallery again with"
            " acknowledge_privacy_findings: true"
        )
    changes = release_changes(rt, job, rows)
    gallery = sync_gallery(rt, job_id, apply_to_released=True)
    notification = rt.registry.record_release(
        job_id=job_id,
        approved_by=approved_by,
        note=note,
        payload={
            "job_id": job_id,
            "image_count": gallery.image_count,
            "approved_by": approved_by,
            "expose_key": layout.gallery_expose_key(job_id),
        },
        kind=EventKind.RELEASED.value,
    )
    log.info("job %s released by %s (%d images)", job_id, approved_by, gallery.image_count)
    return ReleaseReport(
        job_id,
        notification.release_number,
        gallery.image_count,
        notification.id,
        notification.webhook_id,
        changes=changes,
        privacy_findings=findings,
    )


def revoke_gallery(rt: Runtime, job_id: str, *, revoked_by: str, note: str = "") -> int:
    """Return a released gallery to internal; pending changes then reach the draft.

    Returns the number of images in the (now internal) gallery. A gallery.revoked event is
    queued for the web backend.
    """
    if not revoked_by.strip():
        raise ReleaseRefused("revoked_by must name who revokes the release")
    with rt.registry.gallery_lock(job_id):
        job = rt.registry.get_job(job_id)
        if job is None:
            raise ReleaseRefused(f"job {job_id} is not registered")
        if job.gallery_visibility != GalleryVisibility.CUSTOMER:
            raise ReleaseRefused(
                f"the gallery of job {job_id} is not released (it is {job.gallery_visibility}):"
                " nothing to revoke"
            )
        rt.registry.record_revoke(
            job_id=job_id,
            revoked_by=revoked_by,
            note=note,
            outbox=OutboxEvent(
                EventKind.REVOKED.value,
                {
                    "job_id": job_id,
                    "revoked_by": revoked_by,
                    "expose_key": layout.gallery_expose_key(job_id),
                },
            ),
        )
        log.info("job %s: release revoked by %s", job_id, revoked_by)
    # Internal again, so the draft may follow the pipeline: apply what waited for a release.
    return sync_gallery(rt, job_id).image_count
