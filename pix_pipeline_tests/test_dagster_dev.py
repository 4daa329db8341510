"""The README's promise, end to end: `dagster dev` with the sensor on, photos dropped into a
job folder become a draft gallery, and a release launched through the webserver publishes it."""

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.processes import stop_group

PROJECT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")
JOB = "DEMO1"

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate, timeout: float, what: str, log: Path):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; dagster dev said:\n{tail}")


@pytest.fixture
def dagster_dev(tmp_path: Path) -> Iterator[tuple[Path, int, Path]]:
    if not DAGSTER.exists():
        pytest.skip(f"the dagster command is not installed next to {sys.executable}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "scripts" / "dagster.local.yaml", home / "dagster.yaml")
    root = tmp_path / "storage"
    (root / "pix-jobs").mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIX_")}
    env.update(
        DAGSTER_HOME=str(home),
        PIX_LOCAL_ROOT=str(root),
        PIX_SENSOR_INTERVAL_SECONDS="3",
        PIX_SETTLE_SECONDS="1",
    )
    log = tmp_path / "dagster_dev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(DAGSTER), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield root, port, log
    finally:
        stop_group(proc)


def registry_rows(root: Path, sql: str) -> list[tuple[object, ...]]:
    db = root / "pix_registry.sqlite3"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # tables not created yet
        return []


def test_dropped_photos_become_a_released_gallery_through_dagster_dev(dagster_dev):
    from dagster_graphql import DagsterGraphQLClient

    root, port, log = dagster_dev
    folder = root / "pix-jobs" / JOB / "final_input"
    for i in range(5):
        write_settled(folder / f"IMG_{i:04d}.jpg", jpeg_bytes(photo((2400, 1600), seed=i)))

    def processed() -> bool:
        rows = registry_rows(root, "select status from images")
        gallery = root / "pix-jobs" / JOB / "gallery" / "images"
        return (
            len(rows) == 5
            and all(r[0] == "processed" for r in rows)
            and (gallery.is_dir() and len(list(gallery.iterdir())) == 5)
        )

    wait_for(processed, 240, "5 processed photos in the draft gallery", log)
    job = registry_rows(root, "select gallery_status, gallery_visibility from jobs")
    assert job == [("draft_ready", "internal")]
    assert (root / "pix-jobs" / JOB / "gallery" / "expose.json").is_file()
    assert len(list((root / "pix-jobs" / JOB / "pipeline" / "thumbs").iterdir())) == 10

    client = DagsterGraphQLClient("127.0.0.1", port_number=port)
    run_id = client.submit_job_execution(
        "release_gallery",
        run_config={"ops": {"release_job_gallery": {"config": {"approved_by": "Daniel"}}}},
        tags={"dagster/partition": JOB},
    )

    def finished() -> str | None:
        status = client.get_run_status(run_id).value
        return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None

    assert wait_for(finished, 180, "the release run", log) == "SUCCESS"
    assert registry_rows(root, "select gallery_visibility from jobs") == [("customer",)]
    assert registry_rows(root, "select kind, status from notifications") == [
        ("gallery_released", "sent")
    ]
