"""Review state in the registry on SQLite and PostgreSQL: the desk's paged jobs query, hiding
and checking, and the Dagster side (gate and privacy check) respecting them."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import update

from pix_pipeline.domain.photos import findings_checked
from pix_pipeline.domain.release import privacy_findings
from pix_pipeline.registry.repository import JobChanges, NewImage, Registry
from pix_pipeline.registry.schema import ImageRow, JobRow
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.desk.rig import JOB, write_job


def new(filename: str, status: str) -> NewImage:
    return NewImage(
        filename=filename,
        storage_path=f"pix-jobs/J/final_input/{filename}",
        source="editor",
        status=status,
        size_bytes=1,
        mtime_ns=1,
        content_hash="a" * 64,
        error_message=None,
        error_stage=None,
    )


def seed(registry: Registry, jobs: int) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(jobs):
        job_id = f"J{n:03d}"
        registry.apply_changes(
            JobChanges(job_id, new=[new("a.jpg", "processed"), new("b.jpg", "processed")])
        )
        registry.update_job(job_id, last_activity_at=start + timedelta(hours=n))
    with registry.session() as s:
        # J000: a shown photo with an unchecked finding; J001: the same, but checked;
        # J002: the same, but hidden; J003: a failed photo; J004: changes wait for a release.
        s.execute(
            update(ImageRow)
            .where(ImageRow.job_id.in_(["J000", "J001", "J002"]), ImageRow.filename == "a.jpg")
            .values(finding_count=1)
        )
        s.execute(update(ImageRow).where(ImageRow.job_id == "J001").values(checked_hash="a" * 64))
        s.execute(
            update(ImageRow)
            .where(ImageRow.job_id == "J002", ImageRow.filename == "a.jpg")
            .values(hidden_at=start, hidden_by="d")
        )
        s.execute(
            update(ImageRow)
            .where(ImageRow.job_id == "J003", ImageRow.filename == "b.jpg")
            .values(status="error")
        )
        s.execute(
            update(JobRow).where(JobRow.job_id == "J004").values(gallery_status="update_pending")
        )


def test_the_jobs_query_pages_in_sql_newest_first_with_counts(registry: Registry):
    seed(registry, 30)
    page, total = registry.job_summaries(offset=0, limit=10, needs_attention=False)
    assert total == 30
    assert [s.job.job_id for s in page] == [f"J{n:03d}" for n in range(29, 19, -1)]
    last, _ = registry.job_summaries(offset=20, limit=10, needs_attention=False)
    by_id = {s.job.job_id: s for s in last}
    assert (by_id["J000"].processed, by_id["J000"].unchecked) == (2, 1)
    assert by_id["J001"].unchecked == 0  # checked for its current content
    assert (by_id["J002"].unchecked, by_id["J002"].hidden) == (0, 1)
    assert (by_id["J003"].error, by_id["J003"].processed) == (1, 1)
    flagged, count = registry.job_summaries(offset=0, limit=10, needs_attention=True)
    assert count == 3
    assert [s.job.job_id for s in flagged] == ["J004", "J003", "J000"]
    assert all(s.needs_attention for s in flagged)
    everyone, _ = registry.job_summaries(offset=0, limit=30, needs_attention=False)
    assert {s.job.job_id for s in everyone if s.needs_attention} == {"J000", "J003", "J004"}


def test_a_check_counts_only_for_the_content_it_was_made_for(registry: Registry):
    registry.apply_changes(JobChanges("J", new=[new("a.jpg", "processed")]))
    [row] = registry.images_of_job("J")
    assert registry.set_checked("J", row.image_id, checked=True, by="daniel")
    assert not registry.set_checked("OTHER", row.image_id, checked=True, by="daniel")
    [row] = registry.images_of_job("J")
    assert findings_checked(row) and row.checked_by == "daniel"
    with registry.session() as s:
        s.execute(update(ImageRow).values(content_hash="b" * 64))
    [row] = registry.images_of_job("J")
    assert not findings_checked(row)


def desk_job(
    harness: Harness, monkeypatch, provider: str
) -> tuple[Harness, dg.ExecuteInProcessResult]:
    """The desk's demo job, processed with the privacy provider of pix_pipeline_tests.providers
    named `provider`; the returned harness (to close) and its run."""
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", f"pix_pipeline_tests.providers:{provider}")
    h = Harness(harness.root, harness.instance)
    write_job(h.final_input(JOB))
    h.tick()
    return h, h.run(JOB)


def test_the_privacy_check_and_the_gate_leave_out_hidden_and_checked_photos(
    harness: Harness, monkeypatch
):
    h, first = desk_job(harness, monkeypatch, "ColourCodedPrivacy")
    [check] = [e for e in first.get_asset_check_evaluations() if e.check_name == "privacy_findings"]
    assert not check.passed and check.metadata["photos_with_findings"].value == 2
    rows = {r.filename: r for r in h.registry.images_of_job(JOB)}
    assert privacy_findings(list(rows.values())) == {"door.jpg": ["text"], "face.jpg": ["faces"]}
    h.registry.set_hidden(JOB, rows["face.jpg"].image_id, hidden=True, by="daniel")
    h.registry.set_checked(JOB, rows["door.jpg"].image_id, checked=True, by="daniel")
    assert privacy_findings(h.registry.images_of_job(JOB)) == {}
    again = (
        h.defs.resolve_job_def("process_pix_job")
        .get_subset(
            asset_selection=set(),
            asset_check_selection={dg.AssetCheckKey(dg.AssetKey("privacy"), "privacy_findings")},
        )
        .execute_in_process(instance=h.instance, partition_key=JOB)
    )
    [check] = again.get_asset_check_evaluations()
    assert check.passed
    h.close()


def test_a_face_check_that_could_not_run_needs_a_look_before_a_release(
    harness: Harness, monkeypatch
):
    h, first = desk_job(harness, monkeypatch, "FaceModelMissing")
    assert first.success
    rows = {r.filename: r for r in h.registry.images_of_job(JOB)}
    # Nothing was found because nothing looked: each shown photo waits for Daniel. Logos, which
    # no local model checks, block nothing.
    expected = {name: ["faces:not_checked"] for name in ("clean.jpg", "door.jpg", "face.jpg")}
    assert privacy_findings(list(rows.values())) == expected
    refused = h.release(JOB, approved_by="Daniel")
    assert not refused.success
    assert "clean.jpg: faces (not checked)" in str(refused.all_events)
    for name in ("clean.jpg", "door.jpg"):
        h.registry.set_checked(JOB, rows[name].image_id, checked=True, by="daniel")
    h.registry.set_hidden(JOB, rows["face.jpg"].image_id, hidden=True, by="daniel")
    assert privacy_findings(h.registry.images_of_job(JOB)) == {}
    assert h.release(JOB, approved_by="Daniel").success
    h.close()
