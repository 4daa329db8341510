"""The asset graph of one job partition, left to right as the brief's flow:

final_input (intake) -> per-image steps -> image_meta -> job_expose -> gallery (job outputs)
-> released_gallery (release, recorded by the release_gallery job).
"""

import json
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from pix_pipeline.defs.metadata import image_table, markdown_table
from pix_pipeline.defs.partitions import RUN_REVISION_TAG, pix_jobs
from pix_pipeline.defs.resources import PixResource
from pix_pipeline.domain import layout
from pix_pipeline.domain.expose import build_job_expose
from pix_pipeline.domain.gallery import GalleryReport, sync_gallery
from pix_pipeline.domain.meta import process_final_images
from pix_pipeline.domain.models import StepName
from pix_pipeline.domain.overview import (
    check_gallery,
    contact_sheet,
    detected_privacy,
    failed_images,
    gallery_view,
    image_lines,
    preview_tiles,
    stuck_pending,
)
from pix_pipeline.domain.schemas import validate
from pix_pipeline.domain.steps import UPSTREAM, StepReport, run_step, run_steps
from pix_pipeline.runtime import Runtime

INTAKE_GROUP = "intake"
STEP_GROUP = "per_image_steps"
JOB_GROUP = "job_outputs"
RELEASE_GROUP = "release"
OWNERS = ["team:pix"]

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
STEP_KINDS: dict[StepName, set[str]] = {
    StepName.THUMBS: {"python", "jpeg"},
    StepName.PRIVACY: {"python", "onnx"},
    StepName.DEPTH: {"python", "png"},
    StepName.SEMANTICS: {"python"},
    StepName.CLEANUP: {"python"},
}

final_input = dg.AssetSpec(
    "final_input",
    partitions_def=pix_jobs,
    group_name=INTAKE_GROUP,
    owners=OWNERS,
    kinds={"jpeg"},
    description="The finished photos in pix-jobs/{job}/final_input/, delivered by the editor or"
    " Daniel. final_input_sensor registers new, changed and removed files and starts the run.",
)
RELEASED_GALLERY = "released_gallery"
released_gallery = dg.AssetSpec(
    RELEASED_GALLERY,
    deps=["gallery"],
    partitions_def=pix_jobs,
    group_name=RELEASE_GROUP,
    owners=OWNERS,
    kinds={"jpeg", "json"},
    description="The gallery as the customer sees it. Only the release_gallery job (Daniel, from"
    " the review desk or the launchpad) records it; revoke_gallery records taking it back.",
)

PRIVACY_CHECK = "privacy_findings"
SCHEMA_CHECK = "job_expose_schema"
GALLERY_CHECK = "gallery_matches_images"
STUCK_CHECK = "no_image_stuck_pending"
FAILED_CHECK = "no_image_failed"


def _job_check(name: str, asset: str, description: str) -> dg.AssetCheckSpec:
    """A check evaluated per job partition, so each job shows its own result."""
    with warnings.catch_warnings():
        # Partitioned checks are marked preview in Dagster 1.13; unpartitioned ones would show
        # one result for all jobs.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name, asset=asset, partitions_def=pix_jobs, description=description
        )


def _storage_location(rt: Runtime, key: str) -> dg.MetadataValue[str]:
    where = rt.storage.location(key)
    if where.startswith("s3://"):
        return dg.MetadataValue.url(where)
    return dg.MetadataValue.path(where)


def _privacy_check(rt: Runtime, job_id: str) -> dg.AssetCheckResult:
    findings = detected_privacy(rt, job_id)
    return dg.AssetCheckResult(
        asset_key=StepName.PRIVACY.value,
        check_name=PRIVACY_CHECK,
        passed=not findings,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(findings)} photo(s) with privacy findings: check them before"
        " releasing (release_gallery needs acknowledge_privacy_findings: true)"
        if findings
        else "no privacy findings",
        metadata={
            "photos_with_findings": len(findings),
            "findings": markdown_table(
                ["file", "categories"], [(n, ", ".join(c)) for n, c in sorted(findings.items())]
            ),
        },
    )


def _subsettable(
    name: str,
    specs: list[dg.AssetSpec],
    checks: list[dg.AssetCheckSpec],
    description: str,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """One op for several assets of a job partition. Each asset reads its inputs from the
    registry and storage, so each can run alone (the UI's "Materialize" on one of them)."""
    return dg.multi_asset(
        name=name,
        specs=specs,
        check_specs=checks,
        partitions_def=pix_jobs,
        can_subset=True,
        description=description,
    )


def _step_spec(step: StepName) -> dg.AssetSpec:
    return dg.AssetSpec(
        step.value,
        deps=[u.value for u in UPSTREAM[step]] or [final_input.key],
        group_name=STEP_GROUP,
        owners=OWNERS,
        kinds=STEP_KINDS[step],
        description=STEP_DESCRIPTIONS[step],
    )


def _step_metadata(
    context: dg.AssetExecutionContext, rt: Runtime, report: StepReport, job_id: str
) -> dict[str, Any]:
    """A per-image step's materialization metadata, from its report."""
    counts = report.counts()
    context.log.info(f"{report.step}: {counts}")
    problems = [o for o in report.outcomes if o.outcome in ("error", "waiting", "blocked")]
    metadata: dict[str, Any] = {
        **{f"images_{name}": value for name, value in counts.items()},
        "seconds_total": round(sum(o.seconds for o in report.outcomes), 3),
        "problems": markdown_table(
            ["file", "outcome", "message"],
            [(o.filename, o.outcome, o.message) for o in problems],
        ),
    }
    if report.step is StepName.THUMBS:
        metadata["contact_sheet"] = dg.MetadataValue.md(
            contact_sheet(rt, preview_tiles(rt, job_id))
        )
        metadata["folder"] = _storage_location(rt, layout.thumbs_prefix(job_id))
    return metadata


@dg.multi_asset(
    name=StepName.THUMBS.value,
    specs=[_step_spec(StepName.THUMBS)],
    partitions_def=pix_jobs,
    description=STEP_DESCRIPTIONS[StepName.THUMBS],
)
def thumbs(context: dg.AssetExecutionContext, pix: PixResource) -> dg.MaterializeResult[None]:
    rt = pix.runtime
    job_id = context.partition_key
    report = run_step(rt, StepName.THUMBS, job_id)
    return dg.MaterializeResult(metadata=_step_metadata(context, rt, report, job_id))


# privacy, depth and semantics each build on thumbs alone. One op computes them side by side:
# a single pool of image workers takes every photo's work for all three, so both cores stay
# busy until the last photo instead of each step waiting for its slowest image. Each keeps its
# own asset, metadata and (privacy) check, and each can be materialized alone.
SIDE_BY_SIDE = (StepName.PRIVACY, StepName.DEPTH, StepName.SEMANTICS)


@_subsettable(
    "analyze_photos",
    [_step_spec(step) for step in SIDE_BY_SIDE],
    [
        _job_check(
            PRIVACY_CHECK,
            StepName.PRIVACY.value,
            "Warns while any photo shows faces, licence plates, logos or text:"
            " Daniel sees them before releasing.",
        )
    ],
    "Privacy check, depth map and semantics of every new or changed photo, side by side on"
    " the image workers.",
)
def analyze_photos(
    context: dg.AssetExecutionContext, pix: PixResource
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    rt = pix.runtime
    job_id = context.partition_key
    selected = [s for s in SIDE_BY_SIDE if dg.AssetKey(s.value) in context.selected_asset_keys]
    for step, report in run_steps(rt, selected, job_id).items():
        yield _materialized(context, rt, step.value, _step_metadata(context, rt, report, job_id))
    yield from _checks_alone(context, rt)


IMAGE_META, JOB_EXPOSE, GALLERY = "image_meta", "job_expose", "gallery"

# cleanup -> image_meta -> job_expose -> gallery: four assets, each with its own
# materializations and metadata (the last three with their checks), computed by one op. Each
# waits for the one before and takes a fraction of a second: cleanup derives its candidates
# from the privacy and semantics results (a provider that looks at the photos runs on the
# image workers). As one step, they cost one step's events and data-version reads, not four.


def _job_output(name: str, deps: list[str], kinds: set[str], description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        name, deps=deps, group_name=JOB_GROUP, owners=OWNERS, kinds=kinds, description=description
    )


finish_specs = [
    _step_spec(StepName.CLEANUP),
    _job_output(
        IMAGE_META,
        [step.value for step in StepName],
        {"python", "json"},
        "Settles every photo as processed or error and writes"
        " pipeline/meta/images/{image_id}.json.",
    ),
    _job_output(
        JOB_EXPOSE,
        [IMAGE_META],
        {"python", "json"},
        "Aggregates all processed photos of the job into"
        " pipeline/meta/job_expose.json (captions, room types, objects, cleanup, privacy).",
    ),
    _job_output(
        GALLERY,
        [JOB_EXPOSE],
        {"jpeg", "json"},
        "Customer gallery: photos (gallery/images/), their previews (gallery/previews/) and"
        " the customer's expose.json; a draft until release_gallery, after a release"
        " customer-visible changes wait as update_pending.",
    ),
]
finish_checks = [
    _job_check(
        FAILED_CHECK,
        IMAGE_META,
        "Warns while a photo of the job failed (status error): it is missing from the gallery"
        " until its file in final_input/ is replaced.",
    ),
    _job_check(
        STUCK_CHECK,
        IMAGE_META,
        "Fails when a photo has waited in pending_processing longer than"
        " PIX_STUCK_PENDING_MINUTES.",
    ),
    _job_check(
        SCHEMA_CHECK,
        JOB_EXPOSE,
        "job_expose.json as written validates against docs/schemas/job_expose.schema.json.",
    ),
    _job_check(
        GALLERY_CHECK,
        GALLERY,
        "gallery/images/ holds exactly the processed photos (after a release:"
        " exactly the released ones): no stray file, none missing.",
    ),
]


# One asset's work in finish_job; it returns the asset's metadata.
Part = Callable[[dg.AssetExecutionContext, Runtime, str], dict[str, Any]]


@_subsettable(
    "finish_job",
    finish_specs,
    finish_checks,
    "Cleanup candidates, then the job's outputs in order: image meta, job_expose.json, the"
    " draft gallery.",
)
def finish_job(
    context: dg.AssetExecutionContext, pix: PixResource
) -> Iterator[dg.MaterializeResult[None] | dg.AssetCheckResult]:
    rt = pix.runtime
    job_id = context.partition_key
    parts: list[tuple[str, Part]] = [
        (StepName.CLEANUP.value, _cleanup),
        (IMAGE_META, _image_meta),
        (JOB_EXPOSE, _job_expose),
        (GALLERY, _gallery),
    ]
    for asset, part in parts:
        if dg.AssetKey(asset) in context.selected_asset_keys:
            yield _materialized(context, rt, asset, part(context, rt, job_id))
    yield from _checks_alone(context, rt)


def _cleanup(context: dg.AssetExecutionContext, rt: Runtime, job_id: str) -> dict[str, Any]:
    return _step_metadata(context, rt, run_step(rt, StepName.CLEANUP, job_id), job_id)


def _image_meta(context: dg.AssetExecutionContext, rt: Runtime, job_id: str) -> dict[str, Any]:
    report = process_final_images(rt, job_id)
    context.log.info(f"image statuses: {report.counts()}")
    return {
        **{f"images_{status}": n for status, n in sorted(report.counts().items())},
        "meta_files_written": report.written,
        "images": image_table(image_lines(rt.registry.images_of_job(job_id))),
        "folder": _storage_location(rt, layout.image_meta_prefix(job_id)),
    }


def _stuck_check(rt: Runtime, job_id: str) -> dg.AssetCheckResult:
    minutes = rt.settings.stuck_pending_minutes
    stuck = stuck_pending(rt.registry.images_of_job(job_id), datetime.now(UTC), minutes)
    return dg.AssetCheckResult(
        asset_key=IMAGE_META,
        check_name=STUCK_CHECK,
        passed=not stuck,
        description=f"{len(stuck)} photo(s) pending for more than {minutes:g} minutes:"
        f" {', '.join(stuck[:10])}"
        if stuck
        else f"no photo pending for more than {minutes:g} minutes",
        metadata={"stuck": len(stuck)},
    )


def _failed_check(rt: Runtime, job_id: str) -> dg.AssetCheckResult:
    failed = failed_images(rt.registry.images_of_job(job_id))
    listed = "; ".join(f"{f.filename}: {f.reason}" for f in failed[:5])
    more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
    return dg.AssetCheckResult(
        asset_key=IMAGE_META,
        check_name=FAILED_CHECK,
        passed=not failed,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(failed)} photo(s) failed and are not in the gallery: {listed}{more}"
        if failed
        else "no photo failed",
        metadata={
            "failed": len(failed),
            "failed_photos": markdown_table(
                ["file", "reason"], [(f.filename, f.reason) for f in failed]
            ),
        },
    )


def _job_expose(context: dg.AssetExecutionContext, rt: Runtime, job_id: str) -> dict[str, Any]:
    report = build_job_expose(rt, job_id)
    doc = report.document
    return {
        "path": _storage_location(rt, layout.job_expose_key(job_id)),
        "rewritten": report.written,
        "processed_images": doc.counts.processed,
        "error_images": doc.counts.error,
        "room_types": markdown_table(
            ["room type", "photos"], [(k, ", ".join(v)) for k, v in doc.room_types.items()]
        ),
        "captions": markdown_table(
            ["file", "short caption", "long caption"],
            [(c.filename, c.caption_short, c.caption_long) for c in doc.captions],
        ),
        "privacy_findings": dg.MetadataValue.json(
            {k: v.detected for k, v in doc.privacy_summary.items() if v.detected}
        ),
    }


def _schema_check(rt: Runtime, job_id: str) -> dg.AssetCheckResult:
    """job_expose.json as written (read back: on R2, what readers get) against its schema."""
    written = json.loads(rt.storage.read_bytes(layout.job_expose_key(job_id)))
    problems = validate("job_expose", written)
    return dg.AssetCheckResult(
        asset_key=JOB_EXPOSE,
        check_name=SCHEMA_CHECK,
        passed=not problems,
        description="; ".join(problems[:5]) if problems else "valid",
        metadata={"problems": len(problems)},
    )


def _gallery(context: dg.AssetExecutionContext, rt: Runtime, job_id: str) -> dict[str, Any]:
    report = sync_gallery(rt, job_id)
    revision = context.run.tags.get(RUN_REVISION_TAG)
    if revision is not None and revision.isdigit():
        rt.registry.mark_processed_revision(job_id, int(revision))
    if report.held_for_release:
        context.log.info(
            f"gallery of {job_id} is released: {len(report.pending_changes)} change(s) wait for"
            " the next release_gallery run"
        )
    if report.missing_previews:
        context.log.warning(
            f"gallery of {job_id}: no previews for {', '.join(report.missing_previews)}; the"
            " thumbs step makes them again on the job's next run"
        )
    return gallery_metadata(rt, job_id, report)


def gallery_metadata(rt: Runtime, job_id: str, report: GalleryReport | None) -> dict[str, Any]:
    """The `gallery` asset's metadata: the gallery as stored after `report`'s change.

    The pipeline's sync, release_gallery and revoke_gallery each record it, so the UI's latest
    `gallery` materialization always tells who can see the gallery now.
    """
    view = gallery_view(rt, job_id)
    return {
        "gallery_status": view.gallery_status,
        "gallery_visibility": view.gallery_visibility,
        "images_in_gallery": view.image_count,
        "copied": len(report.copied) if report else 0,
        "deleted": len(report.deleted) if report else 0,
        "pending_changes": markdown_table(
            ["change waiting for release_gallery"], [(c,) for c in view.pending_changes]
        ),
        "last_release": view.last_release or "never released",
        "last_revoke": view.last_revoke or "–",
        "images": image_table(view.lines),
        "contact_sheet": dg.MetadataValue.md(contact_sheet(rt, view.tiles)),
        "folder": _storage_location(rt, layout.gallery_images_prefix(job_id)),
    }


def _gallery_check(rt: Runtime, job_id: str) -> dg.AssetCheckResult:
    checked = check_gallery(rt, job_id)
    return dg.AssetCheckResult(
        asset_key=GALLERY,
        check_name=GALLERY_CHECK,
        passed=checked.passed,
        description="gallery/images/ holds exactly the expected photos"
        if checked.passed
        else f"stray: {', '.join(checked.stray) or '–'}; missing:"
        f" {', '.join(checked.missing) or '–'}",
        metadata={
            "expected": len(checked.expected),
            "stray": len(checked.stray),
            "missing": len(checked.missing),
        },
    )


# Every check reads what its asset left in the registry and storage, so it gives the same
# answer right after its asset as alone (the UI's "Execute" on a check).
CHECKS: dict[str, Callable[[Runtime, str], dg.AssetCheckResult]] = {
    PRIVACY_CHECK: _privacy_check,
    FAILED_CHECK: _failed_check,
    STUCK_CHECK: _stuck_check,
    SCHEMA_CHECK: _schema_check,
    GALLERY_CHECK: _gallery_check,
}


def _materialized(
    context: dg.AssetExecutionContext, rt: Runtime, asset: str, metadata: dict[str, Any]
) -> dg.MaterializeResult[None]:
    """`asset`'s materialization, with the results of its checks this run selected."""
    key = dg.AssetKey(asset)
    checks = [
        CHECKS[check.name](rt, context.partition_key)
        for check in sorted(context.selected_asset_check_keys, key=lambda k: k.name)
        if check.asset_key == key
    ]
    return dg.MaterializeResult(asset_key=key, metadata=metadata, check_results=checks)


def _checks_alone(context: dg.AssetExecutionContext, rt: Runtime) -> Iterator[dg.AssetCheckResult]:
    """The selected checks whose asset this run does not materialize."""
    for check in sorted(context.selected_asset_check_keys, key=lambda k: k.name):
        if check.asset_key not in context.selected_asset_keys:
            yield CHECKS[check.name](rt, context.partition_key)


processing_assets = [thumbs, analyze_photos, finish_job]
