"""A run killed with SIGKILL in the middle of any step, then run again, ends exactly like an
uninterrupted run: the same files, JSON and database rows, no duplicates, nothing half-written.

The run goes in a child process (`crash_child`) that kills itself at a chosen call inside the
step; the comparison run uses its own storage root and SQLite registry.
"""

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pix_pipeline_tests.images import age
from pix_pipeline_tests.robustness.snapshots import (
    JOB,
    PROJECT,
    assert_same,
    deliver,
    environment,
    run_in_process,
    snapshot,
    temp_files,
)

# step -> (function, its argument, text in that argument, which matching call kills)
KILL_POINTS: dict[str, tuple[str, str, str, int]] = {
    "thumbs": ("LocalStorage.write_bytes", "key", "/pipeline/thumbs/", 3),
    "privacy": ("Registry.save_step_result", "step", "privacy", 2),
    "semantics": ("Registry.save_step_result", "step", "semantics", 2),
    "cleanup": ("Registry.save_step_result", "step", "cleanup", 2),
    "image_meta": ("LocalStorage.write_bytes", "key", "/pipeline/meta/images/", 2),
    "job_expose": ("LocalStorage.write_bytes", "key", "job_expose.json", 1),
    "gallery": ("LocalStorage.write_bytes", "key", "/gallery/images/", 2),
    "gallery_between_temp_and_rename": ("os.replace", "target", "/gallery/images/", 2),
}


@pytest.mark.parametrize("step", list(KILL_POINTS))
def test_a_run_killed_inside_a_step_and_run_again_ends_like_an_uninterrupted_one(
    pix_root: Path, database_url: str, reference: dict[str, Any], step: str
):
    env = environment(pix_root, database_url)
    deliver(pix_root, env)
    qualname, argument, text, count = KILL_POINTS[step]
    killed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pix_pipeline_tests.robustness.crash_child",
            JOB,
            qualname,
            argument,
            text,
            str(count),
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert snapshot(pix_root, env) != reference  # it really stopped short

    run_in_process(env)
    after = snapshot(pix_root, env)
    orphans = temp_files(pix_root)
    # Killed between temp file and rename: the orphan is a hidden temp name, never a partial
    # file under a real name; everything else is exactly the uninterrupted result.
    visible = {k: v for k, v in after["files"].items() if not k.rsplit("/", 1)[-1].startswith(".")}
    assert_same({**after, "files": visible}, reference)
    if step == "gallery_between_temp_and_rename":
        assert len(orphans) == 1
    else:
        assert orphans == []

    # The next run after the stale-temp limit (1 hour) clears what a killed writer left.
    for orphan in orphans:
        age(orphan, 2 * 3600)
    run_in_process(env)
    assert temp_files(pix_root) == []
    assert_same(snapshot(pix_root, env), reference)
