"""A release from the desk through a real Dagster webserver (`dagster dev`), as Daniel does it:
hide a photo, tick the acknowledgement, "Galerie freigeben", watch the run; then take it back."""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from pix_pipeline.desk.auth import LoginThrottle
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import VARIABLES, load_settings
from pix_pipeline_tests.desk.rig import JOB, csrf, desk_client, desk_settings, write_job
from pix_pipeline_tests.processes import free_port, stop_group

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]
DAGSTER = Path(sys.executable).with_name("dagster")
T = TypeVar("T")


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str, log: Path) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; dagster dev said:\n{tail}")


@pytest.fixture
def dagster_dev(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, int, Path]]:
    if not DAGSTER.exists():
        pytest.skip(f"the dagster command is not installed next to {sys.executable}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "scripts" / "dagster.local.yaml", home / "dagster.yaml")
    root = tmp_path / "storage"
    (root / "pix-jobs").mkdir(parents=True)
    values = {
        "PIX_LOCAL_ROOT": str(root),
        "PIX_SENSOR_INTERVAL_SECONDS": "3",
        "PIX_SETTLE_SECONDS": "1",
        "PIX_PRIVACY_PROVIDER": "pix_pipeline_tests.providers:ColourCodedPrivacy",
    }
    # The desk in this process reads the same settings as Dagster's processes.
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIX_")}
    env.update(DAGSTER_HOME=str(home), **values)
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


def test_a_release_from_the_desk_is_a_dagster_run_and_can_be_taken_back(dagster_dev):
    root, port, log = dagster_dev
    write_job(root / "pix-jobs" / JOB / "final_input")
    runtime = build_runtime(load_settings())
    try:
        registry = runtime.registry

        def processed() -> bool:
            statuses = sorted(r.status for r in registry.images_of_job(JOB))
            return statuses == ["error", "processed", "processed", "processed"]

        wait_for(processed, 240, "the job to be processed", log)
        client = desk_client(desk_settings(f"http://127.0.0.1:{port}"), runtime, LoginThrottle())
        page = client.get("/login")
        client.post(
            "/login",
            data={
                "user": "daniel",
                "password": "correct horse battery",
                "csrftoken": csrf(page.text),
            },
        )
        rows = {r.filename: r for r in registry.images_of_job(JOB)}

        def post(path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
            token = csrf(client.get(f"/jobs/{JOB}").text)
            return client.post(path, data={**data, "csrftoken": token}, follow_redirects=False)

        assert post(f"/jobs/{JOB}/photos/{rows['face.jpg'].image_id}/hidden", {"hidden": "1"})
        refused = post(f"/jobs/{JOB}/release", {"approved_by": "Daniel", "note": "first"})
        assert refused.status_code == 409 and "door.jpg" in refused.text

        launched = post(
            f"/jobs/{JOB}/release",
            {"approved_by": "Daniel", "note": "first", "acknowledge_privacy_findings": "1"},
        )
        assert launched.status_code == 303, launched.text
        run_page = launched.headers["location"]
        assert re.fullmatch(rf"/jobs/{JOB}/runs/[0-9a-f-]{{36}}\?action=release", run_page)

        def finished() -> str | None:
            page = client.get(run_page).text
            status = re.search(r'data-status="([A-Z_]*)"', page)
            assert status, page
            if status.group(1) in ("SUCCESS", "FAILURE", "CANCELED"):
                assert 'http-equiv="refresh"' not in page
                return page
            assert 'http-equiv="refresh"' in page
            return None

        done = wait_for(finished, 180, "the release_gallery run", log)
        assert 'data-status="SUCCESS"' in done
        assert 'data-visibility="customer"' in done
        job = registry.get_job(JOB)
        assert job is not None
        assert (job.gallery_visibility, job.released_by, job.release_note) == (
            "customer",
            "Daniel",
            "first",
        )
        assert [(n.kind, n.status) for n in registry.notifications(JOB)] == [
            ("gallery_released", "sent")
        ]
        gallery = root / "pix-jobs" / JOB / "gallery"
        assert sorted(p.name for p in (gallery / "images").iterdir()) == ["clean.jpg", "door.jpg"]
        expose = json.loads((gallery / "expose.json").read_text(encoding="utf-8"))
        assert sorted(i["filename"] for i in expose["images"]) == ["clean.jpg", "door.jpg"]

        revoked = post(f"/jobs/{JOB}/revoke", {"revoked_by": "Daniel", "note": "typo"})
        assert revoked.status_code == 303, revoked.text
        run_page = revoked.headers["location"]
        assert run_page.endswith("?action=revoke")
        done = wait_for(finished, 180, "the revoke_gallery run", log)
        assert 'data-status="SUCCESS"' in done and 'data-visibility="internal"' in done
        job = registry.get_job(JOB)
        assert job is not None and (job.gallery_visibility, job.revoked_by) == (
            "internal",
            "Daniel",
        )
    finally:
        runtime.close()
