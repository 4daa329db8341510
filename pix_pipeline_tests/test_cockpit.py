"""What Daniel sees in the UI: materialization metadata and per-job asset checks."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from pix_pipeline.domain.overview import contact_sheet, gallery_tiles, stuck_pending
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.providers import provider_calls

JOB = "COCKPIT1"


def materialization(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    [event] = [
        e.materialization
        for e in result.get_asset_materialization_events()
        if e.asset_key.path == [asset]
    ]
    return {
        k: v if isinstance(v, dg.TableMetadataValue) else v.value for k, v in event.metadata.items()
    }


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


@pytest.fixture
def run(pix_root: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "pix_pipeline_tests.providers:FacesEverywhere")
    with dg.instance_for_test() as instance:
        harness = Harness(pix_root, instance)
        folder = harness.final_input(JOB)
        for i in range(3):
            write_settled(folder / f"IMG_{i}.jpg", jpeg_bytes(photo((640, 480), seed=i)))
        write_settled(folder / "broken.jpg", b"\xff\xd8\xff garbage")
        harness.tick()
        yield harness, harness.run(JOB)
        harness.close()


def test_image_meta_and_gallery_carry_a_per_image_table(run):  # type: ignore[no-untyped-def]
    _, result = run
    for asset in ("image_meta", "gallery"):
        table = materialization(result, asset)["images"]
        assert isinstance(table, dg.TableMetadataValue)
        rows = {r.data["filename"]: r.data for r in table.records}
        assert rows["IMG_0.jpg"]["status"] == "processed"
        assert rows["IMG_0.jpg"]["privacy"] == "faces"
        assert rows["IMG_0.jpg"]["source"] == "editor"
        assert rows["broken.jpg"]["status"] == "error" and "JPEG" in rows["broken.jpg"]["error"]
    meta = materialization(result, "image_meta")
    assert (meta["images_processed"], meta["images_error"]) == (3, 1)


def test_thumbs_and_gallery_show_a_small_contact_sheet(run):  # type: ignore[no-untyped-def]
    _, result = run
    for asset in ("thumbs", "gallery"):
        sheet = materialization(result, asset)["contact_sheet"]
        assert isinstance(sheet, str)
        assert sheet.count("](data:image/jpeg;base64,") == 3
        assert "![IMG_0.jpg]" in sheet
        assert len(sheet.encode()) < 64 * 1024


def test_job_expose_shows_captions_room_types_and_its_path(run):  # type: ignore[no-untyped-def]
    _, result = run
    meta = materialization(result, "job_expose")
    assert str(meta["path"]).endswith(f"pix-jobs/{JOB}/pipeline/meta/job_expose.json")
    assert Path(str(meta["path"])).is_file()
    assert "room type" in str(meta["room_types"]) and "file" in str(meta["captions"])
    assert meta["privacy_findings"] == {"faces": ["IMG_0.jpg", "IMG_1.jpg", "IMG_2.jpg"]}


def test_the_checks_pass_or_warn_per_job(run):  # type: ignore[no-untyped-def]
    _, result = run
    found = checks(result)
    assert found["job_expose_schema"].passed
    assert found["gallery_matches_images"].passed
    assert found["no_image_stuck_pending"].passed
    privacy = found["privacy_findings"]
    assert not privacy.passed and privacy.severity == dg.AssetCheckSeverity.WARN
    assert "3 photo(s) with privacy findings" in (privacy.description or "")
    for evaluation in found.values():
        assert evaluation.partition == JOB


def test_a_missing_gallery_file_fails_the_gallery_check(run):  # type: ignore[no-untyped-def]
    harness, _ = run
    (harness.job_path(JOB, "gallery/images") / "IMG_1.jpg").unlink()
    again = harness.run(JOB)
    check = checks(again)["gallery_matches_images"]
    assert not check.passed and "missing: IMG_1.jpg" in (check.description or "")


def test_a_contact_sheet_stays_within_its_budget(run):  # type: ignore[no-untyped-def]
    _, _ = run
    rt = build_runtime(load_settings())
    try:
        rows = rt.registry.images_of_job(JOB)
        sheet = contact_sheet(rt, gallery_tiles(JOB, rows), budget=1200)
    finally:
        rt.close()
    assert len(sheet) <= 1200 and sheet.count("data:image/jpeg") == 1
    assert "more (too many for one sheet)" in sheet


def test_images_pending_too_long_are_reported(run):  # type: ignore[no-untyped-def]
    _, _ = run
    rt = build_runtime(load_settings())
    try:
        rows = rt.registry.images_of_job(JOB)
    finally:
        rt.close()
    for row in rows:
        row.status = "pending_processing"
    now = datetime.now(UTC)
    assert stuck_pending(rows, now, 60) == []
    assert stuck_pending(rows, now + timedelta(minutes=61), 60) == sorted(r.filename for r in rows)


def materialize_alone(harness: Harness, asset: str) -> dg.ExecuteInProcessResult:
    """What the UI's Materialize on one asset of the job runs."""
    return (
        harness.defs.resolve_job_def("process_pix_job")
        .get_subset(asset_selection={dg.AssetKey(asset)})
        .execute_in_process(instance=harness.instance, partition_key=JOB)
    )


def test_one_job_output_can_be_materialized_alone(run):  # type: ignore[no-untyped-def]
    harness, _ = run
    expose = harness.job_path(JOB, "pipeline/meta/job_expose.json")
    written_before = expose.stat().st_mtime_ns
    alone = materialize_alone(harness, "gallery")
    assert alone.success
    done = {e.asset_key.to_user_string() for e in alone.get_asset_materialization_events()}
    assert done == {"gallery"}
    assert set(checks(alone)) == {"gallery_matches_images"}
    assert checks(alone)["gallery_matches_images"].passed
    assert expose.stat().st_mtime_ns == written_before


def test_one_side_by_side_step_can_be_materialized_alone(  # type: ignore[no-untyped-def]
    run, monkeypatch: pytest.MonkeyPatch
):
    harness, first = run
    assert materialization(first, "privacy")["images_computed"] == 3
    # A new semantics provider: semantics has work again, privacy and depth do not.
    monkeypatch.setenv("PIX_SEMANTICS_PROVIDER", "pix_pipeline_tests.providers:LogsSemanticsCalls")
    provider_calls.clear()
    alone = materialize_alone(Harness(harness.root, harness.instance), "semantics")
    assert alone.success
    done = {e.asset_key.to_user_string() for e in alone.get_asset_materialization_events()}
    assert done == {"semantics"}
    assert {step for step, _ in provider_calls} == {"semantics"}
    assert materialization(alone, "semantics")["images_computed"] == 3


def test_an_asset_runs_without_its_check_when_the_check_is_not_selected(run):  # type: ignore[no-untyped-def]
    harness, _ = run
    result = (
        harness.defs.resolve_job_def("process_pix_job")
        .get_subset(asset_selection={dg.AssetKey("privacy")}, asset_check_selection=set())
        .execute_in_process(instance=harness.instance, partition_key=JOB)
    )
    assert result.success
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert done == {"privacy"}
    assert checks(result) == {}


def test_a_check_runs_alone_from_what_is_stored(run):  # type: ignore[no-untyped-def]
    harness, _ = run
    (harness.job_path(JOB, "gallery/images") / "stray.jpg").write_bytes(b"not ours")
    selection = {
        dg.AssetCheckKey(dg.AssetKey(asset), name)
        for asset, name in (
            ("privacy", "privacy_findings"),
            ("image_meta", "no_image_stuck_pending"),
            ("image_meta", "no_image_failed"),
            ("job_expose", "job_expose_schema"),
            ("gallery", "gallery_matches_images"),
        )
    }
    result = (
        harness.defs.resolve_job_def("process_pix_job")
        .get_subset(asset_selection=set(), asset_check_selection=selection)
        .execute_in_process(instance=harness.instance, partition_key=JOB)
    )
    assert result.success
    assert result.get_asset_materialization_events() == []
    found = checks(result)
    assert found["privacy_findings"].passed is False  # FacesEverywhere: a face in every photo
    assert found["no_image_stuck_pending"].passed is True
    assert found["no_image_failed"].passed is False  # broken.jpg
    assert found["job_expose_schema"].passed is True
    gallery = found["gallery_matches_images"]
    assert gallery.passed is False
    assert gallery.metadata["stray"].value == 1
    assert gallery.metadata["expected"].value == 3


def test_a_photo_that_changes_again_before_its_gallery_copy_leaves_no_stale_record(run):  # type: ignore[no-untyped-def]
    harness, _ = run
    folder = harness.final_input(JOB)
    write_settled(folder / "IMG_0.jpg", jpeg_bytes(photo((640, 480), seed=10)))
    harness.tick()
    before_gallery = {"thumbs", "privacy", "depth", "semantics", "cleanup", "image_meta"}
    processed = (
        harness.defs.resolve_job_def("process_pix_job")
        .get_subset(asset_selection={dg.AssetKey(a) for a in before_gallery | {"job_expose"}})
        .execute_in_process(instance=harness.instance, partition_key=JOB)
    )
    assert processed.success
    # A third version lands after processing: the sync must not copy it unprocessed.
    write_settled(folder / "IMG_0.jpg", jpeg_bytes(photo((640, 480), seed=11)))
    synced = materialize_alone(harness, "gallery")
    assert synced.success
    images = harness.job_path(JOB, "gallery/images")
    assert sorted(p.name for p in images.iterdir()) == ["IMG_1.jpg", "IMG_2.jpg"]
    # The registry no longer records the deleted copy, so the check expects exactly these two.
    check = checks(synced)["gallery_matches_images"]
    assert check.passed
    assert check.metadata["expected"].value == 2


def test_a_job_with_a_failed_photo_warns_with_its_name_and_reason(run):  # type: ignore[no-untyped-def]
    _, result = run
    assert result.success
    failed = checks(result)["no_image_failed"]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.WARN
    assert failed.partition == JOB and failed.asset_key == dg.AssetKey("image_meta")
    assert failed.metadata["failed"].value == 1
    table = str(failed.metadata["failed_photos"].value)
    [row] = [line for line in table.splitlines() if "broken.jpg" in line]
    assert "JPEG" in row  # the reason image_meta recorded for it
    assert "broken.jpg" in (failed.description or "") and "IMG_0.jpg" not in table


def test_the_failed_photo_check_passes_when_every_photo_is_processed(harness: Harness):
    folder = harness.final_input("CLEAN1")
    for i in range(2):
        write_settled(folder / f"IMG_{i}.jpg", jpeg_bytes(photo((320, 240), seed=i)))
    harness.tick()
    result = harness.run("CLEAN1")
    found = checks(result)["no_image_failed"]
    assert found.passed and found.metadata["failed"].value == 0
    assert found.description == "no photo failed"


def latest(harness: Harness, asset: str) -> tuple[str, dict[str, object]]:
    """(run id, metadata) of the asset's latest materialization of JOB, as the UI reads it."""
    [record] = harness.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[JOB]), limit=1
    ).records
    event = record.asset_materialization
    assert event is not None
    return record.run_id, {key: value.value for key, value in event.metadata.items()}


def revoke(harness: Harness) -> dg.ExecuteInProcessResult:
    return harness.defs.resolve_job_def("revoke_gallery").execute_in_process(
        instance=harness.instance,
        partition_key=JOB,
        run_config={"ops": {"revoke_job_gallery": {"config": {"revoked_by": "Anna"}}}},
    )


def test_the_gallery_shows_its_visibility_after_a_release_and_a_revoke(run):  # type: ignore[no-untyped-def]
    harness, _ = run
    _, draft = latest(harness, "gallery")
    assert (draft["gallery_visibility"], draft["last_release"]) == ("internal", "never released")

    released = harness.release(JOB, approved_by="Daniel", acknowledge_privacy_findings=True)
    assert released.success
    run_id, shown = latest(harness, "gallery")
    assert run_id == released.run_id
    assert (shown["gallery_status"], shown["gallery_visibility"]) == ("draft_ready", "customer")
    assert shown["images_in_gallery"] == 3
    assert str(shown["last_release"]).startswith("#1 by Daniel on ")
    assert str(shown["contact_sheet"]).count("(data:image/jpeg;base64,") == 3
    assert latest(harness, "released_gallery")[1]["gallery_visibility"] == "customer"

    # The pipeline's next run keeps telling the truth.
    again = harness.run(JOB)
    assert again.success and latest(harness, "gallery")[1]["gallery_visibility"] == "customer"

    revoked = revoke(harness)
    assert revoked.success
    run_id, shown = latest(harness, "gallery")
    assert run_id == revoked.run_id
    assert (shown["gallery_status"], shown["gallery_visibility"]) == ("draft_ready", "internal")
    assert str(shown["last_revoke"]).startswith("by Anna on ")
    run_id, customer = latest(harness, "released_gallery")
    assert run_id == revoked.run_id
    assert (customer["gallery_visibility"], customer["images_released"]) == ("internal", 0)


def test_a_released_gallery_with_pending_changes_lists_them(run):  # type: ignore[no-untyped-def]
    harness, _ = run
    assert harness.release(JOB, acknowledge_privacy_findings=True).success
    (harness.final_input(JOB) / "IMG_2.jpg").unlink()
    harness.tick()
    assert harness.run(JOB).success
    _, shown = latest(harness, "gallery")
    assert (shown["gallery_status"], shown["gallery_visibility"]) == ("update_pending", "customer")
    assert shown["images_in_gallery"] == 3  # the customer still sees the released three
    assert "remove IMG_2.jpg (removed)" in str(shown["pending_changes"])
    # The contact sheet shows the released three too, from the gallery's own previews.
    assert str(shown["contact_sheet"]).count("(data:image/jpeg;base64,") == 3
    write_settled(harness.final_input(JOB) / "IMG_7.jpg", jpeg_bytes(photo((640, 480), seed=7)))
    write_settled(harness.final_input(JOB) / "IMG_8.jpg", jpeg_bytes(photo((640, 480), seed=8)))
    harness.tick()
    assert harness.run(JOB).success
    _, shown = latest(harness, "gallery")
    assert shown["images_in_gallery"] == 3
    assert str(shown["contact_sheet"]).count("(data:image/jpeg;base64,") == 3
    assert "IMG_7.jpg" not in str(shown["contact_sheet"])
