"""The registry on SQLite and on the real PostgreSQL server: constraints, CAS, the outbox."""

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from pix_pipeline.domain.gallery_state import GalleryEvent, IllegalTransition
from pix_pipeline.registry.repository import ImageUpdate, JobChanges, NewImage, Registry
from pix_pipeline.registry.schema import ImageRow


def new_image(name: str, status: str = "pending_processing", content_hash: str = "h1") -> NewImage:
    return NewImage(
        filename=name,
        storage_path=f"pix-jobs/J1/final_input/{name}",
        source="editor",
        status=status,
        size_bytes=10,
        mtime_ns=1,
        content_hash=content_hash,
        error_message=None,
        error_stage=None,
    )


def test_tables_are_created_on_first_use(empty_database_url: str):
    registry = Registry.from_url(empty_database_url)
    try:
        names = set(inspect(registry.engine).get_table_names())
        columns = {c["name"] for c in inspect(registry.engine).get_columns("images")}
    finally:
        registry.dispose()
    assert {"jobs", "images", "step_results", "notifications"} <= names
    assert {
        "image_id",
        "job_id",
        "filename",
        "storage_path",
        "source",
        "status",
        "error_message",
        "meta",
    } <= columns


def test_registering_changes_bumps_the_job_revision_only_for_content(registry: Registry):
    assert registry.apply_changes(JobChanges("J1", new=[new_image("a.jpg")])) == 1
    row = registry.images_of_job("J1")[0]
    touched = ImageUpdate(row.image_id, size_bytes=10, mtime_ns=2)
    assert registry.apply_changes(JobChanges("J1", updated=[touched])) == 1
    changed = ImageUpdate(
        row.image_id, 11, 3, content_hash="h2", source="editor", status="pending_processing"
    )
    assert registry.apply_changes(JobChanges("J1", updated=[changed])) == 2
    assert registry.apply_changes(JobChanges("J1", removed=[row.image_id])) == 3
    after = registry.images_of_job("J1")[0]
    assert (after.image_id, after.status, after.content_hash) == (row.image_id, "removed", "h2")
    assert [j.job_id for j in registry.jobs_with_work()] == ["J1"]
    registry.mark_processed_revision("J1", 3)
    assert registry.jobs_with_work() == []


def test_a_filename_is_unique_within_a_job(registry: Registry):
    registry.apply_changes(JobChanges("J1", new=[new_image("a.jpg")]))
    first = registry.images_of_job("J1")[0]
    # The database refuses a second row for the name ...
    with pytest.raises(IntegrityError), registry.session() as s:
        s.add(
            ImageRow(
                image_id="00000000-0000-0000-0000-000000000001",
                job_id="J1",
                filename="a.jpg",
                storage_path="pix-jobs/J1/final_input/a.jpg",
                status="pending_processing",
                size_bytes=1,
                mtime_ns=1,
            )
        )
    # ... and a writer that registers it again (a racing tick) leaves the first row alone.
    registry.apply_changes(JobChanges("J1", new=[new_image("a.jpg", content_hash="other")]))
    registry.apply_changes(JobChanges("J2", new=[new_image("a.jpg")]))
    rows = registry.images_of_job("J1")
    assert [(r.image_id, r.content_hash) for r in rows] == [(first.image_id, "h1")]
    assert len(registry.images_of_job("J2")) == 1


def test_outcome_is_not_set_when_the_file_changed_meanwhile(registry: Registry):
    registry.apply_changes(JobChanges("J1", new=[new_image("a.jpg", content_hash="old")]))
    row: ImageRow = registry.images_of_job("J1")[0]
    kwargs = {"status": "processed", "error_message": None, "error_stage": None, "meta": {"x": 1}}
    assert registry.set_image_outcome(image_id=row.image_id, expected_hash="new", **kwargs) is False
    assert registry.images_of_job("J1")[0].status == "pending_processing"
    assert registry.set_image_outcome(image_id=row.image_id, expected_hash="old", **kwargs) is True
    assert registry.images_of_job("J1")[0].status == "processed"


def test_step_results_are_replaced_not_duplicated(registry: Registry):
    registry.apply_changes(JobChanges("J1", new=[new_image("a.jpg")]))
    image_id = registry.images_of_job("J1")[0].image_id
    for fingerprint in ("f1", "f2"):
        registry.save_step_result(
            image_id=image_id,
            job_id="J1",
            step="thumbs",
            input_fingerprint=fingerprint,
            status="ok",
            provider="pillow",
            result={"w": 1},
            error_message=None,
            duration_ms=5,
        )
    results = registry.step_results("J1")
    assert list(results) == [(image_id, "thumbs")]
    assert results[(image_id, "thumbs")].input_fingerprint == "f2"


def test_each_release_queues_exactly_one_notification(registry: Registry):
    registry.apply_changes(JobChanges("J1", new=[new_image("a.jpg")]))
    registry.transition_gallery("J1", GalleryEvent.DRAFT_SYNCED)
    first = registry.record_release(
        job_id="J1", approved_by="Daniel", note="", payload={"image_count": 1}
    )
    with pytest.raises(IllegalTransition):  # released and nothing pending: no second release
        registry.record_release(
            job_id="J1", approved_by="Daniel", note="", payload={"image_count": 1}
        )
    registry.transition_gallery("J1", GalleryEvent.CHANGES_PENDING)
    second = registry.record_release(
        job_id="J1", approved_by="Daniel", note="", payload={"image_count": 1}
    )
    assert (first.release_number, second.release_number) == (1, 2)
    assert (first.kind, first.payload) == (
        "gallery.released",
        {"image_count": 1, "release_number": 1},
    )
    assert first.webhook_id != second.webhook_id
    assert [n.status for n in registry.pending_notifications("J1")] == ["pending", "pending"]
    assert registry.claim_notification(first.id, 0, first.created_at, first.created_at)
    assert not registry.claim_notification(first.id, 0, first.created_at, first.created_at)
    registry.finish_attempt(first.id, 1, status="sent", error=None, next_attempt_at=None)
    assert [n.id for n in registry.pending_notifications("J1")] == [second.id]
    job = registry.get_job("J1")
    assert (job.gallery_visibility, job.release_count) == ("customer", 2)


def test_concurrent_writers_registering_the_same_job_and_file_both_succeed(
    database_url: str,
):
    """Two processes' ticks racing on a new job: no primary-key or unique error, one row."""
    import threading

    registries = [Registry.from_url(database_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def register(reg: Registry) -> None:
        barrier.wait()
        try:
            for _ in range(5):
                reg.apply_changes(JobChanges("RACE1", new=[new_image("a.jpg")]))
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(r,)) for r in registries]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == []
        rows = registries[0].images_of_job("RACE1")
        assert [r.filename for r in rows] == ["a.jpg"]
        job = registries[0].get_job("RACE1")
        assert job is not None and job.revision == 10
    finally:
        for r in registries:
            r.dispose()


def test_daniels_field_values_are_set_replaced_and_cleared_per_photo(registry: Registry):
    registry.apply_changes(JobChanges("J1", new=[new_image("a.jpg"), new_image("b.jpg")]))
    a, b = (r.image_id for r in registry.images_of_job("J1"))
    registry.save_semantic_values(
        "J1", a, {"room_type": "kitchen", "objects": ["sofa"]}, (), source="daniel", by="d"
    )
    registry.save_semantic_values("J1", a, {"room_type": "bathroom"}, (), source="daniel", by="e")
    registry.save_semantic_values("J1", b, {"caption_short": "Flur"}, (), source="daniel", by="d")
    mine = registry.semantic_values_of_image(a)
    assert (mine["room_type"].value, mine["room_type"].set_by) == ("bathroom", "e")
    assert mine["objects"].value == ["sofa"]
    registry.save_semantic_values("J1", a, {}, ("objects",), source="daniel", by="d")
    values = registry.semantic_values("J1")
    assert set(values[a]) == {"room_type"} and values[b]["caption_short"].value == "Flur"
    registry.set_gallery_positions("J1", {b: 0, a: 1})
    registry.set_cover("J1", b)
    rows = {r.image_id: r for r in registry.images_of_job("J1")}
    assert (rows[b].gallery_position, rows[a].gallery_position) == (0, 1)
    job = registry.get_job("J1")
    assert job is not None and job.cover_image_id == b
