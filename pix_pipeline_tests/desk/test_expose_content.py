"""Daniel's exposé content through the real desk and the real pipeline: his fields outrank the
provider's in both documents and survive reruns and replaced files; his order and cover reach
the customer's document; only what the customer sees makes a released gallery pending."""

import pytest

from pix_pipeline.domain.curation import set_room_type_of
from pix_pipeline.domain.release import release_gallery
from pix_pipeline.domain.review import check_photo, release_check
from pix_pipeline_tests.desk.rig import JOB, Rig, csrf, plain
from pix_pipeline_tests.images import write_settled
from pix_pipeline_tests.providers import FixedSemantics

FIXED = "pix_pipeline_tests.providers:FixedSemantics"


@pytest.fixture
def privacy_provider(pix_root, monkeypatch: pytest.MonkeyPatch) -> str:
    """The rig's job, described by a semantics provider that calls every photo a kitchen."""
    monkeypatch.setenv("PIX_SEMANTICS_PROVIDER", FIXED)
    FixedSemantics.hints_seen.clear()
    return "pix_pipeline_tests.providers:ColourCodedPrivacy"


def customer(rig: Rig) -> dict:
    return rig.harness.read_json(JOB, "gallery/expose.json")


def internal(rig: Rig) -> dict:
    return rig.harness.read_json(JOB, "pipeline/meta/job_expose.json")


def by_name(document: dict) -> dict[str, dict]:
    return {photo["filename"]: photo for photo in document["images"]}


def status(rig: Rig) -> str:
    job = rig.runtime.registry.get_job(JOB)
    assert job is not None
    return job.gallery_status


def test_daniels_fields_outrank_the_provider_in_both_documents_and_survive_a_replaced_file(
    rig: Rig,
):
    rig.login()
    clean = rig.rows()["clean.jpg"].image_id
    assert by_name(customer(rig))["clean.jpg"]["caption_short"] == "Bright kitchen"
    saved = rig.post(
        f"/jobs/{JOB}/photos/{clean}/fields",
        {
            "room_type": "bathroom",
            "view_type": "interior",  # as the provider said: stays the provider's
            "caption_short": "Helles Bad mit Fenster",
            "caption_long": "Das Bad hat ein Fenster und eine Dusche.",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith(f"#photo-{clean}")

    photo = by_name(customer(rig))["clean.jpg"]
    assert (photo["room_type"], photo["caption_short"]) == ("bathroom", "Helles Bad mit Fenster")
    assert "source" not in photo and "set_by" not in str(customer(rig))
    assert customer(rig)["room_types"]["bathroom"] == ["clean.jpg"]
    fields = next(i for i in internal(rig)["images"] if i["filename"] == "clean.jpg")["fields"]
    assert fields["room_type"]["source"] == "daniel" and fields["room_type"]["set_by"] == "daniel"
    assert fields["view_type"]["source"] == FixedSemantics.identity
    assert fields["caption_long"]["value"] == "Das Bad hat ein Fenster und eine Dusche."

    # Released, then the file is replaced: the provider describes it anew as a kitchen.
    for name in ("face.jpg", "door.jpg"):
        check_photo(rig.runtime.registry, JOB, rig.rows()[name].image_id, checked=True, by="d")
    release_gallery(rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=False)
    calls = len(FixedSemantics.hints_seen)
    write_settled(rig.harness.final_input(JOB) / "clean.jpg", plain(99))
    rig.harness.tick_and_run()
    assert len(FixedSemantics.hints_seen) == calls + 1  # the provider ran again ...
    hint = FixedSemantics.hints_seen[-1]
    assert hint is not None and hint.caption_short == "Helles Bad mit Fenster"  # ... with a hint
    fields = next(i for i in internal(rig)["images"] if i["filename"] == "clean.jpg")["fields"]
    assert fields["room_type"]["value"] == "bathroom" and fields["room_type"]["source"] == "daniel"
    # The new version waits for a release, and Daniel's values do not hold it.
    assert status(rig) == "update_pending"
    assert release_check(rig.runtime, JOB, approved_by="Daniel", acknowledged=False).allowed
    release_gallery(rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=False)
    assert by_name(customer(rig))["clean.jpg"]["caption_short"] == "Helles Bad mit Fenster"

    # Cleared, the field goes back to the provider (a customer-visible change: pending).
    rig.post(f"/jobs/{JOB}/photos/{clean}/fields", {"caption_short": ""})
    fields = next(i for i in internal(rig)["images"] if i["filename"] == "clean.jpg")["fields"]
    assert fields["caption_short"]["value"] == "Bright kitchen"
    assert fields["caption_short"]["source"] == FixedSemantics.identity
    assert status(rig) == "update_pending"
    # A run without changes keeps every value of Daniel's.
    assert rig.harness.run(JOB).success
    assert (
        fields == next(i for i in internal(rig)["images"] if i["filename"] == "clean.jpg")["fields"]
    )


def test_order_and_cover_reach_the_customer_and_only_visible_changes_are_pending(rig: Rig):
    rig.login()
    rows = rig.rows()
    assert [p["filename"] for p in customer(rig)["images"]] == ["clean.jpg", "door.jpg", "face.jpg"]
    later = rig.post(f"/jobs/{JOB}/photos/{rows['clean.jpg'].image_id}/move", {"offset": "1"})
    assert later.status_code == 303
    cover = rig.post(f"/jobs/{JOB}/cover", {"image_id": rows["face.jpg"].image_id})
    assert cover.status_code == 303
    document = customer(rig)
    assert [p["filename"] for p in document["images"]] == ["door.jpg", "clean.jpg", "face.jpg"]
    assert document["cover_image_id"] == rows["face.jpg"].image_id
    assert internal(rig)["cover_image_id"] == rows["face.jpg"].image_id

    release_gallery(rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=True)
    assert status(rig) == "draft_ready"
    # Daniel takes over the provider's room type unchanged: only who and when change.
    assert set_room_type_of(rig.runtime, JOB, [rows["door.jpg"].image_id], "kitchen", by="d") == 1
    assert status(rig) == "draft_ready"
    # Several photos get one room type at once: the customer would see it.
    ids = [rows["door.jpg"].image_id, rows["clean.jpg"].image_id]
    bulk = rig.client.post(
        f"/jobs/{JOB}/room-type",
        data={
            "image_id": ids,
            "room_type": "bathroom",
            "csrftoken": csrf(rig.client.get(f"/jobs/{JOB}").text),
        },
        follow_redirects=False,
    )
    assert bulk.status_code == 303 and status(rig) == "update_pending"
    release_gallery(rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=True)
    assert customer(rig)["room_types"]["bathroom"] == ["door.jpg", "clean.jpg"]

    # A hidden cover keeps its place in the order but the customer sees no cover.
    rig.post(f"/jobs/{JOB}/photos/{rows['face.jpg'].image_id}/hidden", {"hidden": "1"})
    release_gallery(rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=True)
    assert customer(rig)["cover_image_id"] is None
    # A new photo comes after the ordered ones.
    write_settled(rig.harness.final_input(JOB) / "aaa.jpg", plain(7))
    rig.harness.tick_and_run()
    release_gallery(rig.runtime, JOB, approved_by="Daniel", acknowledge_privacy_findings=True)
    assert [p["filename"] for p in customer(rig)["images"]] == ["door.jpg", "clean.jpg", "aaa.jpg"]
