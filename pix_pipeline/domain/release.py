"""Brief 8: Daniel's release makes the gallery customer-visible and queues its notification.

The notification is an outbox row written in the release's own transaction; delivering it is
the outbox's job (`pix_pipeline.notify.outbox`), so a receiver that is down never fails a
release.
"""

import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pix_pipeline.domain import layout, redaction
from pix_pipeline.domain.fields import parsed_meta
from pix_pipeline.domain.gallery import (
    GalleryChange,
    GalleryReport,
    apply_release,
    current_photos,
    release_changes,
    sync_gallery,
)
from pix_pipeline.domain.models import (
    NOT_CHECKED_MARK,
    GalleryPhoto,
    GalleryStatus,
    GalleryVisibility,
    ImageStatus,
)
from pix_pipeline.domain.photos import JobPhotos, findings_checked, shows_in_gallery
from pix_pipeline.notify.events import EventKind
from pix_pipeline.registry.repository import OutboxEvent
from pix_pipeline.registry.schema import ImageRow, JobRow, RedactionRow
from pix_pipeline.runtime import Runtime

log = logging.getLogger(__name__)

# What blocks a release besides findings: redactions of a replaced file, "zu prüfen".
REDACTIONS_TO_CONFIRM = "redactions_to_confirm"


class Refusal(StrEnum):
    """Why a release cannot go ahead; the Dagster op and the desk word it for their readers."""

    NO_APPROVER = "no_approver"
    NOT_REGISTERED = "not_registered"
    NOTHING_PENDING = "nothing_pending"
    NO_PHOTOS = "no_photos"
    UNCHECKED_FINDINGS = "unchecked_findings"
    NOT_RELEASED = "not_released"


@dataclass(frozen=True)
class ReleaseCheck:
    """May the gallery of a job be released now, and what would the customer get."""

    job_id: str
    refusal: Refusal | None
    photos: int = 0
    changes: list[GalleryChange] = field(default_factory=list)
    # filename -> categories, of photos that would be shown and whose findings are unchecked.
    findings: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    released_at: datetime | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None

    def message(self) -> str:
        """The refusal in English, for the Dagster run's failure."""
        job_id = self.job_id
        if self.refusal is Refusal.NO_APPROVER:
            return "approved_by must name who approves the release"
        if self.refusal is Refusal.NOT_REGISTERED:
            return (
                f"job {job_id} is not registered: no file has been seen in"
                f" pix-jobs/{job_id}/final_input/ yet"
            )
        if self.refusal is Refusal.NOTHING_PENDING:
            when = f"{self.released_at:%Y-%m-%d %H:%M} UTC" if self.released_at else "earlier"
            return (
                f"job {job_id} was released on {when} and has no pending update: nothing to"
                " release (its notification is delivered by notification_outbox_sensor; a failed"
                " one is retried with retry_notifications)"
            )
        if self.refusal is Refusal.NO_PHOTOS:
            return (
                f"nothing to release: job {job_id} has no processed images to show"
                f" ({self.counts.get(ImageStatus.PENDING_PROCESSING, 0)} pending,"
                f" {self.counts.get(ImageStatus.ERROR, 0)} with errors,"
                f" {self.counts.get('hidden', 0)} hidden)"
            )
        if self.refusal is Refusal.UNCHECKED_FINDINGS:
            listed = "; ".join(
                f"{name}: {', '.join(cats)}".replace(NOT_CHECKED_MARK, " (not checked)").replace(
                    REDACTIONS_TO_CONFIRM, "redactions of a replaced file to confirm"
                )
                for name, cats in sorted(self.findings.items())
            )
            return (
                f"{len(self.findings)} image(s) of job {job_id} carry privacy findings ({listed})."
                ' Check them (the desk\'s "Geprüft", or hide the photo), or launch'
                " release_gallery again with acknowledge_privacy_findings: true"
            )
        return "the release may go ahead"


class ReleaseRefused(RuntimeError):
    """There is nothing to release, or it needs Daniel first; the message tells him why."""

    def __init__(self, message: str, check: ReleaseCheck | None = None) -> None:
        super().__init__(message)
        self.check = check


def unchecked_categories(row: ImageRow, redactions: Sequence[RedactionRow] = ()) -> list[str]:
    """What blocks a release of this photo: for a shown photo that Daniel has not marked
    checked, its detected categories and the categories whose check failed, less the
    categories whose every finding is redacted; and, checked or not, redactions decided for
    an earlier version of the file that Daniel has not confirmed."""
    if not shows_in_gallery(row) or row.meta is None:
        return []
    waiting = [REDACTIONS_TO_CONFIRM] if redaction.to_confirm(row, redactions) else []
    if findings_checked(row):
        return waiting
    meta = parsed_meta(row)
    if meta is None or meta.privacy is None:
        return waiting
    handled = redaction.redacted_categories(redaction.current_meta(row), redactions)
    return [c for c in meta.privacy.to_look_at() if c not in handled] + waiting


def check_release(
    loaded: JobPhotos,
    *,
    changes: list[GalleryChange],
    approved_by: str,
    acknowledged: bool,
) -> ReleaseCheck:
    """The one answer to "may this gallery be released now, and if not, why" (pure: no I/O).

    Refused without an approver, for a released gallery without pending
    changes, without a photo to show, and while a photo that would be shown carries privacy
    findings that are neither checked nor acknowledged for this release. `changes` is what the
    release would apply (`gallery.release_changes` of the same read).
    """
    job, rows = loaded.job, loaded.rows
    shown = [r for r in rows if shows_in_gallery(r)]
    counts = {status.value: sum(1 for r in rows if r.status == status) for status in ImageStatus}
    counts["hidden"] = sum(1 for r in rows if r.hidden_at is not None and r.status != "removed")
    findings = privacy_findings(rows, loaded.redactions)
    check = functools.partial(
        ReleaseCheck,
        job.job_id,
        photos=len(shown),
        changes=changes,
        findings=findings,
        counts=counts,
        released_at=job.released_at,
    )
    released = job.gallery_visibility == GalleryVisibility.CUSTOMER
    if released and job.gallery_status != GalleryStatus.UPDATE_PENDING:
        return check(Refusal.NOTHING_PENDING)
    if not shown:
        return check(Refusal.NO_PHOTOS)
    if findings and not acknowledged:
        return check(Refusal.UNCHECKED_FINDINGS)
    if not approved_by.strip():
        return check(Refusal.NO_APPROVER)
    return check(None)


@dataclass(frozen=True)
class Gate:
    """The release gate's verdict with the one read it decided on: the job's rows and the
    gallery's document as it was (a release applies exactly those)."""

    verdict: ReleaseCheck
    loaded: JobPhotos | None = None
    current: dict[str, GalleryPhoto] = field(default_factory=dict)


def gate(rt: Runtime, job_id: str, *, approved_by: str, acknowledged: bool) -> Gate:
    """Read the job once and ask `check_release` (refused for a job the registry does not
    know): the desk asks before it launches a release, and the release asks again under the
    job's gallery lock."""
    loaded = JobPhotos.load(rt.registry, job_id) if layout.is_valid_job_id(job_id) else None
    if loaded is None:
        return Gate(ReleaseCheck(job_id, Refusal.NOT_REGISTERED))
    current = current_photos(rt, job_id)
    verdict = check_release(
        loaded,
        changes=release_changes(loaded, current),
        approved_by=approved_by,
        acknowledged=acknowledged,
    )
    return Gate(verdict, loaded, current)


@dataclass
class ReleaseReport:
    job_id: str
    release_number: int
    image_count: int
    notification_id: int
    webhook_id: str
    changes: list[str] = field(default_factory=list)
    privacy_findings: dict[str, list[str]] = field(default_factory=dict)
    # What the release did to gallery/.
    gallery: GalleryReport | None = None


def privacy_findings(
    rows: list[ImageRow], redactions: Mapping[str, Sequence[RedactionRow]] | None = None
) -> dict[str, list[str]]:
    """filename -> privacy categories still to be checked, for the photos a release would show.

    Hidden photos never reach the customer, and photos whose findings Daniel checked count as
    acknowledged: neither appears.
    """
    findings: dict[str, list[str]] = {}
    for row in rows:
        detected = unchecked_categories(row, (redactions or {}).get(row.image_id, ()))
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
    with rt.registry.gallery_lock(job_id):
        return _release(rt, job_id, approved_by, note, acknowledge_privacy_findings)


def _release(
    rt: Runtime, job_id: str, approved_by: str, note: str, acknowledged: bool
) -> ReleaseReport:
    # Read once, decide, write once: the gate, the changes, the gallery and both documents
    # all work from this one read of the job's rows.
    checked = gate(rt, job_id, approved_by=approved_by, acknowledged=acknowledged)
    verdict, loaded = checked.verdict, checked.loaded
    if not verdict.allowed or loaded is None:
        raise ReleaseRefused(verdict.message(), verdict)
    changes = [change.describe() for change in verdict.changes]
    gallery = apply_release(rt, loaded, checked.current)
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
        privacy_findings=verdict.findings,
        gallery=gallery,
    )


def check_revoke(job: JobRow | None, *, revoked_by: str) -> Refusal | None:
    """The one answer to "may this release be taken back now": None when it may."""
    if job is None:
        return Refusal.NOT_REGISTERED
    if job.gallery_visibility != GalleryVisibility.CUSTOMER:
        return Refusal.NOT_RELEASED
    if not revoked_by.strip():
        return Refusal.NO_APPROVER
    return None


def revoke_gallery(rt: Runtime, job_id: str, *, revoked_by: str, note: str = "") -> GalleryReport:
    """Return a released gallery to internal; pending changes then reach the draft.

    Returns what the sync did to the (now internal) gallery. A gallery.revoked event is queued
    for the web backend.
    """
    with rt.registry.gallery_lock(job_id):
        job = rt.registry.get_job(job_id)
        refusal = check_revoke(job, revoked_by=revoked_by)
        if refusal is Refusal.NOT_REGISTERED or job is None:
            raise ReleaseRefused(f"job {job_id} is not registered")
        if refusal is Refusal.NOT_RELEASED:
            raise ReleaseRefused(
                f"the gallery of job {job_id} is not released (it is {job.gallery_visibility}):"
                " nothing to revoke"
            )
        if refusal is Refusal.NO_APPROVER:
            raise ReleaseRefused("revoked_by must name who revokes the release")
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
    return sync_gallery(rt, job_id)
