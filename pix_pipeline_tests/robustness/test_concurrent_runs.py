"""Runs that overlap, for the same job, with each other and with sensor ticks, end consistent."""

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pix_pipeline.domain.intake import scan_final_input
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.robustness.snapshots import (
    JOB,
    PROJECT,
    assert_same,
    deliver,
    environment,
    run_in_process,
    snapshot,
)


def start_run(env: dict[str, str]) -> subprocess.Popen[str]:
    """A whole process_pix_job run for JOB in its own process (the kill switch never fires)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pix_pipeline_tests.robustness.crash_child",
            JOB,
            "-",
            "-",
            "-",
            "0",
        ],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> None:
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]


def test_two_runs_of_the_same_job_at_once_end_like_one(
    pix_root: Path, database_url: str, reference: dict[str, Any]
):
    env = environment(pix_root, database_url)
    deliver(pix_root, env)
    runs = [start_run(env), start_run(env)]
    for run in runs:
        finish(run)
    assert_same(snapshot(pix_root, env), reference)


def test_sensor_ticks_during_a_run_lose_nothing(pix_root: Path, database_url: str):
    env = environment(pix_root, database_url)
    deliver(pix_root, env)
    run = start_run(env)
    late = pix_root / "pix-jobs" / JOB / "final_input" / "IMG_late.jpg"
    rt = build_runtime(load_settings(env))
    try:
        ticks = 0
        while run.poll() is None or ticks < 2:
            if ticks == 1:
                write_settled(late, jpeg_bytes(photo((480, 320), seed=9)))
            scan_final_input(rt)
            ticks += 1
            time.sleep(0.2)
        finish(run)
        run_in_process(env)  # the run the sensor asks for after the late file
        rows = rt.registry.images_of_job(JOB)
    finally:
        rt.close()
    names = [r.filename for r in rows]
    assert sorted(names) == sorted(set(names))  # one row per file
    statuses = {r.filename: r.status for r in rows}
    assert statuses == {
        "IMG_0.jpg": "processed",
        "IMG_1.jpg": "processed",
        "IMG_2.jpg": "processed",
        "IMG_3.jpg": "processed",
        "IMG_late.jpg": "processed",
        "broken.jpg": "error",
    }
    gallery = {p.name for p in (pix_root / "pix-jobs" / JOB / "gallery" / "images").iterdir()}
    assert gallery == {"IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg", "IMG_3.jpg", "IMG_late.jpg"}
