"""A sensor tick skips the listing of a quiet job whose final_input/ folder is unchanged.

Runs the watcher pass itself on the real filesystem and registry (SQLite and PostgreSQL),
with PIX_HOT_JOB_MINUTES=0 so that no job counts as hot, and folders aged past the racy
window so their stamps can be trusted.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pix_pipeline.domain.intake import IntakeReport, scan_final_input
from pix_pipeline.domain.models import ImageStatus
from pix_pipeline.runtime import Runtime, build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.images import age, jpeg_bytes, photo, write_settled

JOBS = ("QUIET_A", "QUIET_B", "QUIET_C")


def runtime(**variables: str) -> Runtime:
    return build_runtime(load_settings({**os.environ, "PIX_HOT_JOB_MINUTES": "0", **variables}))


@pytest.fixture
def quiet_jobs(pix_root: Path) -> Iterator[Path]:
    """Three registered jobs of two photos each, their folders last changed 2 minutes ago."""
    for job_id in JOBS:
        folder = pix_root / "pix-jobs" / job_id / "final_input"
        for i in range(2):
            write_settled(folder / f"IMG_{i}.jpg", jpeg_bytes(photo((64, 48), seed=i)))
        age(folder)
    first = tick(PIX_VERIFY_SECONDS="0")
    assert first.jobs_scanned == 3 and first.total("registered") == 6
    yield pix_root


def tick(**variables: str) -> IntakeReport:
    rt = runtime(**variables)
    try:
        return scan_final_input(rt)
    finally:
        rt.close()


def final_input(root: Path, job_id: str) -> Path:
    return root / "pix-jobs" / job_id / "final_input"


def rewrite_in_place(path: Path) -> None:
    """Overwrite a file's bytes without touching its folder, as `cp new.jpg old.jpg` does."""
    folder_times = os.stat(path.parent)
    with path.open("r+b") as handle:
        handle.truncate(0)
        handle.write(jpeg_bytes(photo((80, 60), seed=99)))
    age(path)
    os.utime(path.parent, ns=(folder_times.st_atime_ns, folder_times.st_mtime_ns))


def test_a_tick_skips_the_listing_of_unchanged_quiet_folders(quiet_jobs: Path):
    report = tick(PIX_VERIFY_SECONDS="0")
    assert (report.jobs_scanned, report.jobs_unchanged, report.jobs_verified) == (0, 3, 0)
    assert report.jobs == []


def test_a_new_file_changes_the_folder_stamp_and_is_registered(quiet_jobs: Path):
    folder = final_input(quiet_jobs, "QUIET_B")
    write_settled(folder / "late.jpg", jpeg_bytes(photo((64, 48), seed=5)))
    age(folder, 60)  # past the racy window, yet not the stamped mtime
    report = tick(PIX_VERIFY_SECONDS="0")
    assert report.job_ids == ["QUIET_B"]
    assert report.total("registered") == 1 and report.jobs_unchanged == 2


def test_a_removed_file_changes_the_folder_stamp_and_is_marked_removed(quiet_jobs: Path):
    folder = final_input(quiet_jobs, "QUIET_C")
    (folder / "IMG_1.jpg").unlink()
    age(folder, 60)
    report = tick(PIX_VERIFY_SECONDS="0")
    assert report.job_ids == ["QUIET_C"] and report.jobs[0].removed == ["IMG_1.jpg"]


def test_a_folder_changed_moments_ago_is_listed_whatever_its_stamp(quiet_jobs: Path):
    folder = final_input(quiet_jobs, "QUIET_A")
    write_settled(folder / "fresh.jpg", jpeg_bytes(photo((64, 48), seed=6)))  # folder mtime: now
    report = tick(PIX_VERIFY_SECONDS="0")
    assert report.job_ids == ["QUIET_A"] and report.jobs[0].registered == ["fresh.jpg"]
    # A racy stamp is not stored, so the next tick lists the folder again.
    again = tick(PIX_VERIFY_SECONDS="0")
    assert again.job_ids == ["QUIET_A"] and again.total("registered") == 0


def test_a_file_rewritten_in_place_is_found_by_the_verification(quiet_jobs: Path):
    target = final_input(quiet_jobs, "QUIET_B") / "IMG_0.jpg"
    rewrite_in_place(target)
    blind = tick(PIX_VERIFY_SECONDS="0")
    assert blind.total("changed") == 0 and blind.jobs_unchanged == 3
    report = tick(PIX_VERIFY_SECONDS="30")
    assert report.jobs_verified == 3 and report.jobs_unchanged == 0
    changed = {j.job_id: j.changed for j in report.jobs if j.changed}
    assert changed == {"QUIET_B": ["IMG_0.jpg"]}
    rt = runtime()
    try:
        row = next(r for r in rt.registry.images_of_job("QUIET_B") if r.filename == "IMG_0.jpg")
    finally:
        rt.close()
    assert row.status == ImageStatus.PENDING_PROCESSING
    assert row.size_bytes == target.stat().st_size


def test_the_verification_rotates_through_the_longest_unlisted_jobs_first(quiet_jobs: Path):
    # A budget this small lists one job per tick.
    verified = [tick(PIX_VERIFY_SECONDS="0.000001").job_ids for _ in range(4)]
    assert verified == [["QUIET_A"], ["QUIET_B"], ["QUIET_C"], ["QUIET_A"]]


def test_a_hot_job_is_listed_on_every_tick(quiet_jobs: Path):
    rt = build_runtime(load_settings({**os.environ, "PIX_VERIFY_SECONDS": "0"}))
    try:
        # Registered a moment ago, so all three are within the default 60 hot minutes.
        report = scan_final_input(rt)
    finally:
        rt.close()
    assert report.jobs_scanned == 3 and report.jobs_unchanged == 0
