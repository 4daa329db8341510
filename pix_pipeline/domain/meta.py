"""Brief 5.3: settle each image as `processed` or `error` and render its meta JSON.

The database is the system of record; `pipeline/meta/images/{image_id}.json` is rendered
from it and rewritten only when its content changes.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from pix_pipeline.domain import layout
from pix_pipeline.domain.fields import resolve_fields
from pix_pipeline.domain.models import (
    CleanupResult,
    DepthResult,
    ImageMeta,
    ImageSource,
    ImageStatus,
    PrivacyResult,
    SemanticsResult,
    StepName,
    StepStatus,
    StepSummary,
    Thumbnails,
    ThumbsResult,
)
from pix_pipeline.domain.steps import expected_fingerprints
from pix_pipeline.registry.repository import as_utc
from pix_pipeline.registry.schema import ImageRow, SemanticValueRow, StepResultRow
from pix_pipeline.runtime import Runtime
from pix_pipeline.storage.base import Storage


def render_json(document: BaseModel) -> bytes:
    """The canonical bytes of a document: stable field order, so equal content hashes equal."""
    return (document.model_dump_json(indent=2) + "\n").encode("utf-8")


def write_document(storage: Storage, key: str, document: BaseModel) -> str:
    """Write a JSON document atomically; returns its content hash."""
    data = render_json(document)
    storage.write_bytes(key, data)
    return hashlib.sha256(data).hexdigest()


@dataclass
class MetaReport:
    statuses: dict[str, str] = field(default_factory=dict)  # filename -> status
    written: int = 0
    errors: dict[str, str] = field(default_factory=dict)  # filename -> message

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for status in self.statuses.values():
            out[status] = out.get(status, 0) + 1
        return out


def current_results(
    rt: Runtime, image: ImageRow, results: dict[tuple[str, str], StepResultRow]
) -> dict[StepName, StepResultRow | None]:
    """Each step's stored result if it was computed from the image's current content."""
    assert image.content_hash is not None
    fps = expected_fingerprints(rt, image.content_hash)
    current: dict[StepName, StepResultRow | None] = {}
    for step in StepName:
        row = results.get((image.image_id, step.value))
        current[step] = row if row is not None and row.input_fingerprint == fps[step] else None
    return current


def _parse(row: StepResultRow | None, model: type[BaseModel]) -> Any:
    if row is None or row.result is None or row.status == StepStatus.ERROR.value:
        return None
    return model.model_validate(row.result)


def settle_image(
    rt: Runtime,
    image: ImageRow,
    results: dict[tuple[str, str], StepResultRow],
    daniel: Mapping[str, SemanticValueRow] | None = None,
) -> ImageMeta:
    """The image's meta document, with the status its step results give it and, in
    `fields`, Daniel's values (`daniel`: field -> what he set) over the provider's."""
    base = {
        "image_id": image.image_id,
        "job_id": image.job_id,
        "filename": image.filename,
        "storage_path": image.storage_path,
        "source": ImageSource(image.source),
        "content_hash": image.content_hash,
        "size_bytes": image.size_bytes,
    }
    if image.status == ImageStatus.REMOVED or image.error_stage == "validation":
        return ImageMeta(
            **base, status=ImageStatus(image.status), error_message=image.error_message
        )
    current = current_results(rt, image, results)
    steps = {
        step: StepSummary(
            status=StepStatus(row.status) if row else "pending",
            provider=row.provider if row else None,
            error_message=row.error_message if row else None,
        )
        for step, row in current.items()
    }
    failed = [(step, row) for step, row in current.items() if row and row.status == "error"]
    if failed:
        status = ImageStatus.ERROR
        message = "; ".join(f"{step}: {row.error_message}" for step, row in failed)
    elif all(row is not None for row in current.values()):
        status, message = ImageStatus.PROCESSED, None
    else:
        status, message = ImageStatus.PENDING_PROCESSING, None
    thumbs: ThumbsResult | None = _parse(current[StepName.THUMBS], ThumbsResult)
    semantics: SemanticsResult | None = _parse(current[StepName.SEMANTICS], SemanticsResult)
    semantics_row = current[StepName.SEMANTICS]
    return ImageMeta(
        **base,
        status=status,
        error_message=message,
        width=thumbs.width if thumbs else None,
        height=thumbs.height if thumbs else None,
        thumbnails=Thumbnails(
            small=thumbs.small_key,
            large=thumbs.large_key,
            small_size=thumbs.small_size,
            large_size=thumbs.large_size,
        )
        if thumbs
        else None,
        gallery_key=layout.gallery_image_key(image.job_id, image.filename)
        if status is ImageStatus.PROCESSED
        else None,
        steps=steps,
        privacy=_parse(current[StepName.PRIVACY], PrivacyResult),
        depth=_parse(current[StepName.DEPTH], DepthResult),
        semantics=semantics,
        cleanup=_parse(current[StepName.CLEANUP], CleanupResult),
        fields=resolve_fields(
            semantics,
            as_utc(semantics_row.updated_at) if semantics_row is not None else None,
            daniel or {},
        ),
    )


def process_final_images(rt: Runtime, job_id: str) -> MetaReport:
    """Settle every image of the job and write the meta files whose content changed."""
    report = MetaReport()
    results = rt.registry.step_results(job_id)
    daniel = rt.registry.semantic_values(job_id)
    for image in rt.registry.images_of_job(job_id):
        meta = settle_image(rt, image, results, daniel.get(image.image_id))
        report.statuses[image.filename] = meta.status.value
        if meta.status is ImageStatus.ERROR and meta.error_message:
            report.errors[image.filename] = meta.error_message
        document = meta.model_dump(mode="json")
        key = layout.image_meta_key(job_id, image.image_id)
        if document == image.meta and meta.status.value == image.status and rt.storage.exists(key):
            continue
        if image.status == ImageStatus.REMOVED:
            rt.registry.set_image_meta(image.image_id, document)
        elif not rt.registry.set_image_outcome(
            image_id=image.image_id,
            expected_hash=image.content_hash,
            status=meta.status.value,
            error_message=meta.error_message,
            error_stage=_error_stage(image, meta),
            meta=document,
            finding_count=len(meta.privacy.to_look_at()) if meta.privacy else 0,
        ):
            continue  # the file changed meanwhile: the next run settles the new version
        write_document(rt.storage, key, meta)
        report.written += 1
    return report


def _error_stage(image: ImageRow, meta: ImageMeta) -> str | None:
    if image.error_stage == "validation":
        return image.error_stage
    failed = [step.value for step, s in meta.steps.items() if s.status == StepStatus.ERROR]
    return failed[0] if failed else None
