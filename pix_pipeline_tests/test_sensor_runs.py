"""How the sensor turns registered changes into runs: one in flight per job, retries, give-up."""

import dagster as dg
import pytest

from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled

JOB = "RUNS1"


def deliver(h: Harness, name: str = "a.jpg", seed: int = 0) -> None:
    write_settled(h.final_input(JOB) / name, jpeg_bytes(photo((320, 240), seed=seed)))


def break_gallery(h: Harness) -> None:
    """A file where gallery/images/ must be a folder: the gallery step fails for real."""
    target = h.job_path(JOB, "gallery/images")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"in the way")


def mend_gallery(h: Harness) -> None:
    h.job_path(JOB, "gallery/images").unlink()


def run_failing(h: Harness, request: dg.RunRequest) -> None:
    result = h.defs.resolve_job_def("process_pix_job").execute_in_process(
        instance=h.instance,
        partition_key=request.partition_key,
        tags=dict(request.tags),
        raise_on_error=False,
    )
    assert not result.success


def test_no_second_run_is_requested_while_the_jobs_run_is_in_flight(harness: Harness):
    deliver(harness)
    first = harness.tick()
    request = first.run_requests[0]
    harness.instance.create_run_for_job(
        job_def=harness.defs.resolve_job_def("process_pix_job"),
        tags={**request.tags, "dagster/partition": JOB},
        status=dg.DagsterRunStatus.STARTED,
    )
    deliver(harness, "b.jpg", seed=1)
    second = harness.tick()
    assert second.run_requests == []
    assert f"waiting for the running run of {JOB}" in second.skip_reason.skip_message
    assert "registered 1 new file(s)" in second.skip_reason.skip_message


def test_a_failed_run_is_retried_under_a_new_run_key(harness: Harness):
    deliver(harness)
    first = harness.tick()
    assert first.run_requests[0].run_key == f"{JOB}:r1:a0"
    break_gallery(harness)
    run_failing(harness, first.run_requests[0])

    mend_gallery(harness)
    retry = harness.tick()
    assert [r.run_key for r in retry.run_requests] == [f"{JOB}:r1:a1"]
    harness.run_requested(retry)
    assert harness.registry.get_job(JOB).gallery_status == "draft_ready"
    assert harness.tick().run_requests == []


def test_the_sensor_gives_up_after_max_attempts_and_says_so(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PIX_MAX_RUN_ATTEMPTS", "2")
    h = Harness(harness.root, harness.instance)
    deliver(h)
    break_gallery(h)
    for attempt in range(2):
        result = h.tick()
        assert [r.run_key for r in result.run_requests] == [f"{JOB}:r1:a{attempt}"]
        run_failing(h, result.run_requests[0])
    final = h.tick()
    assert final.run_requests == []
    assert "gave up after repeated failed runs" in final.skip_reason.skip_message
    # A new delivery is a new revision: the sensor tries again.
    mend_gallery(h)
    deliver(h, "b.jpg", seed=2)
    assert [r.run_key for r in h.tick().run_requests] == [f"{JOB}:r2:a0"]
    h.close()
