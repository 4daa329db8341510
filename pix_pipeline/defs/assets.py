"""The asset graph of one job partition: per-image steps -> image_meta -> job_expose -> gallery."""

import dagster as dg

from pix_pipeline.defs.metadata import markdown_table
from pix_pipeline.defs.partitions import RUN_REVISION_TAG, pix_jobs
from pix_pipeline.defs.resources import PixResource
from pix_pipeline.domain import layout
from pix_pipeline.domain.expose import build_job_expose
from pix_pipeline.domain.gallery import sync_gallery
from pix_pipeline.domain.meta import process_final_images
from pix_pipeline.domain.models import StepName
from pix_pipeline.domain.steps import UPSTREAM, run_step

STEP_GROUP = "per_image_steps"
JOB_GROUP = "job_outputs"

STEP_DESCRIPTIONS: dict[StepName, str] = {
    StepName.THUMBS: "400 px and 1600 px upright sRGB previews of every new or changed photo"
    " (pipeline/thumbs/).",
    StepName.PRIVACY: "Privacy check per photo: faces, licence plates, logos, text such as"
    " house numbers (detected / clear / not_checked).",
    StepName.DEPTH: "Optional depth map per photo (pipeline/depth/); skipped unless"
    " PIX_DEPTH_ENABLED.",
    StepName.SEMANTICS: "Short and long caption, room type, view type and objects per photo.",
    StepName.CLEANUP: "Disturbing objects that could be retouched later (cleanup_possible,"
    " cleanup_candidates); SAM is never run automatically.",
}


def _step_asset(step: StepName) -> dg.AssetsDefinition:
    @dg.asset(
        name=step.value,
        partitions_def=pix_jobs,
        deps=[u.value for u in UPSTREAM[step]],
        group_name=STEP_GROUP,
        description=STEP_DESCRIPTIONS[step],
    )
    def _asset(context: dg.AssetExecutionContext, pix: PixResource) -> dg.MaterializeResult[None]:
        report = run_step(pix.runtime, step, context.partition_key)
        counts = report.counts()
        context.log.info(f"{step}: {counts}")
        problems = [o for o in report.outcomes if o.outcome in ("error", "waiting", "blocked")]
        return dg.MaterializeResult(
            metadata={
                **{f"images_{name}": value for name, value in counts.items()},
                "seconds_total": round(sum(o.seconds for o in report.outcomes), 3),
                "problems": markdown_table(
                    ["file", "outcome", "message"],
                    [(o.filename, o.outcome, o.message) for o in problems],
                ),
            }
        )

    return _asset


step_assets = [_step_asset(step) for step in StepName]


@dg.asset(
    partitions_def=pix_jobs,
    deps=[s.value for s in StepName],
    group_name=JOB_GROUP,
    description="Settles every photo as processed or error and writes"
    " pipeline/meta/images/{image_id}.json.",
)
def image_meta(context: dg.AssetExecutionContext, pix: PixResource) -> dg.MaterializeResult[None]:
    report = process_final_images(pix.runtime, context.partition_key)
    counts = report.counts()
    context.log.info(f"image statuses: {counts}")
    return dg.MaterializeResult(
        metadata={
            **{f"status_{name}": n for name, n in sorted(counts.items())},
            "meta_files_written": report.written,
            "images": markdown_table(
                ["file", "status", "error"],
                [(f, s, report.errors.get(f)) for f, s in sorted(report.statuses.items())],
            ),
        }
    )


@dg.asset(
    partitions_def=pix_jobs,
    deps=[image_meta],
    group_name=JOB_GROUP,
    description="Aggregates all processed photos of the job into"
    " pipeline/meta/job_expose.json (captions, room types, objects, cleanup, privacy).",
)
def job_expose(context: dg.AssetExecutionContext, pix: PixResource) -> dg.MaterializeResult[None]:
    job_id = context.partition_key
    report = build_job_expose(pix.runtime, job_id)
    doc = report.document
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(
                str(pix.runtime.storage.describe()) + "/" + layout.job_expose_key(job_id)
            ),
            "rewritten": report.written,
            "processed_images": doc.counts.processed,
            "error_images": doc.counts.error,
            "room_types": dg.MetadataValue.json({k: len(v) for k, v in doc.room_types.items()}),
            "privacy_findings": dg.MetadataValue.json(
                {k: v.detected for k, v in doc.privacy_summary.items() if v.detected}
            ),
        }
    )


@dg.asset(
    partitions_def=pix_jobs,
    deps=[job_expose],
    group_name=JOB_GROUP,
    description="Draft customer gallery (gallery/images/, gallery/expose.json), invisible to the"
    " customer until release_gallery; after a release, changes wait as update_pending.",
)
def gallery(context: dg.AssetExecutionContext, pix: PixResource) -> dg.MaterializeResult[None]:
    job_id = context.partition_key
    rt = pix.runtime
    report = sync_gallery(rt, job_id)
    revision = context.run.tags.get(RUN_REVISION_TAG)
    if revision is not None and revision.isdigit():
        rt.registry.mark_processed_revision(job_id, int(revision))
    if report.held_for_release:
        context.log.info(
            f"gallery of {job_id} is released: {len(report.pending_changes)} change(s) wait for"
            " the next release_gallery run"
        )
    return dg.MaterializeResult(
        metadata={
            "gallery_status": report.gallery_status,
            "gallery_visibility": report.gallery_visibility,
            "images_in_gallery": report.image_count,
            "copied": len(report.copied),
            "deleted": len(report.deleted),
            "pending_changes": markdown_table(["change"], [(c,) for c in report.pending_changes]),
        }
    )


processing_assets = [*step_assets, image_meta, job_expose, gallery]
