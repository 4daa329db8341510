"""The brief end to end on S3 (moto's server over HTTP), on SQLite and on PostgreSQL: the same
sensor, runs and release as on the local folder, with provenance from object metadata and
listings that stay proportional to the active jobs."""

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest
from sqlalchemy import update

from pix_pipeline.domain.intake import scan_final_input
from pix_pipeline.registry.repository import Registry
from pix_pipeline.registry.schema import JobRow, utcnow
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import VARIABLES, load_settings
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, png_bytes, same_pixels

JOB = "R2JOB1"
PREFIX = "prod"


class S3Drop:
    """What the editor's upload tool does: PUT objects, with `source` as user metadata."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.bucket = bucket

    def key(self, job_id: str, relative: str) -> str:
        return f"{PREFIX}/pix-jobs/{job_id}/{relative}"

    def put(self, job_id: str, name: str, data: bytes, source: str | None = None) -> None:
        extra = {"Metadata": {"source": source}} if source else {}
        key = self.key(job_id, f"final_input/{name}")
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def delete(self, job_id: str, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(job_id, f"final_input/{name}"))

    def names(self, job_id: str, folder: str) -> list[str]:
        prefix = self.key(job_id, folder) + "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        return sorted(o["Key"][len(prefix) :] for p in pages for o in p.get("Contents", []))

    def read(self, job_id: str, relative: str) -> bytes:
        body = self.client.get_object(Bucket=self.bucket, Key=self.key(job_id, relative))["Body"]
        return bytes(body.read())

    def json(self, job_id: str, relative: str) -> Any:
        return json.loads(self.read(job_id, relative))


@pytest.fixture
def s3_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    s3_endpoint: str,
    s3_bucket: str,
) -> S3Drop:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIX_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("PIX_S3_BUCKET", s3_bucket)
    monkeypatch.setenv("PIX_S3_PREFIX", PREFIX)
    monkeypatch.setenv("PIX_S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("PIX_S3_REGION", "us-east-1")
    monkeypatch.setenv("PIX_LOCAL_ROOT", str(tmp_path / "unused"))
    monkeypatch.setenv("PIX_DATABASE_URL", database_url)
    monkeypatch.setenv("PIX_IMAGE_WORKERS", "2")
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "none")
    return S3Drop(s3_endpoint, s3_bucket)


@pytest.fixture
def s3_harness(s3_env: S3Drop, tmp_path: Path) -> Iterator[Harness]:
    with dg.instance_for_test() as instance:
        h = Harness(tmp_path / "unused", instance)
        yield h
        h.close()


def statuses(h: Harness, job_id: str = JOB) -> dict[str, tuple[str, str]]:
    return {r.filename: (r.status, r.source) for r in h.registry.images_of_job(job_id)}


def set_jobs(registry: Registry, job_ids: list[str], **values: object) -> None:
    """Age job rows directly, as weeks of quiet would (test setup, not a pipeline path)."""
    with registry.session() as s:
        s.execute(update(JobRow).where(JobRow.job_id.in_(job_ids)).values(**values))


def test_photos_on_s3_become_a_draft_gallery_and_a_release(s3_env: S3Drop, s3_harness: Harness):
    drop, h = s3_env, s3_harness
    drop.put(JOB, "IMG_0001.jpg", jpeg_bytes(photo((1200, 800), seed=1)))
    drop.put(JOB, "by_daniel.jpg", jpeg_bytes(photo((900, 600), seed=2)), source="manual")
    drop.put(JOB, "odd_source.jpg", jpeg_bytes(photo((300, 200), seed=3)), source="intern")
    drop.put(JOB, "screenshot.jpg", png_bytes())
    drop.put(JOB, "notes.txt", b"shot list")

    # S3 objects are complete once visible: no settle time, registered on the first tick.
    result = h.tick()
    assert [r.partition_key for r in result.run_requests] == [JOB]
    rows = statuses(h)
    assert rows["IMG_0001.jpg"] == ("pending_processing", "editor")
    assert rows["by_daniel.jpg"] == ("pending_processing", "manual")
    assert rows["odd_source.jpg"][0] == "error" and rows["screenshot.jpg"][0] == "error"
    errors = {r.filename: r.error_message for r in h.registry.images_of_job(JOB)}
    assert "unknown source 'intern'" in errors["odd_source.jpg"]
    assert "notes.txt" not in rows

    for outcome in h.run_requested(result):
        assert outcome.success
    assert statuses(h)["IMG_0001.jpg"][0] == "processed"
    assert drop.names(JOB, "gallery/images") == ["IMG_0001.jpg", "by_daniel.jpg"]
    thumbs = drop.names(JOB, "pipeline/thumbs")
    assert len(thumbs) == 4 and all(t.endswith((".jpg", ".webp")) for t in thumbs)
    expose = drop.json(JOB, "pipeline/meta/job_expose.json")
    assert sorted(i["filename"] for i in expose["images"]) == ["IMG_0001.jpg", "by_daniel.jpg"]
    customer = drop.json(JOB, "gallery/expose.json")
    assert [i["filename"] for i in customer["images"]] == ["IMG_0001.jpg", "by_daniel.jpg"]
    assert "errors" not in customer and "odd_source.jpg" not in json.dumps(customer)
    for size in ("400", "1600"):
        assert drop.names(JOB, f"gallery/previews/{size}") == ["IMG_0001.jpg", "by_daniel.jpg"]
    job = h.registry.get_job(JOB)
    assert (job.gallery_status, job.gallery_visibility) == ("draft_ready", "internal")

    assert h.release(JOB, approved_by="Daniel").success
    assert h.registry.get_job(JOB).gallery_visibility == "customer"

    # A replaced photo and a deleted one after the release: processed, held for the next one.
    drop.put(JOB, "IMG_0001.jpg", jpeg_bytes(photo((1000, 1000), seed=9)))
    drop.delete(JOB, "by_daniel.jpg")
    h.tick_and_run()
    rows = statuses(h)
    assert rows["IMG_0001.jpg"][0] == "processed" and rows["by_daniel.jpg"][0] == "removed"
    assert h.registry.get_job(JOB).gallery_status == "update_pending"
    assert drop.names(JOB, "gallery/images") == ["IMG_0001.jpg", "by_daniel.jpg"]
    assert h.release(JOB, approved_by="Daniel").success
    assert drop.names(JOB, "gallery/images") == ["IMG_0001.jpg"]
    assert drop.names(JOB, "gallery/previews/1600") == ["IMG_0001.jpg"]
    assert same_pixels(
        drop.read(JOB, "gallery/images/IMG_0001.jpg"), drop.read(JOB, "final_input/IMG_0001.jpg")
    )


class ListCalls(logging.Handler):
    """Counts the ListObjectsV2 requests the S3 server received (its access log)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "list-type=2" in record.getMessage():
            self.count += 1


@pytest.fixture
def list_calls() -> Iterator[ListCalls]:
    server_log = logging.getLogger("werkzeug")
    handler, level = ListCalls(), server_log.level
    server_log.addHandler(handler)
    server_log.setLevel(logging.INFO)
    yield handler
    server_log.removeHandler(handler)
    server_log.setLevel(level)


def test_a_sensor_tick_lists_active_jobs_not_idle_ones(
    s3_env: S3Drop, s3_harness: Harness, list_calls: ListCalls
):
    """200 jobs, 150 of them idle and recently swept: a no-op tick lists the 50 active ones."""
    h, small = s3_harness, jpeg_bytes(photo((64, 48), seed=1))
    for i in range(200):
        s3_env.put(f"JOB{i:03d}", "a.jpg", small)
    h.tick()
    assert len(h.registry.listing_states()) == 200
    idle = [f"JOB{i:03d}" for i in range(150)]
    set_jobs(h.registry, idle, last_activity_at=utcnow() - timedelta(days=90))

    list_calls.count = 0
    h.tick()
    # One delimiter listing of pix-jobs/ finds new job folders, then one per active job.
    assert list_calls.count == 1 + 50

    # A late delivery into an idle job waits for that job's sweep ...
    s3_env.put("JOB007", "late.jpg", small)
    h.tick()
    assert "late.jpg" not in {r.filename for r in h.registry.images_of_job("JOB007")}
    # ... which lists every idle job once it is due (PIX_IDLE_SWEEP_HOURS after the last).
    h.registry.mark_swept(idle, utcnow() - timedelta(hours=25))
    list_calls.count = 0
    result = h.tick()
    assert list_calls.count == 1 + 200
    assert "late.jpg" in {r.filename for r in h.registry.images_of_job("JOB007")}
    assert [r.partition_key for r in result.run_requests if r.partition_key == "JOB007"]
    # JOB007 is active again; the other idle jobs were just swept.
    list_calls.count = 0
    h.tick()
    assert list_calls.count == 1 + 51


def test_an_unfinished_scan_continues_from_its_cursor(s3_env: S3Drop):
    small = jpeg_bytes(photo((64, 48), seed=1))
    for i in range(6):
        s3_env.put(f"JOB{i}", "a.jpg", small)
    rt = build_runtime(load_settings())
    try:
        # A budget that runs out after the first job: each tick lists one job and the next
        # tick goes on after it.
        seen: list[str] = []
        cursor = None
        for _ in range(6):
            report = scan_final_input(rt, time_budget_seconds=0.0, resume_after=cursor)
            assert report.jobs_scanned == 1 and report.unfinished
            seen += [j.job_id for j in report.jobs]
            cursor = report.cursor
            assert cursor == seen[-1]
        assert sorted(seen) == [f"JOB{i}" for i in range(6)]
        assert len(set(seen)) == 6
    finally:
        rt.close()
