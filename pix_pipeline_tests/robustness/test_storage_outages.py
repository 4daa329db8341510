"""A storage that is gone, failing or hanging never turns into "every photo was removed"."""

import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pix_pipeline.domain.intake import IntakeReport, scan_final_input
from pix_pipeline.domain.models import ImageStatus
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline.storage.base import StorageError
from pix_pipeline.storage.s3 import S3Storage, make_s3_client
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.processes import free_port

JOB = "OUTAGE1"
MINUTE_NS = 60 * 10**9


def tick(now_ns: int | None = None, **variables: str) -> IntakeReport:
    rt = build_runtime(load_settings({**os.environ, **variables}))
    try:
        return scan_final_input(rt, now_ns=now_ns)
    finally:
        rt.close()


def statuses(job_id: str = JOB) -> dict[str, str]:
    rt = build_runtime(load_settings())
    try:
        return {r.filename: r.status for r in rt.registry.images_of_job(job_id)}
    finally:
        rt.close()


@pytest.fixture
def four_photos(pix_root: Path) -> Iterator[Path]:
    folder = pix_root / "pix-jobs" / JOB / "final_input"
    for i in range(4):
        write_settled(folder / f"IMG_{i}.jpg", jpeg_bytes(photo((96, 64), seed=i)))
    assert tick().total("registered") == 4
    yield folder


def test_a_missing_storage_root_fails_the_tick_and_removes_nothing(four_photos: Path):
    jobs_root = four_photos.parent.parent
    shutil.rmtree(jobs_root)  # an unmounted disk looks exactly like this
    with pytest.raises(StorageError, match="nothing was marked removed"):
        tick()
    assert set(statuses().values()) == {ImageStatus.PENDING_PROCESSING}


def test_a_vanished_final_input_is_held_for_the_hold_time_then_removed(four_photos: Path):
    hidden = four_photos.with_name("final_input.away")
    four_photos.rename(hidden)
    now = time.time_ns()
    first = tick(now)
    assert first.jobs[0].held == [f"IMG_{i}.jpg" for i in range(4)]
    assert first.jobs[0].removed == []
    assert "held back removal of 4 file(s) of OUTAGE1" in first.summary()
    assert set(statuses().values()) == {ImageStatus.PENDING_PROCESSING}
    # Still missing 59 minutes later: still held.
    assert tick(now + 59 * MINUTE_NS).jobs[0].held
    assert set(statuses().values()) == {ImageStatus.PENDING_PROCESSING}
    # After the hour (PIX_REMOVAL_HOLD_MINUTES=60): removed.
    late = tick(now + 61 * MINUTE_NS)
    assert sorted(late.jobs[0].removed) == [f"IMG_{i}.jpg" for i in range(4)]
    assert set(statuses().values()) == {ImageStatus.REMOVED}


def test_files_that_come_back_during_the_hold_are_never_removed(four_photos: Path):
    hidden = four_photos.with_name("final_input.away")
    four_photos.rename(hidden)
    now = time.time_ns()
    assert tick(now).jobs[0].held
    hidden.rename(four_photos)  # the mount is back
    back = tick(now + 30 * MINUTE_NS)
    assert back.jobs[0].held == [] and back.jobs[0].removed == []
    # The hold is over: a later mass removal starts a fresh hour.
    four_photos.rename(hidden)
    again = tick(now + 200 * MINUTE_NS)
    assert again.jobs[0].held and set(statuses().values()) == {ImageStatus.PENDING_PROCESSING}


def test_removing_half_of_a_job_or_less_takes_effect_at_once(four_photos: Path):
    (four_photos / "IMG_0.jpg").unlink()
    (four_photos / "IMG_1.jpg").unlink()
    report = tick()
    assert sorted(report.jobs[0].removed) == ["IMG_0.jpg", "IMG_1.jpg"]
    assert report.jobs[0].held == []


def test_a_hold_time_of_zero_removes_at_once(four_photos: Path):
    shutil.rmtree(four_photos)
    report = tick(PIX_REMOVAL_HOLD_MINUTES="0")
    assert len(report.jobs[0].removed) == 4


def s3_runtime_variables(endpoint: str, bucket: str) -> dict[str, str]:
    return {
        "PIX_STORAGE_BACKEND": "s3",
        "PIX_S3_BUCKET": bucket,
        "PIX_S3_ENDPOINT_URL": endpoint,
        "PIX_S3_REGION": "us-east-1",
    }


def test_s3_errors_fail_the_tick_and_remove_nothing(
    pix_root: Path, s3_endpoint: str, s3_bucket: str
):
    good = s3_runtime_variables(s3_endpoint, s3_bucket)
    rt = build_runtime(load_settings({**os.environ, **good}))
    try:
        for i in range(3):
            rt.storage.write_bytes(
                f"pix-jobs/{JOB}/final_input/IMG_{i}.jpg", jpeg_bytes(photo((64, 48), seed=i))
            )
        assert scan_final_input(rt).total("registered") == 3
    finally:
        rt.close()
    # The same registry, but the bucket is gone (wrong credentials or name look the same).
    with pytest.raises(StorageError, match="S3 list_objects_v2"):
        tick(**{**good, "PIX_S3_BUCKET": "no-such-bucket"})
    # Nothing listens on the endpoint any more.
    dead = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StorageError):
        tick(**{**good, "PIX_S3_ENDPOINT_URL": dead})
    assert set(statuses().values()) == {ImageStatus.PENDING_PROCESSING}


def test_a_hanging_s3_endpoint_times_out_with_a_storage_error():
    with socket.socket() as silent:
        # Accepts connections (the kernel's backlog) but never answers a request.
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        client = make_s3_client(
            endpoint_url=endpoint,
            region_name="us-east-1",
            max_attempts=1,
            read_timeout=1.0,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        storage = S3Storage(client, "bucket", "", endpoint)
        started = time.monotonic()
        with pytest.raises(StorageError, match=r"timeout|timed out"):
            storage.list_folders("pix-jobs")
        assert time.monotonic() - started < 10
