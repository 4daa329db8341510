"""Brief 8: Daniel's release makes the gallery customer-visible and notifies the customer."""

import logging
from dataclasses import dataclass, field

from pix_pipeline.domain.gallery import GalleryReport, pending_changes, sync_gallery
from pix_pipeline.domain.models import (
    GalleryStatus,
    GalleryVisibility,
    ImageMeta,
    ImageStatus,
)
from pix_pipeline.domain.notify import Notification
from pix_pipeline.registry.schema import ImageRow, NotificationRow
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
    privacy_findings: dict[str, list[str]] = field(default_factory=dict)
    notifications_sent: int = 0
    notifications_failed: list[str] = field(default_factory=list)
    # What the release did to gallery/; None when it only retried the notification.
    gallery: GalleryReport | None = None


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


def privacy_findings(rows: list[ImageRow]) -> dict[str, list[str]]:
    """filename -> the privacy categories detected in it, for the images a release would show."""
    findings: dict[str, list[str]] = {}
    for row in rows:
        if row.status != ImageStatus.PROCESSED or row.meta is None:
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
    """Apply pending gallery changes, make the gallery visible, notify the customer once.

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
    findings = privacy_findings(rows)
    if findings and not acknowledged:
        listed = "; ".join(f"{name}: {', '.join(cats)}" for name, cats in sorted(findings.items()))
        raise ReleaseRefused(
            f"{len(findings)} image(s) of job {job_id} carry privacy findings ({listed})."
            " Check them, then launch release_gallery again with"
            " acknowledge_privacy_findings: true"
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
        privacy_findings=findings,
        notifications_sent=sent,
        notifications_failed=failures,
        gallery=gallery,
    )


def revoke_gallery(rt: Runtime, job_id: str, *, revoked_by: str, note: str = "") -> GalleryReport:
    """Return a released gallery to internal; pending changes then reach the draft.

    Returns what the sync did to the (now internal) gallery. The customer is not notified.
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
        rt.registry.record_revoke(job_id=job_id, revoked_by=revoked_by, note=note)
        log.info("job %s: release revoked by %s", job_id, revoked_by)
    # Internal again, so the draft may follow the pipeline: apply what waited for a release.
    return sync_gallery(rt, job_id)
