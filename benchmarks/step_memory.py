"""Peak resident memory of the process that runs a job's steps, on 24 MP and 12000 x 8000 JPEGs.

Each case runs in a fresh interpreter, as a Dagster run worker does: it registers a job of
photo-like JPEGs of that size and runs `process_pix_job` for it in process, as the job's own
executor does (its steps in this process, PIX_IMAGE_WORKERS photos at once, the default: the
machine's cores). Every step's memory therefore counts: Dagster, the models, the photos in flight on
every worker, the gallery copies. The process reports its peak resident set size (VmHWM,
Linux). The anchor is the size of one photo's full RGB raster: what a step that decoded the
whole photo would hold at least once.

Then several runs side by side, as the run queue starts them: the memory each adds
(docs/production.md, "How many runs at once", sizes max_concurrent_runs with it).

    .venv/bin/python benchmarks/step_memory.py [--side-by-side-only]
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from photo_jobs import write_photos

# (name, size, photos in the job, target MiB). Twelve photos keep every worker busy for several
# photos each, long enough for the allocator's high-water mark to settle.
CASES = (
    ("24 MP (6000 x 4000)", (6000, 4000), 12, 1024),
    ("96 MP (12000 x 8000)", (12000, 8000), 12, 1536),
)

# VmHWM is the peak of this process image; ru_maxrss would also count the parent's memory at
# the fork that started it (Linux keeps it across exec).
CHILD = """
import json, sys
import dagster as dg
from pix_pipeline.definitions import build_definitions
from pix_pipeline.domain.intake import scan_final_input
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
job_id = sys.argv[1]
settings = load_settings()
rt = build_runtime(settings)
registered = scan_final_input(rt).total("registered")
job = build_definitions(settings).resolve_job_def("process_pix_job")
with dg.DagsterInstance.ephemeral() as instance:
    instance.add_dynamic_partitions("pix_jobs", [job_id])
    success = job.execute_in_process(instance=instance, partition_key=job_id).success
processed = sum(row.status == "processed" for row in rt.registry.images_of_job(job_id))
rt.close()
status = open("/proc/self/status").read().split("VmHWM:")[1].split()
print(json.dumps({
    "peak_mib": int(status[0]) / 1024,
    "registered": registered,
    "processed": processed,
    "success": success,
}))
"""


# Runs side by side, as the run queue starts them (max_concurrent_runs): how much memory each
# run adds when several share the machine. Proportional set size (Pss) counts a page shared
# by k processes (the libraries, the model files) 1/k times, so the sum over the processes is
# what they take together. (runs, photos per run, target MiB per run)
SIDE_BY_SIDE = (4, 6, 1024)
SAMPLE_SECONDS = 0.2


def pss_mib(pid: int) -> float:
    """The process's proportional set size; 0 once it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="utf-8")
    except OSError:
        return 0.0
    return int(text.split("Pss:")[1].split()[0]) / 1024


def job_env(tmp: str) -> dict[str, str]:
    return {
        **os.environ,
        "PIX_LOCAL_ROOT": str(Path(tmp) / "storage"),
        "PIX_DATABASE_URL": f"sqlite:///{tmp}/registry.sqlite3",
        "PIX_SETTLE_SECONDS": "0",
    }


def side_by_side(rng: random.Random) -> tuple[float, bool]:
    """Peak of the summed Pss of SIDE_BY_SIDE runs started together, per run."""
    runs, photos, _ = SIDE_BY_SIDE
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for n in range(runs):
            root = Path(tmp) / f"run{n}"
            job_id = f"MEMORY{n}"
            write_photos(
                root / "storage" / "pix-jobs" / job_id / "final_input", (6000, 4000), photos, rng
            )
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", CHILD, job_id],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    env=job_env(str(root)),
                )
            )
        peak = 0.0
        while any(proc.poll() is None for proc in procs):
            peak = max(peak, sum(pss_mib(proc.pid) for proc in procs))
            time.sleep(SAMPLE_SECONDS)
        reports = [json.loads(proc.communicate()[0].strip().splitlines()[-1]) for proc in procs]
    done = all(r["success"] and r["processed"] == photos for r in reports)
    return peak / runs, done


def main() -> int:
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own 96 MP photos
    rng = random.Random(11)
    print(f"{'name':<36}{'ours MiB':>10}{'anchor':>9}{'ratio':>8}{'target':>10}  verdict")
    ok = True
    cases = () if "--side-by-side-only" in sys.argv[1:] else CASES
    for name, size, count, target in cases:
        with tempfile.TemporaryDirectory() as tmp:
            job_id = "MEMORY1"
            write_photos(
                Path(tmp) / "storage" / "pix-jobs" / job_id / "final_input", size, count, rng
            )
            env = job_env(tmp)
            done = subprocess.run(
                [sys.executable, "-c", CHILD, job_id],
                capture_output=True,
                text=True,
                check=False,
                env=env,
            )
            if done.returncode != 0:
                raise SystemExit(f"{name}: the run failed:\n{done.stderr[-3000:]}")
            report = json.loads(done.stdout.strip().splitlines()[-1])
            if not report["success"] or report["processed"] != count:
                raise SystemExit(f"{name}: not every photo was processed: {report}")
            peak = float(report["peak_mib"])
            raster = size[0] * size[1] * 3 / 2**20
            passed = peak <= target
            ok &= passed
            print(
                f"{f'{name}, {count} photos, peak':<36}{peak:>10.0f}{raster:>9.0f}"
                f"{peak / raster:>8.2f}{'<= ' + str(target):>10}  {'PASS' if passed else 'FAIL'}"
            )
    runs, photos, target = SIDE_BY_SIDE
    per_run, done = side_by_side(rng)
    if not done:
        raise SystemExit(f"{runs} runs side by side: not every photo was processed")
    passed = per_run <= target
    ok &= passed
    name = f"{runs} runs x {photos} photos, Pss per run"
    verdict = "PASS" if passed else "FAIL"
    print(f"{name:<36}{per_run:>10.0f}{'':>9}{'':>8}{'<= ' + str(target):>10}  {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
