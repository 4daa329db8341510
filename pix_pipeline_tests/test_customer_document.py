"""gallery/expose.json is the customer's document: only the gallery's photos, files under
gallery/ only, no internal data; and only a change the customer would see makes a released
job update_pending. Asserted on the real files after real runs.

Every test runs on SQLite and on the real PostgreSQL server (see conftest.database_url).
"""

import ast
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import pix_pipeline.domain
from pix_pipeline.domain.photos import shows_in_gallery
from pix_pipeline.domain.review import hide_photo
from pix_pipeline.domain.schemas import DEFAULT_FOLDER
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, png_bytes, write_settled

JOB = "HOUSE1"
# Every key the customer's document may hold, at any depth.
CUSTOMER_KEYS = {
    "schema_version",
    "cover_image_id",
    "job_id",
    "image_count",
    "images",
    "captions",
    "room_types",
    "view_types",
    "image_id",
    "filename",
    "file",
    "width",
    "height",
    "preview_small",
    "preview_large",
    "caption_short",
    "caption_long",
    "room_type",
    "view_type",
    "objects",
}


@pytest.fixture
def house(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    """A harness whose photos all show a face and a readable house number, with captions."""
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "pix_pipeline_tests.providers:HouseNumberEverywhere")
    monkeypatch.setenv("PIX_SEMANTICS_PROVIDER", "pix_pipeline_tests.providers:FixedSemantics")
    h = Harness(harness.root, harness.instance)
    yield h
    h.close()


def deliver(h: Harness, name: str, data: bytes) -> None:
    write_settled(h.final_input(JOB) / name, data, 60)


def good(seed: int, size: tuple[int, int] = (900, 600)) -> bytes:
    return jpeg_bytes(photo(size, seed=seed))


def released_job(h: Harness) -> None:
    """Two good photos, a PNG under a JPEG name and an empty file; released by Daniel."""
    deliver(h, "IMG_0.jpg", good(0))
    deliver(h, "IMG_1.jpg", good(1))
    deliver(h, "screenshot.jpg", png_bytes())
    deliver(h, "empty.jpg", b"")
    h.tick_and_run()
    assert h.release(JOB, acknowledge_privacy_findings=True).success
    assert state(h) == ("draft_ready", "customer")


def state(h: Harness) -> tuple[str, str]:
    job = h.registry.get_job(JOB)
    assert job is not None
    return job.gallery_status, job.gallery_visibility


def gallery_files(h: Harness) -> dict[str, bytes]:
    """Every file under gallery/, by its path relative to gallery/."""
    root = h.job_path(JOB, "gallery")
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = set(value)
        for key, inner in value.items():
            # room_types / view_types map a type to file names: the type is data, not a field.
            if key not in ("room_types", "view_types"):
                found |= keys(inner)
        return found
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value)) if value else set()
    return set()


def draft_events(h: Harness) -> list[dict[str, Any]]:
    return [n.payload for n in h.registry.notifications(JOB) if n.kind == "gallery.draft_ready"]


def test_the_customers_document_holds_no_internal_data_after_broken_files_and_findings(
    house: Harness,
):
    h = house
    released_job(h)
    deliver(h, "gone.jpg", good(5))
    h.tick_and_run()
    assert h.release(JOB, acknowledge_privacy_findings=True).success
    (h.final_input(JOB) / "gone.jpg").unlink()
    deliver(h, "late_broken.jpg", png_bytes((32, 32)))
    h.tick_and_run()
    assert state(h) == ("update_pending", "customer")  # the removal waits for a release
    assert h.release(JOB, acknowledge_privacy_findings=True).success

    internal = h.job_path(JOB, "pipeline/meta/job_expose.json").read_text(encoding="utf-8")
    text = h.job_path(JOB, "gallery/expose.json").read_text(encoding="utf-8")
    document = json.loads(text)
    rows = h.registry.images_of_job(JOB)
    hashes = [r.content_hash for r in rows if r.content_hash]
    forbidden = [
        "final_input",
        "pipeline/",
        "pix-jobs/",
        "Musterstraße",  # text the OCR read
        "house number",
        "test-house-number",  # provider names and versions
        "test-fixed",
        "test-ocr-7",
        "thresholds",
        "text_min_score",
        "privacy",
        "provider",
        "error",
        "PNG data",
        "empty file",
        "screenshot.jpg",
        "empty.jpg",
        "late_broken.jpg",
        "gone.jpg",
        "sha256",
        *hashes,
    ]
    # The internal document does carry what the customer's must not: the check can fail.
    assert "Musterstraße" in internal and "screenshot.jpg" in internal and hashes[0] in internal
    assert [item for item in forbidden if item in text] == []
    assert keys(document) <= CUSTOMER_KEYS
    jsonschema.validate(
        document,
        json.loads((DEFAULT_FOLDER / "gallery_expose.schema.json").read_text(encoding="utf-8")),
    )
    assert [p["filename"] for p in document["images"]] == ["IMG_0.jpg", "IMG_1.jpg"]
    assert document["image_count"] == 2
    assert document["room_types"] == {"kitchen": ["IMG_0.jpg", "IMG_1.jpg"]}
    assert [c["caption_short"] for c in document["captions"]] == ["Bright kitchen"] * 2
    files = gallery_files(h)
    named = [
        path
        for p in document["images"]
        for path in (p["file"], p["preview_small"]["file"], p["preview_large"]["file"])
    ]
    # The document names exactly the files under gallery/ besides itself.
    assert sorted(named) == sorted(f for f in files if f != "expose.json")


def test_photos_not_shown_in_the_gallery_never_reach_the_customer(harness: Harness):
    """Failed, removed and hidden photos have no file under gallery/ and no entry in the
    customer's document: shows_in_gallery decides for all of them."""
    h = harness
    deliver(h, "IMG_0.jpg", good(0))
    deliver(h, "IMG_1.jpg", good(1))
    deliver(h, "removed.jpg", good(2))
    deliver(h, "hidden.jpg", good(3))
    deliver(h, "screenshot.jpg", png_bytes())
    h.tick_and_run()
    (h.final_input(JOB) / "removed.jpg").unlink()
    h.tick_and_run()
    hidden = {r.filename: r for r in h.registry.images_of_job(JOB)}["hidden.jpg"]
    assert hidden.status == "processed" and gallery_files(h)  # in the draft until Daniel hides it
    rt = build_runtime(load_settings())
    try:
        assert hide_photo(rt, JOB, hidden.image_id, hidden=True, by="Daniel")
    finally:
        rt.close()
    h.tick_and_run()  # a later run keeps it out as well

    rows = h.registry.images_of_job(JOB)
    withheld = [r for r in rows if not shows_in_gallery(r)]
    assert {r.filename for r in withheld} == {"removed.jpg", "screenshot.jpg", "hidden.jpg"}
    text = h.job_path(JOB, "gallery/expose.json").read_text(encoding="utf-8")
    files = gallery_files(h)
    for row in withheld:
        assert row.filename not in text and row.image_id not in text
        assert [f for f in files if row.filename in f] == []
    shown = sorted(r.filename for r in rows if shows_in_gallery(r))
    assert (
        [p["filename"] for p in json.loads(text)["images"]] == shown == ["IMG_0.jpg", "IMG_1.jpg"]
    )


def test_a_broken_file_added_after_a_release_does_not_make_the_job_update_pending(
    house: Harness,
):
    h = house
    released_job(h)
    before = gallery_files(h)
    internal = h.job_path(JOB, "pipeline/meta/job_expose.json").read_bytes()
    events = draft_events(h)

    deliver(h, "broken.jpg", png_bytes((48, 48)))
    deliver(h, "truncated.jpg", good(7)[:900])
    h.tick_and_run()

    rows = {r.filename: r for r in h.registry.images_of_job(JOB)}
    assert rows["broken.jpg"].status == rows["truncated.jpg"].status == "error"
    assert h.job_path(JOB, "pipeline/meta/job_expose.json").read_bytes() != internal
    assert state(h) == ("draft_ready", "customer")
    assert gallery_files(h) == before
    assert draft_events(h) == events  # nothing for Daniel to release


def test_a_failed_rerun_of_a_released_photo_keeps_it_and_nothing_is_pending(house: Harness):
    h = house
    released_job(h)
    before = gallery_files(h)
    deliver(h, "IMG_0.jpg", png_bytes((80, 60)))  # the editor's new version is broken
    h.tick_and_run()
    assert {r.filename: r.status for r in h.registry.images_of_job(JOB)}["IMG_0.jpg"] == "error"
    assert state(h) == ("draft_ready", "customer")
    assert gallery_files(h) == before

    # A release for other changes takes the failed photo out, and says so.
    deliver(h, "IMG_2.jpg", good(2))
    h.tick_and_run()
    assert state(h) == ("update_pending", "customer")
    release = h.release(JOB, acknowledge_privacy_findings=True)
    assert release.success
    [output] = [e for e in release.all_events if e.event_type_value == "STEP_OUTPUT"]
    applied = output.step_output_data.metadata["changes_applied"].value
    assert "add IMG_2.jpg" in applied and "remove IMG_0.jpg (error)" in applied
    after = gallery_files(h)
    assert not [f for f in after if "IMG_0.jpg" in f]
    document = json.loads(after["expose.json"])
    assert [p["filename"] for p in document["images"]] == ["IMG_1.jpg", "IMG_2.jpg"]


def test_an_internal_only_change_leaves_a_released_gallery_as_it_is(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
):
    h = harness
    released_job(h)
    before = gallery_files(h)
    internal = h.job_path(JOB, "pipeline/meta/job_expose.json").read_bytes()
    # Another privacy check finds faces and house numbers: internal data only.
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "pix_pipeline_tests.providers:HouseNumberEverywhere")
    changed = Harness(h.root, h.instance)
    try:
        assert changed.run(JOB).success
        assert h.job_path(JOB, "pipeline/meta/job_expose.json").read_bytes() != internal
        assert state(changed) == ("draft_ready", "customer")
        assert gallery_files(changed) == before
    finally:
        changed.close()


@pytest.mark.parametrize("change", ["new", "changed", "removed"])
def test_a_new_changed_or_removed_photo_makes_a_released_job_pending(harness: Harness, change: str):
    h = harness
    released_job(h)
    before = gallery_files(h)
    thumbs_before = {p.name: p.read_bytes() for p in h.job_path(JOB, "pipeline/thumbs").iterdir()}
    if change == "new":
        deliver(h, "IMG_9.jpg", good(9))
    elif change == "changed":
        deliver(h, "IMG_0.jpg", good(42, (600, 900)))
    else:
        (h.final_input(JOB) / "IMG_1.jpg").unlink()
    h.tick_and_run()
    assert state(h) == ("update_pending", "customer")
    assert gallery_files(h) == before  # waiting for Daniel, previews included
    [event] = [e for e in draft_events(h) if e["update_pending"]]
    assert event["job_id"] == JOB and event["release_number"] == 1
    if change == "changed":
        # The pipeline's previews follow the new version at once; the customer's do not.
        thumbs = {p.name: p.read_bytes() for p in h.job_path(JOB, "pipeline/thumbs").iterdir()}
        assert thumbs != thumbs_before

    assert h.release(JOB).success
    after = gallery_files(h)
    rows = {r.filename: r for r in h.registry.images_of_job(JOB)}
    if change == "new":
        assert "images/IMG_9.jpg" in after and "previews/1600/IMG_9.jpg" in after
    elif change == "changed":
        data = after["images/IMG_0.jpg"]
        assert hashlib.sha256(data).hexdigest() == rows["IMG_0.jpg"].content_hash
        thumb = h.job_path(JOB, f"pipeline/thumbs/{rows['IMG_0.jpg'].image_id}_400.jpg")
        assert after["previews/400/IMG_0.jpg"] == thumb.read_bytes()
        entry = json.loads(after["expose.json"])["images"][0]
        assert (entry["width"], entry["height"]) == (600, 900)
    else:
        assert not [f for f in after if "IMG_1.jpg" in f]
    assert state(h) == ("draft_ready", "customer")


def test_a_draft_announces_itself_when_it_first_becomes_ready_and_when_it_changes(
    harness: Harness,
):
    h = harness
    deliver(h, "broken.jpg", png_bytes())
    h.tick_and_run()
    assert draft_events(h) == []  # no photo: no draft
    deliver(h, "IMG_0.jpg", good(0))
    h.tick_and_run()
    assert draft_events(h) == [
        {
            "job_id": JOB,
            "image_count": 1,
            "update_pending": False,
            "expose_key": f"pix-jobs/{JOB}/gallery/expose.json",
            "release_number": 0,
        }
    ]
    assert h.run(JOB).success  # nothing changed: no event
    assert len(draft_events(h)) == 1
    # A change while the event waits for quiet is folded into it ...
    deliver(h, "IMG_1.jpg", good(1))
    h.tick_and_run()
    assert [e["image_count"] for e in draft_events(h)] == [2]
    # ... and once it went out, the next change is a new event, later in the job's sequence.
    h.make_notifications_due()
    h.outbox_tick()
    deliver(h, "IMG_2.jpg", good(2))
    h.tick_and_run()
    assert [e["image_count"] for e in draft_events(h)] == [2, 3]
    drafts = [n for n in h.registry.notifications(JOB) if n.kind == "gallery.draft_ready"]
    assert [n.status for n in drafts] == ["sent", "pending"]
    assert drafts[0].sequence < drafts[1].sequence
    assert len({n.webhook_id for n in drafts}) == 2


def test_releasing_a_draft_queues_gallery_released_and_no_draft_event(harness: Harness):
    h = harness
    deliver(h, "IMG_0.jpg", good(0))
    h.tick_and_run()
    # A draft whose document an older version wrote: the release rewrites it.
    h.registry.update_job(JOB, gallery_expose_hash="0" * 64)
    before = draft_events(h)
    assert h.release(JOB, acknowledge_privacy_findings=True).success
    assert draft_events(h) == before
    kinds = [n.kind for n in h.registry.notifications(JOB)]
    assert kinds.count("gallery.released") == 1


def domain_imports(module: str) -> tuple[set[str], set[str]]:
    """(modules a domain module imports at its top, those it imports inside a function)."""
    source = (Path(pix_pipeline.domain.__file__).parent / f"{module}.py").read_text("utf-8")
    top: set[str] = set()
    inner: set[str] = set()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = {node.module} | {f"{node.module}.{a.name}" for a in node.names}
            (top if node in tree.body else inner).update(names)
    return top, inner


def test_the_documents_gallery_and_release_import_no_module_of_each_other_in_a_circle():
    """The job document and the gallery share their rules through domain/photos, so each is
    imported at the top of the module that uses it, never inside a function to dodge a circle."""
    for module in ("photos", "expose", "gallery", "release", "review"):
        top, inner = domain_imports(module)
        assert not {name for name in inner if name.startswith("pix_pipeline")}, module
    for module in ("photos", "expose"):
        top, _ = domain_imports(module)
        assert not top & {"pix_pipeline.domain.gallery", "pix_pipeline.domain.release"}, module
    assert "pix_pipeline.domain.expose" in domain_imports("gallery")[0]
