"""Brief 6: aggregate a job's processed images into pipeline/meta/job_expose.json."""

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass

from pix_pipeline.domain import layout
from pix_pipeline.domain.fields import expose_values, gallery_order, parsed_meta
from pix_pipeline.domain.meta import render_json
from pix_pipeline.domain.models import (
    PRIVACY_CATEGORIES,
    CaptionEntry,
    CleanupOption,
    Finding,
    ImageProblem,
    ImageStatus,
    JobExpose,
    PrivacyCategorySummary,
    StatusCounts,
)
from pix_pipeline.domain.photos import shows_in_gallery
from pix_pipeline.registry.schema import ImageRow, JobRow
from pix_pipeline.runtime import Runtime


@dataclass(frozen=True)
class ExposeReport:
    document: JobExpose
    written: bool
    content_hash: str


def _counts(rows: list[ImageRow]) -> StatusCounts:
    tally = Counter(r.status for r in rows)
    return StatusCounts(
        pending_processing=tally[ImageStatus.PENDING_PROCESSING],
        processed=tally[ImageStatus.PROCESSED],
        error=tally[ImageStatus.ERROR],
        removed=tally[ImageStatus.REMOVED],
        total=len(rows),
    )


def aggregate(job_id: str, rows: list[ImageRow], cover_image_id: str | None = None) -> JobExpose:
    """The job-level document from the registry rows (pure: no I/O).

    Its images are those that show in the gallery: the document is mirrored to the customer's
    gallery/expose.json, which must never name a photo Daniel hid.
    """
    processed = [
        meta
        for r in sorted(rows, key=lambda r: r.filename)
        if shows_in_gallery(r) and (meta := parsed_meta(r)) is not None
    ]
    room_types: dict[str, list[str]] = defaultdict(list)
    view_types: dict[str, list[str]] = defaultdict(list)
    objects: Counter[str] = Counter()
    captions: list[CaptionEntry] = []
    cleanup: list[CleanupOption] = []
    privacy = {name: PrivacyCategorySummary() for name in PRIVACY_CATEGORIES}
    for meta in processed:
        values = expose_values(meta)
        if values.room_type is not None:
            room_types[values.room_type.value].append(meta.filename)
        if values.view_type is not None:
            view_types[values.view_type.value].append(meta.filename)
        objects.update(set(values.objects))
        if values.caption_short or values.caption_long:
            captions.append(
                CaptionEntry(
                    image_id=meta.image_id,
                    filename=meta.filename,
                    caption_short=values.caption_short,
                    caption_long=values.caption_long,
                )
            )
        if meta.cleanup is not None and meta.cleanup.cleanup_possible:
            cleanup.append(
                CleanupOption(
                    image_id=meta.image_id,
                    filename=meta.filename,
                    candidates=meta.cleanup.cleanup_candidates,
                )
            )
        for name, summary in privacy.items():
            status = meta.privacy.category(name).status if meta.privacy else Finding.NOT_CHECKED
            if status is Finding.DETECTED:
                summary.detected.append(meta.filename)
            elif status is Finding.CLEAR:
                summary.clear += 1
            else:
                summary.not_checked += 1
    shown = {meta.image_id for meta in processed}
    errors = [
        ImageProblem(image_id=r.image_id, filename=r.filename, error_message=r.error_message)
        for r in sorted(rows, key=lambda r: r.filename)
        if r.status == ImageStatus.ERROR
    ]
    return JobExpose(
        job_id=job_id,
        counts=_counts(rows),
        images=processed,
        captions=captions,
        room_types=dict(sorted(room_types.items())),
        view_types=dict(sorted(view_types.items())),
        objects=dict(sorted(objects.items())),
        cleanup_options=cleanup,
        privacy_summary=privacy,
        errors=errors,
        gallery_order=gallery_order([r for r in rows if r.image_id in shown]),
        cover_image_id=cover_image_id if cover_image_id in shown else None,
    )


def build_job_expose(rt: Runtime, job_id: str) -> ExposeReport:
    """Render job_expose.json from the registry; rewrite it only when its content changed."""
    return write_job_expose(
        rt, job_id, rt.registry.get_job(job_id), rt.registry.images_of_job(job_id)
    )


def write_job_expose(
    rt: Runtime, job_id: str, job: JobRow | None, rows: list[ImageRow]
) -> ExposeReport:
    """Render job_expose.json from rows the caller loaded (the gallery sync and the release
    pass theirs); rewrite it only when its content changed."""
    cover = job.cover_image_id if job is not None else None
    document = aggregate(job_id, rows, cover)
    data = render_json(document)
    content_hash = hashlib.sha256(data).hexdigest()
    key = layout.job_expose_key(job_id)
    if job is not None and job.expose_hash == content_hash and rt.storage.exists(key):
        return ExposeReport(document, False, content_hash)
    rt.storage.write_bytes(key, data)
    rt.registry.update_job(job_id, expose_hash=content_hash)
    return ExposeReport(document, True, content_hash)
