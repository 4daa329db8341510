"""A job's photos as one read of the registry, and the rules every gallery reader applies to them.

The job document (expose), the gallery sync, the release gate and the desk all decide with
these predicates; keeping them here, below all of those modules, means none of them has to
import another to ask "does this photo show in the gallery".
"""

from dataclasses import dataclass

from pix_pipeline.domain.models import ImageStatus
from pix_pipeline.registry.repository import Registry
from pix_pipeline.registry.schema import ImageRow, JobRow, RedactionRow


def shows_in_gallery(row: ImageRow) -> bool:
    """Whether the photo's current version belongs in the customer's gallery: processed, and
    not hidden by Daniel (a hidden photo stays processed; its previews and meta are kept).

    The one place that decides it: the sync, the customer's document, the pending-change
    detection, the release gate and counts, and the desk all ask here.
    """
    return row.status == ImageStatus.PROCESSED and row.hidden_at is None


def keeps_last_version(row: ImageRow) -> bool:
    """A photo the gallery holds whose newer version is being processed: the gallery keeps the
    version it has until the new one is ready (unless Daniel hid the photo)."""
    return (
        row.gallery_hash is not None
        and row.status == ImageStatus.PENDING_PROCESSING
        and row.hidden_at is None
    )


def failed_in_gallery(row: ImageRow) -> bool:
    """A photo the gallery holds whose newer version failed (a broken replacement, a failed
    re-run). Not a change to announce: a released gallery keeps it until the next release
    (unless Daniel hid it, which is a change the customer sees)."""
    return (
        row.gallery_hash is not None and row.status == ImageStatus.ERROR and row.hidden_at is None
    )


def findings_checked(row: ImageRow) -> bool:
    """Daniel marked the findings of the photo's current content as checked."""
    return row.checked_hash is not None and row.checked_hash == row.content_hash


@dataclass(frozen=True)
class JobPhotos:
    """A job's row, its image rows and their redactions, read once: a release decides and
    writes from this one read (the gate, the changes, the sync and both documents)."""

    job: JobRow
    rows: list[ImageRow]
    # image_id -> its redactions, undone ones included, oldest first.
    redactions: dict[str, list[RedactionRow]]

    @property
    def job_id(self) -> str:
        return self.job.job_id

    @classmethod
    def load(cls, registry: Registry, job_id: str) -> "JobPhotos | None":
        """None for a job the registry does not know."""
        job = registry.get_job(job_id)
        if job is None:
            return None
        return cls(job, registry.images_of_job(job_id), registry.redactions_of_job(job_id))
