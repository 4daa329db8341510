"""Redaction ("Unkenntlich machen") through the desk and the real processing run: what
Daniel decides is recorded, and the gallery sync obscures it in every customer file.

The desk's job is processed once per test process; each test works on its own copy of it
(the desk's `rig` fixture), so the tests stay fast and independent.
"""

import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pix_pipeline.desk import words
from pix_pipeline.domain import layout
from pix_pipeline.domain.gallery import sync_gallery
from pix_pipeline.domain.models import Box, GalleryStatus, GalleryVisibility
from pix_pipeline.domain.release import (
    REDACTIONS_TO_CONFIRM,
    Refusal,
    release_gallery,
    revoke_gallery,
)
from pix_pipeline.domain.review import release_check
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.desk.rig import JOB, Rig, plain
from pix_pipeline_tests.images import write_settled
from pix_pipeline_tests.providers import ColourCodedPrivacy

AREA = Box(x0=0.1, y0=0.5, x1=0.3, y1=0.75)
SIZES = (layout.ThumbSize.SMALL, layout.ThumbSize.LARGE)


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def assert_obscured(copy: bytes, original: bytes, box: Box, where: str) -> None:
    """Inside the area the copy is flat and differs from the original; outside the area and
    its margin it looks the same."""
    new, old = pixels(copy), pixels(original)
    assert new.shape == old.shape, where
    h, w = old.shape[:2]
    # The middle of the area (away from the edges, where re-encoding blurs the fill's border).
    bw, bh = box.x1 - box.x0, box.y1 - box.y0
    inner = (
        slice(int((box.y0 + bh / 4) * h), int((box.y1 - bh / 4) * h)),
        slice(int((box.x0 + bw / 4) * w), int((box.x1 - bw / 4) * w)),
    )
    # Flat where the original has texture: nothing of what was there is left to read.
    assert new[inner].std(axis=(0, 1)).max() < 2 < 4 < old[inner].std(axis=(0, 1)).max(), where
    # Outside the area plus its 15 % margin and a few pixels of JPEG blocks.
    outside = np.ones((h, w), dtype=bool)
    mx, my = bw * 0.15 + 16 / w, bh * 0.15 + 16 / h
    outside[
        max(int((box.y0 - my) * h), 0) : int((box.y1 + my) * h) + 1,
        max(int((box.x0 - mx) * w), 0) : int((box.x1 + mx) * w) + 1,
    ] = False
    assert np.abs(new[outside] - old[outside]).mean() < 1.5, where


def customer_files(rig: Rig, name: str) -> list[tuple[str, bytes, bytes]]:
    """(where, customer file, its source) for the gallery image and both previews."""
    row = rig.rows()[name]
    job = rig.harness.job_path(JOB, "")
    root = rig.harness.root
    files = [(f"images/{name}", job / "gallery/images" / name, job / "final_input" / name)]
    for size in SIZES:
        thumb = root / layout.thumb_key(JOB, row.image_id, size)
        files.append(
            (f"previews/{size.value}/{name}", job / "gallery/previews" / size.value / name, thumb)
        )
    return [(where, copy.read_bytes(), source.read_bytes()) for where, copy, source in files]


def photo_page(rig: Rig, name: str) -> str:
    return f"/jobs/{JOB}/photos/{rig.rows()[name].image_id}"


def redact_door_finding(rig: Rig) -> None:
    page = rig.client.get(photo_page(rig, "door.jpg")).text
    [key] = re.findall(r'name="finding" value="([^"]+)"', page)
    done = rig.post(
        f"{photo_page(rig, 'door.jpg')}/redact", {"finding": key}, photo_page(rig, "door.jpg")
    )
    assert done.status_code == 303


def drag_area(rig: Rig, name: str, box: Box = AREA) -> None:
    values = {"x": box.x0, "y": box.y0, "w": box.x1 - box.x0, "h": box.y1 - box.y0}
    page = photo_page(rig, name)
    done = rig.post(f"{page}/redact-area", {k: f"{v:.4f}" for k, v in values.items()}, page)
    assert done.status_code == 303, done.text


def test_a_finding_and_a_dragged_area_are_obscured_in_the_customer_files_and_view(rig: Rig):
    rig.login()
    final_input = rig.harness.final_input(JOB)
    gallery = rig.harness.job_path(JOB, "gallery/images")
    # Nothing to obscure: the customer's copy decodes to the original's pixels.
    clean = (gallery / "clean.jpg").read_bytes()
    assert np.array_equal(pixels(clean), pixels((final_input / "clean.jpg").read_bytes()))
    # The default policy made the face unrecognisable already; Daniel does the house number
    # and drags a rectangle over the clean photo.
    redact_door_finding(rig)
    drag_area(rig, "clean.jpg")
    for name, box in (
        ("face.jpg", ColourCodedPrivacy.FACE),
        ("door.jpg", ColourCodedPrivacy.HOUSE_NUMBER),
        ("clean.jpg", AREA),
    ):
        for where, copy, source in customer_files(rig, name):
            assert_obscured(copy, source, box, where)
    recorded = rig.runtime.registry.redactions_of_job(JOB)
    rows = rig.rows()
    [face] = recorded[rows["face.jpg"].image_id]
    [door] = recorded[rows["door.jpg"].image_id]
    [area] = recorded[rows["clean.jpg"].image_id]
    assert (face.source, face.created_by, face.category) == ("policy", None, "faces")
    assert (door.source, door.created_by, door.category) == ("daniel", "daniel", "house_numbers")
    assert (door.finding_label, door.finding_text) == ("house_number", "17b")
    assert (area.source, area.category, area.finding_label) == ("daniel", "area", None)
    # The desk shows a redacted finding apart from an open one, and who did it.
    page = rig.client.get(photo_page(rig, "door.jpg")).text
    assert 'data-state="redacted"' in page and 'data-state="open"' not in page
    assert "Unkenntlich gemacht von daniel am" in page
    assert "Automatisch unkenntlich gemacht" in rig.client.get(photo_page(rig, "face.jpg")).text
    # The Kundenansicht: the internal 1600 px preview with the same areas, made for the desk
    # under pipeline/ (not read from gallery/); the internal preview itself stays as it is.
    image_id = rows["clean.jpg"].image_id
    internal = rig.client.get(f"/photos/{image_id}/1600")
    customer = rig.client.get(f"/photos/{image_id}/customer")
    assert customer.status_code == 200 and customer.headers["content-type"] == "image/jpeg"
    assert_obscured(customer.content, internal.content, AREA, "Kundenansicht")
    cached = list(rig.harness.job_path(JOB, "pipeline/customer_view").iterdir())
    assert [p.name.split("_")[0] for p in cached] == [image_id]
    thumb = rig.harness.root / layout.thumb_key(JOB, image_id, layout.ThumbSize.LARGE)
    assert internal.content == thumb.read_bytes()


def test_a_redacted_finding_needs_no_acknowledgement_and_a_later_change_waits_for_a_release(
    rig: Rig,
):
    rig.login()
    # The face is redacted by the policy: only the open house number holds the release.
    verdict = release_check(rig.runtime, JOB, approved_by="Daniel", acknowledged=False)
    assert verdict.refusal is Refusal.UNCHECKED_FINDINGS
    assert verdict.findings == {"door.jpg": ["text"]}
    door = photo_page(rig, "door.jpg")
    assert rig.post(f"{door}/redact", {"all": "1"}).status_code == 303
    assert release_check(rig.runtime, JOB, approved_by="Daniel", acknowledged=False).allowed
    assert rig.harness.release(JOB, approved_by="Daniel").success
    released = rig.harness.job_path(JOB, "gallery/images/door.jpg").read_bytes()
    # Undoing it after the release is a change the customer would see: pending, and the
    # customer's copy stays as released until Daniel releases again.
    [redaction] = rig.runtime.registry.redactions_of_job(JOB)[rig.rows()["door.jpg"].image_id]
    undone = rig.post(f"{door}/redactions/{redaction.id}/undo", {})
    assert undone.status_code == 303
    job = rig.runtime.registry.get_job(JOB)
    assert job is not None and job.gallery_status == GalleryStatus.UPDATE_PENDING
    assert rig.harness.job_path(JOB, "gallery/images/door.jpg").read_bytes() == released
    card = rig.client.get(f"/jobs/{JOB}").text
    assert "door.jpg: neue Fassung ersetzt die alte" in card
    assert rig.harness.release(JOB, approved_by="Daniel", acknowledge_privacy_findings=True).success
    after = rig.harness.job_path(JOB, "gallery/images/door.jpg").read_bytes()
    original = (rig.harness.final_input(JOB) / "door.jpg").read_bytes()
    assert np.array_equal(pixels(after), pixels(original))


def test_a_replaced_file_keeps_its_redactions_to_be_confirmed_before_a_release(rig: Rig):
    rig.login()
    drag_area(rig, "clean.jpg")
    door = rig.rows()["door.jpg"].image_id
    rig.post(f"/jobs/{JOB}/photos/{door}/checked", {"checked": "1"})
    assert release_check(rig.runtime, JOB, approved_by="Daniel", acknowledged=False).allowed
    write_settled(rig.harness.final_input(JOB) / "clean.jpg", plain(42))
    rig.harness.tick()
    assert rig.harness.run(JOB).success
    verdict = release_check(rig.runtime, JOB, approved_by="Daniel", acknowledged=False)
    assert verdict.findings == {"clean.jpg": [REDACTIONS_TO_CONFIRM]}
    # The area stays in the customer's copy of the new file meanwhile.
    for where, copy, source in customer_files(rig, "clean.jpg"):
        assert_obscured(copy, source, AREA, where)
    page = rig.client.get(photo_page(rig, "clean.jpg")).text
    assert words.T.to_confirm_title in page
    [area] = rig.runtime.registry.redactions_of_job(JOB)[rig.rows()["clean.jpg"].image_id]
    confirmed = rig.post(
        f"{photo_page(rig, 'clean.jpg')}/redactions/{area.id}/confirm",
        {},
        photo_page(rig, "clean.jpg"),
    )
    assert confirmed.status_code == 303
    assert release_check(rig.runtime, JOB, approved_by="Daniel", acknowledged=False).allowed


def test_a_new_metadata_rule_reaches_a_released_gallery_without_a_release(rig: Rig, monkeypatch):
    assert rig.harness.release(JOB, approved_by="Daniel", acknowledge_privacy_findings=True).success
    assert {r.gallery_rendition for r in rig.rows().values() if r.gallery_hash} == {"minimal/1"}
    monkeypatch.setenv("PIX_CUSTOMER_METADATA", "none")
    runtime = build_runtime(load_settings())
    try:
        report = sync_gallery(runtime, JOB)
    finally:
        runtime.close()
    assert report.pending_changes == []
    job = rig.runtime.registry.get_job(JOB)
    assert job is not None
    assert (job.gallery_status, job.gallery_visibility) == (
        GalleryStatus.DRAFT_READY,
        GalleryVisibility.CUSTOMER,
    )
    assert {r.gallery_rendition for r in rig.rows().values() if r.gallery_hash} == {"none/1"}


def test_the_area_form_without_javascript_refuses_numbers_outside_the_photo(rig: Rig):
    page = photo_page(rig, "clean.jpg")
    image_id = rig.rows()["clean.jpg"].image_id
    assert rig.client.get(f"/photos/{image_id}/customer").status_code == 401
    rig.login()
    # Every redaction form needs its token (CSRF), like every other change.
    for path, data in (
        (f"{page}/redact-area", {"x": "0.1", "y": "0.1", "w": "0.2", "h": "0.2"}),
        (f"{page}/redact", {"all": "1"}),
        (f"{page}/redactions/1/undo", {}),
    ):
        answer = rig.client.post(path, data=data, follow_redirects=False)
        assert answer.status_code == 403, path
    for values in (
        {"x": "abc", "y": "0.1", "w": "0.1", "h": "0.1"},
        {"x": "0.9", "y": "0.1", "w": "0.2", "h": "0.1"},
        {"x": "0.1", "y": "0.1", "w": "0", "h": "0.1"},
    ):
        refused = rig.post(f"{page}/redact-area", values, page)
        assert refused.status_code == 400
        assert words.T.area_invalid in refused.text
        assert f'value="{values["x"]}"' in refused.text
    assert rig.runtime.registry.redactions_of_job(JOB).get(rig.rows()["clean.jpg"].image_id) is None


def test_a_photo_that_cannot_be_rendered_is_an_error_on_the_desk_not_a_failed_sync(rig: Rig):
    rig.login()
    row = rig.rows()["clean.jpg"]
    thumb = rig.harness.root / layout.thumb_key(JOB, row.image_id, layout.ThumbSize.LARGE)
    thumb.write_bytes(b"\xff\xd8\xff\xe1\xff\xffbroken")
    drag_area(rig, "clean.jpg")  # the desk's sync renders the photo again, and fails on it
    assert rig.rows()["clean.jpg"].rendition_error
    assert rig.rows()["door.jpg"].gallery_hash is not None
    card = rig.client.get(f"/jobs/{JOB}").text
    assert words.T.rendition_failed in card
    assert not Path(rig.harness.job_path(JOB, "gallery/images/clean.jpg")).exists()


class Tally:
    """Counts calls of a real registry's or storage's methods (the calls still run)."""

    def __init__(self, mp: pytest.MonkeyPatch, target: object, names: Sequence[str]) -> None:
        self.calls: Counter[str] = Counter()
        self.keys: Counter[str] = Counter()
        for name in names:
            mp.setattr(target, name, self._counted(name, getattr(target, name)))

    def _counted(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if args and isinstance(args[0], str):
                self.keys[f"{name} {args[0]}"] += 1
            return method(*args, **kwargs)

        return call


ROW_LOADS = ("get_job", "images_of_job", "redactions_of_job", "semantic_values", "step_results")


def counted(
    rig: Rig, mp: pytest.MonkeyPatch, action: Callable[[], object]
) -> tuple[Counter[str], Counter[str]]:
    """Run `action` on the real registry and storage, counting the registry's row loads and
    the storage's reads and writes per key."""
    with mp.context() as counting:
        loads = Tally(counting, rig.runtime.registry, ROW_LOADS)
        files = Tally(counting, rig.runtime.storage, ("read_bytes", "write_bytes"))
        action()
    return loads.calls, files.keys


def counted_release(rig: Rig, mp: pytest.MonkeyPatch) -> tuple[Counter[str], Counter[str]]:
    return counted(
        rig,
        mp,
        lambda: release_gallery(
            rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=True
        ),
    )


def test_a_release_reads_the_rows_once_and_writes_each_file_once(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
):
    rig.login()
    drag_area(rig, "clean.jpg")
    once = Counter({"get_job": 1, "images_of_job": 1, "redactions_of_job": 1})
    loads, files = counted_release(rig, monkeypatch)
    assert loads == once
    assert [key for key, n in files.items() if n > 1] == []
    # An update of a released gallery: a new area is rendered into the customer's files.
    drag_area(rig, "door.jpg")
    loads, files = counted_release(rig, monkeypatch)
    assert loads == once
    assert [key for key, n in files.items() if n > 1] == []
    written = {key.split(" ", 1)[1] for key in files if key.startswith("write_bytes")}
    door = [layout.gallery_image_key(JOB, "door.jpg")]
    door += [layout.gallery_preview_key(JOB, "door.jpg", size) for size in SIZES]
    assert written == set(door)
    # A revoke reads the job to decide, and once more after it changed it, for its sync.
    loads, files = counted(
        rig, monkeypatch, lambda: revoke_gallery(rig.runtime, JOB, revoked_by="Daniel")
    )
    assert loads == once + Counter({"get_job": 1})
    assert [key for key, n in files.items() if n > 1] == []
