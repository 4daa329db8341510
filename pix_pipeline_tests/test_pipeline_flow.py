"""The brief end to end, driven like Dagster does it: sensor ticks, job partition runs, release.

Every test runs on SQLite and on the real PostgreSQL server (see conftest.database_url).
"""

import os
from pathlib import Path

import pytest
from PIL import Image

from pix_pipeline.domain.gallery import sync_gallery
from pix_pipeline.domain.models import GalleryExpose, ImageMeta, JobExpose, StepName
from pix_pipeline.domain.steps import run_steps
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import (
    age,
    cmyk_red,
    jpeg_bytes,
    photo,
    png_bytes,
    same_pixels,
    two_tone,
    write_settled,
)
from pix_pipeline_tests.providers import RecordingNotifier, provider_calls

JOB = "DEMO1"
RED, BLUE = (230, 20, 20), (20, 20, 230)


def seed_job(h: Harness) -> Path:
    """The issue's first delivery: 3 good JPEGs (one rotated, one CMYK) and 3 problem files."""
    folder = h.final_input(JOB)
    write_settled(folder / "IMG_0001.jpg", jpeg_bytes(photo((1200, 900), seed=1)))
    write_settled(
        folder / "rotated.JPG", jpeg_bytes(two_tone((300, 200), RED, BLUE), orientation=6)
    )
    write_settled(folder / "print_cmyk.jpeg", cmyk_red((500, 400)))
    write_settled(folder / "screenshot.jpg", png_bytes())
    write_settled(folder / "empty.jpg", b"")
    (folder / "uploading.jpg").write_bytes(jpeg_bytes(photo((200, 100)))[:500])  # fresh mtime
    # Names the watcher must not touch.
    write_settled(folder / "IMG_0002.jpg.part", jpeg_bytes(photo((50, 50))))
    write_settled(folder / ".DS_Store", b"\x00\x01")
    write_settled(folder / "~IMG_tmp.jpg", jpeg_bytes(photo((50, 50))))
    write_settled(folder / "notes.txt", b"shot list")
    (folder / "raw").mkdir()
    write_settled(folder / "raw" / "nested.jpg", jpeg_bytes(photo((50, 50))))
    return folder


def rows_by_name(h: Harness, job_id: str = JOB) -> dict[str, object]:
    return {r.filename: r for r in h.registry.images_of_job(job_id)}


def released_notifications(h: Harness, job_id: str = JOB) -> list:
    return [n for n in h.registry.notifications(job_id) if n.kind == "gallery.released"]


def test_first_tick_registers_complete_jpegs_and_rejects_bad_files_with_reasons(harness: Harness):
    seed_job(harness)
    result = harness.tick()

    assert [r.partition_key for r in result.run_requests] == [JOB]
    assert harness.instance.get_dynamic_partitions("pix_jobs") == [JOB]
    rows = rows_by_name(harness)
    assert set(rows) == {
        "IMG_0001.jpg",
        "rotated.JPG",
        "print_cmyk.jpeg",
        "screenshot.jpg",
        "empty.jpg",
    }
    for name in ("IMG_0001.jpg", "rotated.JPG", "print_cmyk.jpeg"):
        row = rows[name]
        assert row.status == "pending_processing"
        assert row.source == "editor"
        assert row.storage_path == f"pix-jobs/{JOB}/final_input/{name}"
        assert len(row.image_id) == 36 and row.content_hash
    assert rows["screenshot.jpg"].status == "error"
    assert (
        rows["screenshot.jpg"].error_message
        == "final_input/screenshot.jpg: PNG data with a JPEG name"
    )
    assert rows["empty.jpg"].status == "error"
    assert rows["empty.jpg"].error_message == "final_input/empty.jpg: empty file (0 bytes)"


def test_job_run_writes_every_artifact_of_the_layout(harness: Harness):
    seed_job(harness)
    harness.tick_and_run()
    rows = rows_by_name(harness)
    job_dir = harness.root / "pix-jobs" / JOB
    for folder in (
        "pipeline/thumbs",
        "pipeline/depth",
        "pipeline/segments",
        "pipeline/meta/images",
        "gallery/images",
    ):
        assert (job_dir / folder).is_dir(), folder

    processed = {n for n, r in rows.items() if r.status == "processed"}
    assert processed == {"IMG_0001.jpg", "rotated.JPG", "print_cmyk.jpeg"}
    for name in processed:
        row = rows[name]
        small = Image.open(job_dir / "pipeline/thumbs" / f"{row.image_id}_400.jpg")
        large = Image.open(job_dir / "pipeline/thumbs" / f"{row.image_id}_1600.jpg")
        assert small.format == large.format == "JPEG"
        assert small.mode == large.mode == "RGB"
        meta = ImageMeta.model_validate(
            harness.read_json(JOB, f"pipeline/meta/images/{row.image_id}.json")
        )
        assert meta.schema_version == "1.0" and meta.status.value == "processed"
        assert meta.thumbnails is not None
        assert meta.thumbnails.small == f"pix-jobs/{JOB}/pipeline/thumbs/{row.image_id}_400.jpg"
        assert max(small.size) == min(400, max(meta.width, meta.height))
        assert max(large.size) == min(1600, max(meta.width, meta.height))
        assert meta.depth is not None and meta.depth.status == "skipped"
        assert meta.privacy is not None and meta.privacy.faces.status.value == "not_checked"
        assert meta.privacy.logos.status.value == "not_checked"
        assert meta.semantics is not None and meta.semantics.status.value == "not_checked"
        assert {s.value for s in meta.steps} == {
            "thumbs",
            "privacy",
            "depth",
            "semantics",
            "cleanup",
        }
        # A rendition of the original: its metadata by the rule, its pixels untouched.
        gallery_copy = (job_dir / "gallery/images" / name).read_bytes()
        assert same_pixels(gallery_copy, (job_dir / "final_input" / name).read_bytes())

    # EXIF orientation 6: stored 300x200 with red on the left, shown upright 200x300, red on top.
    rotated = harness.read_json(JOB, f"pipeline/meta/images/{rows['rotated.JPG'].image_id}.json")
    assert (rotated["width"], rotated["height"]) == (200, 300)
    upright = Image.open(job_dir / "pipeline/thumbs" / f"{rows['rotated.JPG'].image_id}_1600.jpg")
    assert upright.size == (200, 300)  # never upscaled
    top, bottom = upright.getpixel((100, 40)), upright.getpixel((100, 260))
    assert top[0] > 180 and top[2] < 80, top
    assert bottom[2] > 180 and bottom[0] < 80, bottom
    # CMYK input becomes RGB output with the same (red) colour.
    cmyk = Image.open(job_dir / "pipeline/thumbs" / f"{rows['print_cmyk.jpeg'].image_id}_400.jpg")
    r, g, b = cmyk.getpixel((200, 160))
    assert r > 180 and g < 90 and b < 90

    expose = JobExpose.model_validate(harness.read_json(JOB, "pipeline/meta/job_expose.json"))
    assert expose.counts.processed == 3 and expose.counts.error == 2 and expose.counts.total == 5
    assert sorted(i.filename for i in expose.images) == sorted(processed)
    assert {e.filename for e in expose.errors} == {"screenshot.jpg", "empty.jpg"}
    assert expose.privacy_summary["faces"].not_checked == 3
    customer = GalleryExpose.model_validate(harness.read_json(JOB, "gallery/expose.json"))
    assert [p.filename for p in customer.images] == sorted(processed)
    for entry in customer.images:
        assert entry.file == f"images/{entry.filename}"
        for preview, edge in ((entry.preview_small, 400), (entry.preview_large, 1600)):
            with Image.open(job_dir / "gallery" / preview.file) as shown:
                assert shown.size == (preview.width, preview.height)
                assert max(shown.size) == min(edge, max(entry.width, entry.height))
    assert sorted(p.name for p in (job_dir / "gallery/images").iterdir()) == sorted(processed)
    job = harness.registry.get_job(JOB)
    assert (job.gallery_status, job.gallery_visibility) == ("draft_ready", "internal")
    assert job.processed_revision == job.revision


def test_second_tick_without_changes_requests_no_run(harness: Harness):
    folder = seed_job(harness)
    # The half-written file would settle while a slow run goes on, and count as new.
    (folder / "uploading.jpg").unlink()
    harness.tick_and_run()
    result = harness.tick()
    assert result.run_requests == []
    assert "registered 0 new file(s)" in result.skip_reason.skip_message
    assert "requested 0 run(s)" in result.skip_reason.skip_message


def test_half_written_file_waits_until_its_size_and_mtime_settle(harness: Harness):
    seed_job(harness)
    first = harness.tick()
    assert "uploading.jpg" not in rows_by_name(harness)
    assert first.run_requests  # the complete files do not wait for it
    harness.run_requested(first)
    folder = harness.final_input(JOB)
    (folder / "uploading.jpg").write_bytes(jpeg_bytes(photo((200, 100), seed=3)))
    age(folder / "uploading.jpg")
    second = harness.tick()
    assert rows_by_name(harness)["uploading.jpg"].status == "pending_processing"
    assert [r.partition_key for r in second.run_requests] == [JOB]


def test_replaced_file_keeps_its_image_id_and_is_processed_again(harness: Harness):
    seed_job(harness)
    harness.tick_and_run()
    before = rows_by_name(harness)["IMG_0001.jpg"]
    thumb = harness.job_path(JOB, f"pipeline/thumbs/{before.image_id}_1600.jpg")
    old_thumb = thumb.read_bytes()

    write_settled(
        harness.final_input(JOB) / "IMG_0001.jpg", jpeg_bytes(photo((1000, 1000), seed=9)), 60
    )
    result = harness.tick()
    assert [r.partition_key for r in result.run_requests] == [JOB]
    after = rows_by_name(harness)["IMG_0001.jpg"]
    assert after.image_id == before.image_id
    assert after.status == "pending_processing" and after.content_hash != before.content_hash
    harness.run_requested(result)

    assert rows_by_name(harness)["IMG_0001.jpg"].status == "processed"
    assert thumb.read_bytes() != old_thumb and Image.open(thumb).size == (1000, 1000)
    gallery_copy = harness.job_path(JOB, "gallery/images/IMG_0001.jpg").read_bytes()
    new_version = (harness.final_input(JOB) / "IMG_0001.jpg").read_bytes()
    assert same_pixels(gallery_copy, new_version)


def test_touched_file_with_identical_content_needs_no_run(harness: Harness):
    folder = seed_job(harness)
    # The half-written file would settle while a slow run goes on, and count as new.
    (folder / "uploading.jpg").unlink()
    harness.tick_and_run()
    age(harness.final_input(JOB) / "IMG_0001.jpg", 30)
    assert harness.tick().run_requests == []


def test_removed_file_is_marked_removed_and_leaves_the_gallery(harness: Harness):
    seed_job(harness)
    harness.tick_and_run()
    (harness.final_input(JOB) / "print_cmyk.jpeg").unlink()
    result = harness.tick()
    assert [r.partition_key for r in result.run_requests] == [JOB]
    harness.run_requested(result)

    assert rows_by_name(harness)["print_cmyk.jpeg"].status == "removed"
    assert not harness.job_path(JOB, "gallery/images/print_cmyk.jpeg").exists()
    expose = harness.read_json(JOB, "pipeline/meta/job_expose.json")
    assert expose["counts"]["removed"] == 1 and expose["counts"]["processed"] == 2
    customer = harness.read_json(JOB, "gallery/expose.json")
    assert [i["filename"] for i in customer["images"]] == ["IMG_0001.jpg", "rotated.JPG"]
    assert not harness.job_path(JOB, "gallery/previews/400/print_cmyk.jpeg").exists()
    assert not harness.job_path(JOB, "gallery/previews/1600/print_cmyk.jpeg").exists()


def test_deleted_previews_are_made_again_by_the_next_run(harness: Harness):
    seed_job(harness)
    harness.tick_and_run()
    row = rows_by_name(harness)["IMG_0001.jpg"]
    thumb = harness.job_path(JOB, f"pipeline/thumbs/{row.image_id}_1600.jpg")
    shown = harness.job_path(JOB, "gallery/previews/1600/IMG_0001.jpg")
    original = thumb.read_bytes()
    thumb.unlink()
    shown.unlink()
    before = harness.registry.step_results(JOB)

    assert harness.run(JOB).success
    assert thumb.read_bytes() == original  # the same photo makes the same preview
    assert same_pixels(shown.read_bytes(), original)
    after = harness.registry.step_results(JOB)
    remade = {key for key, r in after.items() if r.updated_at != before[key].updated_at}
    assert remade == {(row.image_id, "thumbs")}  # nothing else is computed again


def test_a_sync_without_previews_to_copy_names_the_photo(harness: Harness):
    seed_job(harness)
    harness.tick_and_run()
    row = rows_by_name(harness)["IMG_0001.jpg"]
    harness.job_path(JOB, f"pipeline/thumbs/{row.image_id}_400.jpg").unlink()
    harness.job_path(JOB, "gallery/previews/400/IMG_0001.jpg").unlink()
    rt = build_runtime(load_settings())
    try:
        report = sync_gallery(rt, JOB)
    finally:
        rt.close()
    assert report.missing_previews == ["IMG_0001.jpg"]
    assert harness.job_path(JOB, "gallery/images/IMG_0001.jpg").exists()  # the photo stays


def test_unchanged_images_are_not_recomputed_by_a_later_run(harness: Harness):
    seed_job(harness)
    harness.tick_and_run()
    before = harness.registry.step_results(JOB)
    write_settled(harness.final_input(JOB) / "new.jpg", jpeg_bytes(photo((640, 480), seed=4)))
    harness.tick_and_run()
    after = harness.registry.step_results(JOB)
    for key, row in before.items():
        assert after[key].updated_at == row.updated_at, key
    new_id = rows_by_name(harness)["new.jpg"].image_id
    assert {step for (image_id, step) in after if image_id == new_id} == {
        "thumbs",
        "privacy",
        "depth",
        "semantics",
        "cleanup",
    }


def test_release_makes_the_gallery_customer_visible_and_notifies_once(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PIX_NOTIFIER", "pix_pipeline_tests.providers:RecordingNotifier")
    RecordingNotifier.delivered.clear()
    seed_job(harness)
    harness.tick_and_run()
    assert harness.registry.get_job(JOB).gallery_visibility == "internal"

    harness.make_notifications_due()  # the draft's gallery.draft_ready, past its quiet wait
    harness.outbox_tick()
    assert [n.kind for n in RecordingNotifier.delivered] == ["gallery.draft_ready"]
    RecordingNotifier.delivered.clear()

    result = harness.release(JOB, approved_by="Daniel", note="Looks good")
    assert result.success
    job = harness.registry.get_job(JOB)
    assert job.gallery_visibility == "customer" and job.released_at is not None
    assert (job.released_by, job.release_note) == ("Daniel", "Looks good")
    released = released_notifications(harness)
    assert [(n.kind, n.release_number, n.status) for n in released] == [
        ("gallery.released", 1, "pending")
    ]
    assert released[0].payload == {
        "job_id": JOB,
        "release_number": 1,
        "image_count": 3,
        "approved_by": "Daniel",
        "expose_key": f"pix-jobs/{JOB}/gallery/expose.json",
    }
    assert RecordingNotifier.delivered == []  # the outbox delivers, not the release
    harness.outbox_tick()
    assert [n.status for n in released_notifications(harness)] == ["sent"]
    assert [n.kind for n in RecordingNotifier.delivered] == ["gallery.released"]
    harness.outbox_tick()
    assert len(RecordingNotifier.delivered) == 1

    again = harness.release(JOB)
    assert not again.success
    assert "no pending update" in again.failure_data_for_node("release_job_gallery").error.message
    assert len(released_notifications(harness)) == 1


def test_release_refuses_a_job_without_processed_images(harness: Harness):
    write_settled(harness.final_input("EMPTY1") / "broken.jpg", b"not an image at all")
    harness.tick_and_run()
    result = harness.release("EMPTY1")
    assert not result.success
    message = result.failure_data_for_node("release_job_gallery").error.message
    assert "nothing to release: job EMPTY1 has no processed images" in message
    assert harness.registry.get_job("EMPTY1").gallery_visibility == "internal"
    assert released_notifications(harness, "EMPTY1") == []


def test_changes_after_release_wait_as_update_pending_until_the_next_release(harness: Harness):
    seed_job(harness)
    harness.tick_and_run()
    assert harness.release(JOB).success
    gallery = harness.job_path(JOB, "gallery/images")
    released_files = sorted(p.name for p in gallery.iterdir())
    released_expose = harness.job_path(JOB, "gallery/expose.json").read_bytes()

    write_settled(
        harness.final_input(JOB) / "late_delivery.jpg", jpeg_bytes(photo((800, 600), seed=5))
    )
    (harness.final_input(JOB) / "IMG_0001.jpg").unlink()
    harness.tick_and_run()

    job = harness.registry.get_job(JOB)
    assert (job.gallery_status, job.gallery_visibility) == ("update_pending", "customer")
    assert sorted(p.name for p in gallery.iterdir()) == released_files
    assert harness.job_path(JOB, "gallery/expose.json").read_bytes() == released_expose
    assert rows_by_name(harness)["late_delivery.jpg"].status == "processed"

    second = harness.release(JOB)
    assert second.success
    names = sorted(p.name for p in gallery.iterdir())
    assert "late_delivery.jpg" in names and "IMG_0001.jpg" not in names
    customer = harness.read_json(JOB, "gallery/expose.json")
    assert [i["filename"] for i in customer["images"]] == [
        "late_delivery.jpg",
        "print_cmyk.jpeg",
        "rotated.JPG",
    ]
    job = harness.registry.get_job(JOB)
    assert (job.gallery_status, job.release_count) == ("draft_ready", 2)
    assert [n.release_number for n in released_notifications(harness)] == [1, 2]


def test_provider_semantics_reach_job_expose_and_gallery_expose(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PIX_SEMANTICS_PROVIDER", "pix_pipeline_tests.providers:FixedSemantics")
    h = Harness(harness.root, harness.instance)
    write_settled(h.final_input(JOB) / "kitchen.jpg", jpeg_bytes(photo((2400, 1600), seed=2)))
    h.tick_and_run()
    expose = JobExpose.model_validate(h.read_json(JOB, "pipeline/meta/job_expose.json"))
    customer = GalleryExpose.model_validate(h.read_json(JOB, "gallery/expose.json"))
    for document in (expose, customer):
        assert document.captions[0].caption_short == "Bright kitchen"
        assert document.captions[0].caption_long.endswith("seen at 1600x1067.")
        assert document.room_types == {"kitchen": ["kitchen.jpg"]}
        assert document.view_types == {"interior": ["kitchen.jpg"]}
    assert expose.objects == {"kitchen island": 1, "person": 1}
    # The rules cleanup provider turns the person into a retouching candidate.
    assert expose.cleanup_options[0].filename == "kitchen.jpg"
    assert [c.label for c in expose.cleanup_options[0].candidates] == ["person"]
    kitchen = customer.images[0]
    assert (kitchen.room_type, kitchen.view_type) == ("kitchen", "interior")
    assert kitchen.objects == ["kitchen island", "person"]
    assert (kitchen.width, kitchen.height) == (2400, 1600)
    assert (kitchen.preview_large.width, kitchen.preview_large.height) == (1600, 1067)
    h.close()


def deliver_three_sizes(folder: Path) -> None:
    # Names sort against size, so neither name nor registration order gives the size order.
    for name, size in (("a_small.jpg", (300, 200)), ("b_large.jpg", (1200, 800))):
        write_settled(folder / name, jpeg_bytes(photo(size, seed=1)))
    write_settled(folder / "c_medium.jpg", jpeg_bytes(photo((600, 400), seed=1)))


def test_a_step_works_through_the_largest_photos_first(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PIX_SEMANTICS_PROVIDER", "pix_pipeline_tests.providers:LogsSemanticsCalls")
    monkeypatch.setenv("PIX_IMAGE_WORKERS", "1")
    provider_calls.clear()
    deliver_three_sizes(harness.final_input(JOB))
    h = Harness(harness.root, harness.instance)
    h.tick_and_run()
    assert provider_calls == [
        ("semantics", (1200, 800)),
        ("semantics", (600, 400)),
        ("semantics", (300, 200)),
    ]
    assert {row.status for row in rows_by_name(h).values()} == {"processed"}
    h.close()


def test_privacy_depth_and_semantics_share_one_queue_photo_by_photo(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    for step, provider in (
        ("PRIVACY", "LogsPrivacyCalls"),
        ("DEPTH", "LogsDepthCalls"),
        ("SEMANTICS", "LogsSemanticsCalls"),
    ):
        monkeypatch.setenv(f"PIX_{step}_PROVIDER", f"pix_pipeline_tests.providers:{provider}")
    monkeypatch.setenv("PIX_DEPTH_ENABLED", "true")
    monkeypatch.setenv("PIX_IMAGE_WORKERS", "1")  # one worker: the order of calls is the queue
    provider_calls.clear()
    deliver_three_sizes(harness.final_input(JOB))
    h = Harness(harness.root, harness.instance)
    h.tick_and_run()
    # Each photo, largest first, gets all three before the next: no step waits for another.
    assert provider_calls == [
        (step, size)
        for size in ((1200, 800), (600, 400), (300, 200))
        for step in ("privacy", "depth", "semantics")
    ]
    rows = rows_by_name(h)
    assert {row.status for row in rows.values()} == {"processed"}
    for row in rows.values():
        assert h.job_path(JOB, f"pipeline/depth/{row.image_id}.png").exists()
    h.close()


def test_steps_that_build_on_each_other_or_repeat_are_not_run_side_by_side(harness: Harness):
    rt = build_runtime(load_settings())
    try:
        with pytest.raises(ValueError, match="privacy build"):
            run_steps(rt, (StepName.THUMBS, StepName.PRIVACY), JOB)
        with pytest.raises(ValueError, match="named twice"):
            run_steps(rt, (StepName.DEPTH, StepName.DEPTH), JOB)
    finally:
        rt.close()


def test_an_image_that_crashes_a_step_is_recorded_and_the_others_finish(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "pix_pipeline_tests.providers:RedCornerFails")
    h = Harness(harness.root, harness.instance)
    folder = h.final_input(JOB)
    write_settled(folder / "red.jpg", jpeg_bytes(Image.new("RGB", (400, 300), (255, 0, 0))))
    write_settled(folder / "ok_1.jpg", jpeg_bytes(photo((400, 300), seed=1)))
    write_settled(folder / "ok_2.jpg", jpeg_bytes(photo((400, 300), seed=2)))
    h.tick_and_run()

    rows = rows_by_name(h)
    assert rows["red.jpg"].status == "error"
    assert rows["red.jpg"].error_message == "privacy: RuntimeError: detector crashed on this photo"
    assert rows["ok_1.jpg"].status == rows["ok_2.jpg"].status == "processed"
    expose = h.read_json(JOB, "pipeline/meta/job_expose.json")
    assert expose["privacy_summary"]["faces"]["detected"] == ["ok_1.jpg", "ok_2.jpg"]
    assert sorted(p.name for p in h.job_path(JOB, "gallery/images").iterdir()) == [
        "ok_1.jpg",
        "ok_2.jpg",
    ]
    h.close()


def test_folders_that_are_not_job_ids_are_ignored_with_a_warning(harness: Harness):
    write_settled(
        harness.root / "pix-jobs" / "bad name!" / "final_input" / "a.jpg", jpeg_bytes(photo())
    )
    write_settled(harness.final_input("GOOD_1") / "a.jpg", jpeg_bytes(photo()))
    result = harness.tick()
    assert [r.partition_key for r in result.run_requests] == ["GOOD_1"]
    assert harness.instance.get_dynamic_partitions("pix_jobs") == ["GOOD_1"]
    assert harness.registry.listing_states().keys() == {"GOOD_1"}


def test_many_jobs_get_one_run_each(harness: Harness):
    for job_id in ("JOB_A", "JOB_B", "JOB_C"):
        write_settled(harness.final_input(job_id) / "a.jpg", jpeg_bytes(photo((320, 240))))
    result = harness.tick()
    assert sorted(r.partition_key for r in result.run_requests) == ["JOB_A", "JOB_B", "JOB_C"]
    assert len({r.run_key for r in result.run_requests}) == 3


def test_provenance_from_the_user_source_attribute(harness: Harness):
    folder = harness.final_input(JOB)
    mine = write_settled(folder / "daniel.jpg", jpeg_bytes(photo((320, 240), seed=1)))
    odd = write_settled(folder / "odd.jpg", jpeg_bytes(photo((320, 240), seed=2)))
    write_settled(folder / "editor.jpg", jpeg_bytes(photo((320, 240), seed=3)))
    try:
        os.setxattr(mine, "user.source", b"manual")
        os.setxattr(odd, "user.source", b"intern")
    except OSError as exc:
        pytest.skip(f"this filesystem keeps no user.* extended attributes: {exc}")
    for path in (mine, odd):
        age(path)
    harness.tick()
    rows = rows_by_name(harness)
    assert (rows["daniel.jpg"].source, rows["daniel.jpg"].status) == (
        "manual",
        "pending_processing",
    )
    assert rows["editor.jpg"].source == "editor"
    assert rows["odd.jpg"].status == "error"
    assert rows["odd.jpg"].error_message == (
        "final_input/odd.jpg: unknown source 'intern' (expected 'editor' or 'manual')"
    )


@pytest.mark.parametrize(
    ("provider", "status"),
    [("none", "not_checked"), ("pix_pipeline_tests.providers:LumaDepth", "done")],
)
def test_enabled_depth_step_runs_its_provider(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, provider: str, status: str
):
    monkeypatch.setenv("PIX_DEPTH_ENABLED", "true")
    monkeypatch.setenv("PIX_DEPTH_PROVIDER", provider)
    h = Harness(harness.root, harness.instance)
    write_settled(h.final_input(JOB) / "room.jpg", jpeg_bytes(photo((2000, 1500), seed=1)))
    h.tick_and_run()
    row = rows_by_name(h)["room.jpg"]
    meta = h.read_json(JOB, f"pipeline/meta/images/{row.image_id}.json")
    assert row.status == "processed"
    assert meta["depth"]["status"] == status
    depth_file = h.job_path(JOB, f"pipeline/depth/{row.image_id}.png")
    if status == "done":
        assert meta["depth"]["depth_key"] == f"pix-jobs/{JOB}/pipeline/depth/{row.image_id}.png"
        assert Image.open(depth_file).size == (1600, 1200)
    else:
        assert not depth_file.exists()
    h.close()


def test_a_tick_over_unchanged_jobs_reads_no_image_rows(harness: Harness):
    """Database work follows the changes: unchanged listings cost a few statements in all."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    for job_id in ("QUIET1", "QUIET2", "QUIET3"):
        for i in range(3):
            write_settled(harness.final_input(job_id) / f"{i}.jpg", jpeg_bytes(photo((64, 48))))
    harness.tick_and_run()
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        harness.tick()
        quiet = list(statements)
        statements.clear()
        write_settled(harness.final_input("QUIET2") / "new.jpg", jpeg_bytes(photo((64, 48))))
        harness.tick()
        busy = list(statements)
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert not [s for s in quiet if "FROM images" in s], quiet
    assert len([s for s in quiet if not s.lstrip().upper().startswith(("PRAGMA", "SELECT 1"))]) < 12
    # The changed job alone is read and written.
    assert [s for s in busy if "FROM images" in s]
    assert "new.jpg" in {r.filename for r in harness.registry.images_of_job("QUIET2")}
