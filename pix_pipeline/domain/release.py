"""Brief 8: Daniel's release makes the gallery customer-visible and notifies the customer."""

import logging
from dataclasses import dataclass, field

from pix_pipeline.domain.gallery import pending_changes, sync_gallery
from pix_pipeline.domain.models import GalleryStatus, GalleryVisibility, ImageStatus
from pix_pipeline.domain.notify import Notification
from pix_pipeline.registry.schema import NotificationRow
from pix_pipeline.runtime import Runtime

log = logging.getLogger(__name__)

NOTIFICATION_KIND = "gallery_released"


class ReleaseRefused(RuntimeError):
    """There is nothing to release; the message tells Daniel why."""


@dataclass
class ReleaseReport:
    job_id: str
    release_number: int
    image_count: int
    changes: list[str] = field(default_factory=list)
    notifications_sent: int = 0
    notifications_failed: list[str] = field(default_factory=list)


def _to_notification(row: NotificationRow) -> Notification:
    return Notification(row.id, row.job_id, row.kind, row.release_number, dict(row.payload))


def deliver_pending(rt: Runtime, job_id: str) -> tuple[int, list[str]]:
    """Hand every undelivered notification of the job to the notifier; (sent, failures)."""
    sent, failures = 0, []
    for row in rt.registry.pending_notifications(job_id):
        try:
            rt.notifier.notify(_to_notification(row))
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            rt.registry.mark_notification(row.id, sent=False, error=message)
            failures.append(f"notification {row.id}: {message}")
            continue
        rt.registry.mark_notification(row.id, sent=True, error=None)
        sent += 1
    return sent, failures


def release_gallery(rt: Runtime, job_id: str, *, approved_by: str, note: str = "") -> ReleaseReport:
    """Apply pending gallery changes, make the gallery visible, notify the customer once."""
    job = rt.registry.get_job(job_id)
    if job is None:
        raise ReleaseRefused(
            f"job {job_id} is not registered: no file has been seen in"
            f" pix-jobs/{job_id}/final_input/ yet"
        )
    rows = rt.registry.images_of_job(job_id)
    already = job.gallery_visibility == GalleryVisibility.CUSTOMER
    if already and job.gallery_status != GalleryStatus.UPDATE_PENDING:
        sent, failures = deliver_pending(rt, job_id)
        if sent or failures:  # a retried release whose notification had not gone out yet
            return ReleaseReport(
                job_id,
                job.release_count,
                sum(1 for r in rows if r.gallery_hash),
                notifications_sent=sent,
                notifications_failed=failures,
            )
        raise ReleaseRefused(
            f"job {job_id} was released on {job.released_at:%Y-%m-%d %H:%M} UTC and has no"
            " pending update: nothing to release"
        )
    processed = [r for r in rows if r.status == ImageStatus.PROCESSED]
    if not processed:
        counts = {s: sum(1 for r in rows if r.status == s) for s in ImageStatus}
        raise ReleaseRefused(
            f"nothing to release: job {job_id} has no processed images"
            f" ({counts[ImageStatus.PENDING_PROCESSING]} pending, {counts[ImageStatus.ERROR]}"
            " with errors)"
        )
    changes = pending_changes(job, rows)
    gallery = sync_gallery(rt, job_id, apply_to_released=True)
    notification = rt.registry.record_release(
        job_id=job_id,
        approved_by=approved_by,
        note=note,
        kind=NOTIFICATION_KIND,
        payload={"job_id": job_id, "image_count": gallery.image_count},
    )
    log.info("job %s released by %s (%d images)", job_id, approved_by, gallery.image_count)
    sent, failures = deliver_pending(rt, job_id)
    return ReleaseReport(
        job_id,
        notification.release_number,
        gallery.image_count,
        changes=changes,
        notifications_sent=sent,
        notifications_failed=failures,
    )
