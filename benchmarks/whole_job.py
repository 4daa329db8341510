"""Whole-job overhead: a 50-photo job of 24 MP JPEGs from registration to a draft_ready gallery.

Ours: one sensor pass registers the job, then a real `process_pix_job` run for its partition
goes through Dagster with the job's own executor (its steps in the run's process, privacy,
depth and semantics side by side) and the default PIX_IMAGE_WORKERS (the machine's cores).
The anchor: the same per-image work measured in isolation, in this process, one image at a
time with no Dagster and warm models: validation (read, hash, JPEG check) and each step's own
compute (thumbs, privacy, depth, semantics, cleanup), summed and divided by the cores used.
Orchestration, database and file overhead is what the run takes beyond that.

It also reports the peak resident memory (VmHWM, Linux) of the process that ran the steps.

Each run goes in a fresh interpreter, as a Dagster run worker does. The anchor is measured
before and after the runs; the figure is the median run against the mean of the two anchors.

    .venv/bin/python benchmarks/whole_job.py [--images 50] [--runs 3]
"""

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_jobs import deliver, write_photos

from pix_pipeline.definitions import build_definitions
from pix_pipeline.defs.assets import processing_assets
from pix_pipeline.defs.jobs import PROCESS_JOB_NAME
from pix_pipeline.defs.partitions import PIX_JOBS, RUN_REVISION_TAG
from pix_pipeline.domain.intake import scan_final_input
from pix_pipeline.domain.models import StepName
from pix_pipeline.domain.steps import run_step
from pix_pipeline.imaging.decode import check_jpeg
from pix_pipeline.imaging.thumbnails import make_previews, open_preview
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings

OURS, ISOLATED = "BENCH_RUN", "BENCH_ISO"


def process_job() -> dg.JobDefinition:
    """The run's job as the code location defines it (rebuilt by the run's process)."""
    return build_definitions(load_settings()).resolve_job_def(PROCESS_JOB_NAME)


def peak_rss_kib() -> int:
    """This process's peak resident memory (VmHWM, Linux); unlike ru_maxrss, it does not count
    the parent's memory at the fork that started this process."""
    status = Path("/proc/self/status").read_text(encoding="utf-8")
    return int(status.split("VmHWM:")[1].split()[0])


def cpu_seconds() -> float:
    """CPU time of this process so far, all threads, user and system."""
    times = os.times()
    return times.user + times.system


def step_timeline(
    instance: dg.DagsterInstance, run_id: str, asked: float
) -> list[tuple[str, float, float]]:
    """(step, seconds since the run was asked for or the step before ended, seconds it ran) per
    step, in the order they ran; `asked` is the wall-clock time of the execute_job call."""
    begun: dict[str, float] = {}
    rows = []
    previous_end = asked
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        kind = event.event_type_value
        if kind == "STEP_START":
            begun[event.step_key] = record.timestamp
        elif kind == "STEP_SUCCESS":
            start = begun[event.step_key]
            rows.append((event.step_key, start - previous_end, record.timestamp - start))
            previous_end = record.timestamp
    return rows


def per_image_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    """Per step asset, the seconds its per-image work took inside the run (summed over images,
    as its materialization reports them)."""
    seconds = {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.event_type_value != "ASSET_MATERIALIZATION":
            continue
        materialization = event.step_materialization_data.materialization
        total = materialization.metadata.get("seconds_total")
        if total is not None and isinstance(total.value, int | float):
            seconds[materialization.asset_key.to_user_string()] = float(total.value)
    return seconds


def isolated_work(env: dict[str, str], photos: list[Path], job_id: str) -> dict[str, float]:
    """Seconds of per-image work by part (validation, then each step), one image at a time in
    this process, models warm."""
    paths = deliver(photos, Path(env["PIX_LOCAL_ROOT"]) / "pix-jobs" / job_id / "final_input")
    rt = build_runtime(load_settings({**env, "PIX_IMAGE_WORKERS": "1"}))
    try:
        seconds = {"validation": 0.0}
        for path in paths:
            started = time.perf_counter()
            data = path.read_bytes()
            hashlib.sha256(data).hexdigest()
            check_jpeg(data, rt.settings.max_image_pixels)
            seconds["validation"] += time.perf_counter() - started
        scan_final_input(rt)  # registers the isolated job (not timed)
        rt.providers.privacy.analyze(
            open_preview(make_previews(paths[0].read_bytes(), 10**9).large_jpeg)
        )
        for step in StepName:
            report = run_step(rt, step, job_id)
            assert not report.count("error"), report.outcomes
            seconds[step.value] = sum(o.seconds for o in report.outcomes)
        return seconds
    finally:
        rt.close()


@dataclass
class RunFigures:
    """What one run measured; travels from its process as JSON."""

    ours: float
    registration: float
    timeline: list[tuple[str, float, float]]
    per_image: dict[str, float]
    peak_kib: int
    cpu_seconds: float
    cores: int


def one_run(photos: Path, workdir: Path) -> RunFigures:
    """Registration and a real process_pix_job run of a copy of `photos`, in this process."""
    root = workdir / "storage"
    folder = root / "pix-jobs" / OURS / "final_input"
    deliver(sorted(photos.iterdir()), folder)
    env = {
        "PIX_LOCAL_ROOT": str(root),
        "PIX_DATABASE_URL": f"sqlite:///{workdir}/registry.sqlite3",
        "PIX_SETTLE_SECONDS": "0",
    }
    os.environ.update(env)  # the run's definitions read the same settings
    os.environ["DAGSTER_HOME"] = str(workdir / "dagster_home")
    Path(os.environ["DAGSTER_HOME"]).mkdir()
    Path(os.environ["DAGSTER_HOME"], "dagster.yaml").write_text(
        "telemetry:\n  enabled: false\n", encoding="utf-8"
    )
    settings = load_settings(env)
    images = len(list(folder.iterdir()))
    with dg.DagsterInstance.get() as instance:
        rt = build_runtime(settings)
        started = time.perf_counter()
        report = scan_final_input(rt)
        registration = time.perf_counter() - started
        assert report.total("registered") == images, report.summary()
        instance.add_dynamic_partitions(PIX_JOBS, [OURS])
        revision = report.jobs[0].revision
        cpu_before, asked = cpu_seconds(), time.time()
        result = dg.execute_job(
            dg.reconstructable(process_job),
            instance=instance,
            tags={"dagster/partition": OURS, RUN_REVISION_TAG: str(revision)},
        )
        ours = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        assert result.success, "the run failed"
        timeline = step_timeline(instance, result.run_id, asked)
        per_image = per_image_seconds(instance, result.run_id)
        job = rt.registry.get_job(OURS)
        assert job is not None and job.gallery_status == "draft_ready", job
        gallery = list((root / "pix-jobs" / OURS / "gallery" / "images").iterdir())
        assert len(gallery) == images, len(gallery)
        rt.close()
    return RunFigures(
        ours=ours,
        registration=registration,
        timeline=timeline,
        per_image=per_image,
        peak_kib=peak_rss_kib(),
        cpu_seconds=cpu,
        cores=min(settings.image_workers, os.cpu_count() or 1),
    )


def assets_of_step(step: str) -> set[str]:
    """The assets a Dagster step materializes (the finishing step computes cleanup too)."""
    for asset in processing_assets:
        if asset.op.name == step:
            return {key.to_user_string() for key in asset.keys}
    return set()


def run_in_fresh_process(photos: Path, workdir: Path) -> RunFigures:
    proc = subprocess.run(
        [sys.executable, __file__, "--one-run", str(photos), str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"a run failed:\n{proc.stderr[-3000:]}")
    return RunFigures(**json.loads(proc.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one-run", nargs=2, metavar=("PHOTOS", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_run:
        print(json.dumps(asdict(one_run(Path(args.one_run[0]), Path(args.one_run[1])))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        photos = write_photos(
            Path(tmp) / "photos", (6000, 4000), args.images, random.Random(5), backgrounds=10
        )
        print(f"made {len(photos)} photos in {time.perf_counter() - started:.0f} s", flush=True)
        env = {
            **os.environ,
            "PIX_LOCAL_ROOT": str(Path(tmp) / "isolated"),
            "PIX_DATABASE_URL": f"sqlite:///{tmp}/isolated.sqlite3",
            "PIX_SETTLE_SECONDS": "0",
        }
        anchors = [isolated_work(env, photos, f"{ISOLATED}0")]
        runs = []
        for number in range(args.runs):
            runs.append(run_in_fresh_process(Path(tmp) / "photos", Path(tmp) / f"run{number}"))
            print(f"run {number + 1}: {runs[-1].ours:.1f} s", flush=True)
        anchors.append(isolated_work(env, photos, f"{ISOLATED}1"))

    cores = runs[0].cores
    parts = {k: statistics.mean(a[k] for a in anchors) for k in anchors[0]}
    work = sum(parts.values())
    anchor = work / cores
    print(
        f"per-image work in isolation: {work:.1f} s over {args.images} images"
        f" ({work / args.images:.2f} s each; the two measurements"
        f" {sum(anchors[0].values()):.1f} and {sum(anchors[1].values()):.1f} s);"
        f" {cores} core(s) used"
    )
    median = sorted(runs, key=lambda r: r.ours)[len(runs) // 2]
    run_wall = median.ours - median.registration
    print(
        f"median run: registration (sensor pass) {median.registration:.1f} s; the run"
        f" {run_wall:.1f} s, {median.cpu_seconds:.1f} s CPU: {median.cpu_seconds / run_wall:.2f}"
        " cores busy"
    )
    print(
        f"  {'':<16}{'gap before':>11}{'ran':>8}{'isolated / cores':>18}{'in the run / cores':>20}"
    )
    for step, gap, ran in median.timeline:
        alone = sum(v for k, v in parts.items() if k in assets_of_step(step)) / cores
        inside = sum(v for k, v in median.per_image.items() if k in assets_of_step(step)) / cores
        print(f"  {step:<16}{gap:>11.2f}{ran:>8.2f}{alone:>18.2f}{inside:>20.2f}")
    print(f"  {'validation':<16}{'':>11}{'':>8}{parts['validation'] / cores:>18.2f}")
    walls = [r.ours for r in runs]
    ratio = median.ours / anchor
    peak = max(r.peak_kib for r in runs) / 1024
    print(f"every run, s: {', '.join(f'{w:.1f}' for w in walls)}")
    # The same run against its per-image work as it ran (both cores busy, so each photo took
    # longer than alone): what remains is orchestration, database and file overhead.
    in_run = (parts["validation"] + sum(median.per_image.values())) / cores
    print(
        f"the median run against its own per-image work in the run / cores ({in_run:.1f} s):"
        f" {median.ours / in_run:.2f}"
    )
    print(f"{'name':<34}{'ours':>8}{'anchor':>9}{'ratio':>8}{'target':>10}  verdict")
    print(
        f"{'whole job, median of ' + str(len(runs)) + ' runs, s':<34}"
        f"{median.ours:>8.1f}{anchor:>9.1f}{ratio:>8.2f}{'<= 1.3x':>10}"
        f"  {'PASS' if ratio <= 1.3 else 'FAIL'}"
    )
    print(
        f"{'peak RSS of the run process, MiB':<34}{peak:>8.1f}{'':>9}{'':>8}{'<= 1024':>10}"
        f"  {'PASS' if peak <= 1024 else 'FAIL'}"
    )
    return 0 if ratio <= 1.3 and peak <= 1024 else 1


if __name__ == "__main__":
    raise SystemExit(main())
