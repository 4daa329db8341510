"""A release from the desk through a real Dagster webserver (`dagster dev`), as Daniel does it:
hide a photo, tick the acknowledgement, "Galerie freigeben", watch the run; then take it back."""

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pix_pipeline.desk.auth import LoginThrottle
from pix_pipeline.desk.runs import REVOKE_JOB, REVOKE_OP, Launcher, LaunchFailed
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import VARIABLES, load_settings
from pix_pipeline_tests.desk.rig import JOB, csrf, desk_client, desk_settings, write_job
from pix_pipeline_tests.processes import dagster_dev as run_dagster_dev
from pix_pipeline_tests.processes import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture
def dagster_dev(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, int, Path]]:
    values = {
        "PIX_SENSOR_INTERVAL_SECONDS": "3",
        "PIX_SETTLE_SECONDS": "1",
        "PIX_PRIVACY_PROVIDER": "pix_pipeline_tests.providers:ColourCodedPrivacy",
    }
    with run_dagster_dev(tmp_path, values) as (root, port, log):
        # The desk in this process reads the same settings as Dagster's processes.
        for name in VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in {**values, "PIX_LOCAL_ROOT": str(root)}.items():
            monkeypatch.setenv(name, value)
        yield root, port, log


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
        # The release queued exactly one customer notification (the outbox sensor sends it).
        released = [n for n in registry.notifications(JOB) if n.kind == "gallery.released"]
        assert [(n.release_number, n.payload["approved_by"]) for n in released] == [(1, "Daniel")]
        gallery = root / "pix-jobs" / JOB / "gallery"
        assert sorted(p.name for p in (gallery / "images").iterdir()) == ["clean.jpg", "door.jpg"]
        expose = json.loads((gallery / "expose.json").read_text(encoding="utf-8"))
        assert sorted(i["filename"] for i in expose["images"]) == ["clean.jpg", "door.jpg"]

        revoked = post(
            f"/jobs/{JOB}/revoke", {"revoked_by": "Daniel", "note": "typo", "confirm": "1"}
        )
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

        # What Dagster refuses comes back as LaunchFailed, saying what it refused.
        launcher = Launcher(f"http://127.0.0.1:{port}", timeout=10)
        with pytest.raises(LaunchFailed, match="RunNotFoundError"):
            launcher.status("00000000-0000-0000-0000-000000000000")
        with pytest.raises(LaunchFailed, match="RunConfigValidationInvalid"):
            launcher._submit(REVOKE_JOB, REVOKE_OP, JOB, {"revoked_by": 7})
        with pytest.raises(LaunchFailed, match="exactly one"):
            launcher._submit("no_such_job", REVOKE_OP, JOB, {})
    finally:
        runtime.close()
