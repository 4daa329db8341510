"""Brief 5.2 a–e: the per-image steps, run for the images whose input changed.

Every step result is stored with the fingerprint of its input: the image's content hash,
the step's version and provider, and the fingerprints of the steps it builds on. A step
skips an image whose stored fingerprint matches and whose last result succeeded; anything
else is (re)computed. One image's exception is recorded for that image and never stops the
others.
"""

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from pix_pipeline.domain import layout
from pix_pipeline.domain.fields import hints
from pix_pipeline.domain.models import (
    CleanupResult,
    DepthResult,
    ImageStatus,
    PrivacyResult,
    SemanticsResult,
    StepName,
    StepStatus,
    ThumbsResult,
)
from pix_pipeline.imaging.thumbnails import make_previews, open_preview
from pix_pipeline.registry.schema import ImageRow, StepResultRow
from pix_pipeline.runtime import Runtime, on_workers

log = logging.getLogger(__name__)

# Bump a step's version when its code changes what it produces: every image is redone.
STEP_VERSIONS: dict[StepName, str] = {
    StepName.THUMBS: "1",
    StepName.PRIVACY: "1",
    StepName.DEPTH: "1",
    StepName.SEMANTICS: "1",
    StepName.CLEANUP: "1",
}
UPSTREAM: dict[StepName, tuple[StepName, ...]] = {
    StepName.THUMBS: (),
    StepName.PRIVACY: (StepName.THUMBS,),
    StepName.DEPTH: (StepName.THUMBS,),
    StepName.SEMANTICS: (StepName.THUMBS,),
    StepName.CLEANUP: (StepName.THUMBS, StepName.PRIVACY, StepName.SEMANTICS),
}
USABLE = (StepStatus.OK.value, StepStatus.SKIPPED.value)


class InputChanged(RuntimeError):
    """The file changed after it was registered; the sensor registers the new version first."""


@dataclass(frozen=True)
class StepOutput:
    status: StepStatus
    provider: str | None
    result: dict[str, Any] | None


@dataclass(frozen=True)
class ImageOutcome:
    image_id: str
    filename: str
    outcome: str  # computed | skipped | unchanged | error | blocked | waiting
    message: str | None = None
    seconds: float = 0.0


@dataclass
class StepReport:
    step: StepName
    outcomes: list[ImageOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)

    def counts(self) -> dict[str, int]:
        names = ("computed", "skipped", "unchanged", "error", "blocked", "waiting")
        return {name: self.count(name) for name in names}


def provider_identity(rt: Runtime, step: StepName) -> str:
    p = rt.providers
    if step is StepName.THUMBS:
        # A fixed name in the input fingerprint (changing it would remake every preview);
        # the step records the library that made the previews (`Previews.maker`).
        return "pillow"
    if step is StepName.PRIVACY:
        return p.privacy.identity
    if step is StepName.SEMANTICS:
        return p.semantics.identity
    if step is StepName.CLEANUP:
        return p.cleanup.identity
    return p.depth.identity if rt.settings.depth_enabled else "disabled"


def expected_fingerprints(rt: Runtime, content_hash: str) -> dict[StepName, str]:
    """The input fingerprint each step would have for this content under today's config."""
    fps: dict[StepName, str] = {}
    for step in StepName:  # declaration order lists upstream steps first
        parts = [step.value, STEP_VERSIONS[step], provider_identity(rt, step), content_hash]
        parts += [fps[u] for u in UPSTREAM[step]]
        fps[step] = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return fps


def is_current(row: StepResultRow | None, fingerprint: str) -> bool:
    return row is not None and row.input_fingerprint == fingerprint and row.status in USABLE


def _has_previews(image: ImageRow, present: set[str]) -> bool:
    """Both previews of the image are in pipeline/thumbs/ (deleted ones are made again)."""
    return all(
        layout.thumb_key(image.job_id, image.image_id, size).rpartition("/")[2] in present
        for size in layout.ThumbSize
    )


def processable_images(rows: list[ImageRow]) -> list[ImageRow]:
    """Registered files that passed validation and are still in final_input/."""
    return [
        r
        for r in rows
        if r.status != ImageStatus.REMOVED
        and r.error_stage != "validation"
        and r.content_hash is not None
    ]


@dataclass(frozen=True)
class StepInput:
    rt: Runtime
    image: ImageRow
    upstream: dict[StepName, StepResultRow]

    def thumbs(self) -> ThumbsResult:
        return ThumbsResult.model_validate(self.upstream[StepName.THUMBS].result)

    def preview(self) -> Image.Image:
        """The 1600 px preview: what analysis providers look at (never the full raster)."""
        return open_preview(self.rt.storage.read_bytes(self.thumbs().large_key))


def _compute_thumbs(inp: StepInput) -> StepOutput:
    img = inp.image
    data = inp.rt.storage.read_bytes(img.storage_path)
    if hashlib.sha256(data).hexdigest() != img.content_hash:
        raise InputChanged(f"{img.filename} changed after registration")
    previews = make_previews(data, inp.rt.settings.max_image_pixels)
    small_key = layout.thumb_key(img.job_id, img.image_id, layout.ThumbSize.SMALL)
    large_key = layout.thumb_key(img.job_id, img.image_id, layout.ThumbSize.LARGE)
    inp.rt.storage.write_bytes(large_key, previews.large_jpeg)
    inp.rt.storage.write_bytes(small_key, previews.small_jpeg)
    result = ThumbsResult(
        width=previews.info.width,
        height=previews.info.height,
        orientation=previews.info.orientation,
        source_mode=previews.info.mode,
        small_key=small_key,
        large_key=large_key,
        small_size=previews.small_size,
        large_size=previews.large_size,
    )
    return StepOutput(StepStatus.OK, previews.maker, result.model_dump(mode="json"))


def _compute_privacy(inp: StepInput) -> StepOutput:
    provider = inp.rt.providers.privacy
    result = provider.analyze(inp.preview() if provider.needs_image else None)
    return StepOutput(StepStatus.OK, provider.identity, result.model_dump(mode="json"))


def _compute_semantics(inp: StepInput) -> StepOutput:
    provider = inp.rt.providers.semantics
    # Daniel's values are a hint, deliberately outside the fingerprint: setting one does not
    # re-run the provider, and its result never replaces them (domain/fields.py).
    daniel = hints(inp.rt.registry.semantic_values_of_image(inp.image.image_id))
    result = provider.analyze(inp.preview() if provider.needs_image else None, hints=daniel)
    return StepOutput(StepStatus.OK, provider.identity, result.model_dump(mode="json"))


def _compute_depth(inp: StepInput) -> StepOutput:
    if not inp.rt.settings.depth_enabled:
        skipped = DepthResult(provider="disabled", status="skipped")
        return StepOutput(StepStatus.SKIPPED, "disabled", skipped.model_dump(mode="json"))
    provider = inp.rt.providers.depth
    png = provider.estimate(inp.preview() if provider.needs_image else None)
    if png is None:
        result = DepthResult(provider=provider.identity, status="not_checked")
    else:
        key = layout.depth_key(inp.image.job_id, inp.image.image_id)
        inp.rt.storage.write_bytes(key, png)
        result = DepthResult(provider=provider.identity, status="done", depth_key=key)
    return StepOutput(StepStatus.OK, provider.identity, result.model_dump(mode="json"))


def _compute_cleanup(inp: StepInput) -> StepOutput:
    provider = inp.rt.providers.cleanup
    privacy = PrivacyResult.model_validate(inp.upstream[StepName.PRIVACY].result)
    semantics = SemanticsResult.model_validate(inp.upstream[StepName.SEMANTICS].result)
    result: CleanupResult = provider.analyze(
        inp.preview() if provider.needs_image else None, privacy, semantics
    )
    return StepOutput(StepStatus.OK, provider.identity, result.model_dump(mode="json"))


COMPUTE: dict[StepName, Callable[[StepInput], StepOutput]] = {
    StepName.THUMBS: _compute_thumbs,
    StepName.PRIVACY: _compute_privacy,
    StepName.DEPTH: _compute_depth,
    StepName.SEMANTICS: _compute_semantics,
    StepName.CLEANUP: _compute_cleanup,
}


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# A temp file this old belongs to no live writer: a run that was killed left it behind.
STALE_TEMP_SECONDS = 3600


def _prepare_job_folders(rt: Runtime, job_id: str) -> None:
    final_input = layout.final_input_prefix(job_id)
    stale_before = time.time_ns() - STALE_TEMP_SECONDS * 10**9
    for prefix in (*layout.job_folders(job_id), layout.gallery_prefix(job_id)):
        if prefix == final_input:  # final_input/ belongs to the uploaders
            continue
        rt.storage.ensure_folder(prefix)
        for name in rt.storage.remove_stale_temp_files(prefix, stale_before):
            log.info("removed %s/%s, left behind by an interrupted write", prefix, name)


def run_step(rt: Runtime, step: StepName, job_id: str) -> StepReport:
    """Run `step` for every image of the job whose input changed; record each outcome."""
    return run_steps(rt, (step,), job_id)[step]


def run_steps(rt: Runtime, steps: Sequence[StepName], job_id: str) -> dict[StepName, StepReport]:
    """Run independent steps side by side: one pool of image workers takes every image's work
    for each of `steps`, so all of them progress at once and no core waits for a step to end.

    None of `steps` may build on another (their upstream steps ran before) or come twice.
    """
    builds_on = [s for s in steps if any(u in steps for u in UPSTREAM[s])]
    if builds_on:
        raise ValueError(f"{', '.join(builds_on)} build(s) on another of {', '.join(steps)}")
    if len(set(steps)) != len(steps):
        raise ValueError(f"a step is named twice: {', '.join(steps)}")
    previews: set[str] = set()
    if StepName.THUMBS in steps:
        _prepare_job_folders(rt, job_id)
        previews = {f.name for f in rt.storage.list_files(layout.thumbs_prefix(job_id))}
    reports = {step: StepReport(step) for step in steps}
    results = rt.registry.step_results(job_id)
    todo: list[tuple[StepName, ImageRow, str, StepInput]] = []
    for image in processable_images(rt.registry.images_of_job(job_id)):
        assert image.content_hash is not None
        fps = expected_fingerprints(rt, image.content_hash)
        for step in steps:
            upstream = {u: results.get((image.image_id, u)) for u in UPSTREAM[step]}
            if not all(is_current(row, fps[u]) for u, row in upstream.items()):
                reports[step].outcomes.append(
                    ImageOutcome(
                        image.image_id, image.filename, "blocked", "an earlier step failed"
                    )
                )
            elif is_current(results.get((image.image_id, step.value)), fps[step]) and (
                step is not StepName.THUMBS or _has_previews(image, previews)
            ):
                reports[step].outcomes.append(
                    ImageOutcome(image.image_id, image.filename, "unchanged")
                )
            else:
                inputs = StepInput(rt, image, {u: r for u, r in upstream.items() if r is not None})
                todo.append((step, image, fps[step], inputs))

    def work(item: tuple[StepName, StepInput]) -> tuple[StepOutput | BaseException, float]:
        step, inp = item
        started = time.perf_counter()
        try:
            return COMPUTE[step](inp), time.perf_counter() - started
        except Exception as exc:
            return exc, time.perf_counter() - started

    # Largest files first: they tend to take longest (more detail to decode and scan), and a
    # long image started last would leave the other workers idle at the end. The sort is
    # stable: an image's steps stay together, in the order given.
    order = sorted(range(len(todo)), key=lambda i: -todo[i][1].size_bytes)
    name = "+".join(step.value for step in steps)
    outputs = on_workers(rt.settings, work, [(todo[i][0], todo[i][3]) for i in order], name)
    recorded: dict[int, ImageOutcome] = {}
    for i, (output, seconds) in zip(order, outputs, strict=True):
        step, image, fingerprint, _ = todo[i]
        recorded[i] = _record(rt, step, image, fingerprint, output, seconds)
    for i, (step, *_) in enumerate(todo):
        reports[step].outcomes.append(recorded[i])
    return reports


def _record(
    rt: Runtime,
    step: StepName,
    image: ImageRow,
    fingerprint: str,
    output: StepOutput | BaseException,
    seconds: float,
) -> ImageOutcome:
    if isinstance(output, InputChanged):
        return ImageOutcome(image.image_id, image.filename, "waiting", str(output), seconds)
    if isinstance(output, BaseException):
        message = _describe(output)
        log.warning("%s failed for %s: %s", step, image.filename, message)
        output = StepOutput(StepStatus.ERROR, None, None)
    else:
        message = None
    rt.registry.save_step_result(
        image_id=image.image_id,
        job_id=image.job_id,
        step=step.value,
        input_fingerprint=fingerprint,
        status=output.status.value,
        provider=output.provider,
        result=output.result,
        error_message=message,
        duration_ms=int(seconds * 1000),
    )
    if message is not None:
        return ImageOutcome(image.image_id, image.filename, "error", message, seconds)
    outcome = "skipped" if output.status is StepStatus.SKIPPED else "computed"
    return ImageOutcome(image.image_id, image.filename, outcome, None, seconds)
