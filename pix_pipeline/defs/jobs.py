"""Jobs: the per-job processing run the sensor starts, and Daniel's manual release."""

from typing import Any

import dagster as dg
from pydantic import Field

from pix_pipeline.defs.assets import (
    GALLERY,
    RELEASED_GALLERY,
    gallery_metadata,
    processing_assets,
)
from pix_pipeline.defs.partitions import pix_jobs
from pix_pipeline.defs.resources import PixResource
from pix_pipeline.domain.gallery import GalleryReport
from pix_pipeline.domain.release import ReleaseRefused, release_gallery, revoke_gallery

PROCESS_JOB_NAME = "process_pix_job"

# The run's steps (thumbs, analyze_photos, finish_job) build on each other, and each spreads its
# per-image work over the cores itself (PIX_IMAGE_WORKERS threads; analyze_photos runs
# privacy, depth and semantics side by side). A process per step would only add its start-up:
# about 1 to 1.5 s before the first step (a fork server importing Dagster and the pipeline)
# and 0.3 to 0.8 s for each later one. So the steps run in the run's own process.
process_pix_job = dg.define_asset_job(
    name=PROCESS_JOB_NAME,
    selection=dg.AssetSelection.assets(*processing_assets),
    executor_def=dg.in_process_executor,
    description="Processes one photo job: thumbnails, then privacy, depth and semantics side by"
    " side, then cleanup for new or changed photos; image meta, job_expose.json and the draft"
    " gallery.",
)


class ReleaseConfig(dg.Config):
    """What Daniel fills in on the launchpad."""

    approved_by: str = Field(default="Daniel", description="Who approves this release.")
    note: str = Field(default="", description="Optional note stored with the release.")
    acknowledge_privacy_findings: bool = Field(
        default=False,
        description="Set to true after checking the photos with privacy findings (faces,"
        " licence plates, logos, text such as house numbers): without it, a gallery with"
        " findings is not released.",
    )


class RevokeConfig(dg.Config):
    """Who takes a released gallery back, and why."""

    revoked_by: str = Field(default="Daniel", description="Who revokes the release.")
    note: str = Field(default="", description="Why; stored with the job.")


def _record_gallery(
    context: dg.OpExecutionContext,
    pix: PixResource,
    report: GalleryReport | None,
    gallery_description: str,
    released_description: str,
    released_metadata: dict[str, Any],
) -> None:
    """Record what a release or revoke did as the job's latest `gallery` and
    `released_gallery` materializations, so the UI shows the gallery's new visibility."""
    job_id = context.partition_key
    gallery = gallery_metadata(pix.runtime, job_id, report)
    for asset, description, metadata in (
        (GALLERY, gallery_description, gallery),
        (
            RELEASED_GALLERY,
            released_description,
            {"gallery_visibility": gallery["gallery_visibility"], **released_metadata},
        ),
    ):
        context.log_event(
            dg.AssetMaterialization(
                asset_key=asset, partition=job_id, description=description, metadata=metadata
            )
        )


@dg.op(
    description="Applies pending gallery changes, sets gallery_visibility = customer and"
    " queues one gallery.released notification.",
)
def release_job_gallery(
    context: dg.OpExecutionContext, config: ReleaseConfig, pix: PixResource
) -> dg.Output[int]:
    job_id = context.partition_key
    try:
        report = release_gallery(
            pix.runtime,
            job_id,
            approved_by=config.approved_by,
            note=config.note,
            acknowledge_privacy_findings=config.acknowledge_privacy_findings,
        )
    except ReleaseRefused as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    # The gallery is customer-visible from here on, whether or not the notification went out:
    # the UI's latest `gallery` and `released_gallery` events say so before anything can fail.
    _record_gallery(
        context,
        pix,
        report.gallery,
        f"released to the customer by {config.approved_by}",
        f"release #{report.release_number} by {config.approved_by}",
        {
            "release_number": report.release_number,
            "images_released": report.image_count,
            "approved_by": config.approved_by,
            "note": config.note,
        },
    )
    queued = (
        f"notification #{report.notification_id} (gallery.released, webhook-id"
        f" {report.webhook_id}) is queued: notification_outbox_sensor delivers it"
    )
    context.log.info(
        f"released {job_id}: {report.image_count} images, release #{report.release_number};"
        f" {queued}"
    )
    return dg.Output(
        report.release_number,
        metadata={
            "job_id": job_id,
            "release_number": report.release_number,
            "images_released": report.image_count,
            "changes_applied": dg.MetadataValue.json(report.changes),
            "notification": queued,
            "privacy_findings_acknowledged": dg.MetadataValue.json(report.privacy_findings),
        },
    )


@dg.job(
    name="release_gallery",
    partitions_def=pix_jobs,
    description="Release the gallery of one photo job to the customer: pick the job in the"
    " partition picker, launch. Applies pending changes, makes the gallery visible"
    " (gallery_visibility = customer) and queues one gallery.released notification.",
)
def release_gallery_job() -> None:
    release_job_gallery()


@dg.op(
    description="Sets gallery_visibility back to internal; the customer no longer sees the"
    " gallery, and a gallery.revoked notification is queued. Pending changes then reach the"
    " draft.",
)
def revoke_job_gallery(
    context: dg.OpExecutionContext, config: RevokeConfig, pix: PixResource
) -> dg.Output[int]:
    job_id = context.partition_key
    try:
        gallery = revoke_gallery(
            pix.runtime, job_id, revoked_by=config.revoked_by, note=config.note
        )
    except ReleaseRefused as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    _record_gallery(
        context,
        pix,
        gallery,
        f"release revoked by {config.revoked_by}: internal again",
        f"revoked by {config.revoked_by}: the customer sees no gallery",
        {"images_released": 0, "revoked_by": config.revoked_by, "note": config.note},
    )
    context.log.info(
        f"revoked the release of {job_id}: the gallery ({gallery.image_count} images) is internal"
    )
    return dg.Output(
        gallery.image_count, metadata={"job_id": job_id, "images_in_draft": gallery.image_count}
    )


@dg.job(
    name="revoke_gallery",
    partitions_def=pix_jobs,
    description="Take a released gallery back: pick the job in the partition picker, launch."
    " The gallery becomes internal (gallery_visibility = internal) until the next"
    " release_gallery; a gallery.revoked notification is queued.",
)
def revoke_gallery_job() -> None:
    revoke_job_gallery()
