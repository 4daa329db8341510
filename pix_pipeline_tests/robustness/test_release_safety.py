"""Nothing reaches the customer without Daniel's release; a release queues exactly one
notification, and the outbox delivers it even when the receiver fails at first.

The expected table below is written out here, independently of `gallery_state.TRANSITIONS`:
every (state, event) pair is checked against it, through the registry's compare-and-set.
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from pix_pipeline.domain.gallery_state import (
    DRAFT,
    EMPTY,
    RELEASED,
    RELEASED_PENDING,
    STATES,
    ConcurrentTransition,
    GalleryEvent,
    GalleryState,
    IllegalTransition,
    next_state,
)
from pix_pipeline.registry.repository import JobChanges, Registry
from pix_pipeline.registry.schema import JobRow, NotificationRow
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.providers import FailsOnceNotifier

E = GalleryEvent
EXPECTED: dict[tuple[GalleryState, GalleryEvent], GalleryState | None] = {
    (EMPTY, E.DRAFT_SYNCED): DRAFT,
    (EMPTY, E.DRAFT_EMPTIED): EMPTY,
    (EMPTY, E.CHANGES_PENDING): None,
    (EMPTY, E.CHANGES_CLEARED): None,
    (EMPTY, E.RELEASE): None,
    (EMPTY, E.REVOKE): None,
    (DRAFT, E.DRAFT_SYNCED): DRAFT,
    (DRAFT, E.DRAFT_EMPTIED): EMPTY,
    (DRAFT, E.CHANGES_PENDING): None,
    (DRAFT, E.CHANGES_CLEARED): None,
    (DRAFT, E.RELEASE): RELEASED,
    (DRAFT, E.REVOKE): None,
    (RELEASED, E.DRAFT_SYNCED): None,
    (RELEASED, E.DRAFT_EMPTIED): None,
    (RELEASED, E.CHANGES_PENDING): RELEASED_PENDING,
    (RELEASED, E.CHANGES_CLEARED): RELEASED,
    (RELEASED, E.RELEASE): None,
    (RELEASED, E.REVOKE): DRAFT,
    (RELEASED_PENDING, E.DRAFT_SYNCED): None,
    (RELEASED_PENDING, E.DRAFT_EMPTIED): None,
    (RELEASED_PENDING, E.CHANGES_PENDING): RELEASED_PENDING,
    (RELEASED_PENDING, E.CHANGES_CLEARED): RELEASED,
    (RELEASED_PENDING, E.RELEASE): RELEASED,
    (RELEASED_PENDING, E.REVOKE): DRAFT,
}
CASES = [(state, event) for state in STATES for event in GalleryEvent]


def label(case: tuple[GalleryState, GalleryEvent]) -> str:
    (status, visibility), event = case
    return f"{status.value}/{visibility.value}-{event.value}"


def test_the_table_covers_every_state_and_event():
    assert set(EXPECTED) == set(CASES)


def test_only_a_release_makes_a_gallery_customer_visible():
    for state, event in CASES:
        try:
            target = next_state(state, event)
        except IllegalTransition:
            continue
        if state[1].value == "internal" and target[1].value == "customer":
            assert event is GalleryEvent.RELEASE


def put_in_state(registry: Registry, job_id: str, state: GalleryState) -> None:
    """Place the row in a state directly: the test's own setup, not a pipeline path."""
    with registry.session() as s:
        s.execute(
            update(JobRow)
            .where(JobRow.job_id == job_id)
            .values(gallery_status=state[0].value, gallery_visibility=state[1].value)
        )


def stored_state(registry: Registry, job_id: str) -> tuple[str, str]:
    job = registry.get_job(job_id)
    assert job is not None
    return job.gallery_status, job.gallery_visibility


@pytest.mark.parametrize("case", CASES, ids=label)
def test_each_transition_through_the_registry(
    registry: Registry, case: tuple[GalleryState, GalleryEvent]
):
    state, event = case
    registry.apply_changes(JobChanges("J1", new=[]))
    put_in_state(registry, "J1", state)
    expected = EXPECTED[case]
    if expected is None:
        with pytest.raises(IllegalTransition):
            next_state(state, event)
        with pytest.raises(IllegalTransition):
            registry.transition_gallery("J1", event)
        assert stored_state(registry, "J1") == (state[0].value, state[1].value)
    else:
        assert registry.transition_gallery("J1", event) == (state, expected)
        assert stored_state(registry, "J1") == (expected[0].value, expected[1].value)


def test_plain_job_updates_cannot_touch_the_gallery_state(registry: Registry):
    registry.apply_changes(JobChanges("J1", new=[]))
    with pytest.raises(ValueError, match="transition_gallery"):
        registry.update_job("J1", gallery_visibility="customer")
    assert stored_state(registry, "J1") == ("none", "internal")


def test_two_releases_racing_release_once_and_queue_one_notification(database_url: str):
    setup = Registry.from_url(database_url)
    setup.apply_changes(JobChanges("J1", new=[]))
    setup.transition_gallery("J1", GalleryEvent.DRAFT_SYNCED)
    registries = [Registry.from_url(database_url) for _ in range(4)]
    barrier = threading.Barrier(len(registries))
    outcomes: list[str] = []

    def release(registry: Registry) -> None:
        barrier.wait()
        try:
            registry.record_release(job_id="J1", approved_by="Daniel", note="", payload={})
            outcomes.append("released")
        except (ConcurrentTransition, IllegalTransition) as exc:
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=release, args=(r,)) for r in registries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("released") == 1, outcomes
    assert len(setup.notifications("J1")) == 1
    job = setup.get_job("J1")
    assert job is not None and (job.release_count, job.gallery_visibility) == (1, "customer")
    for registry in [setup, *registries]:
        registry.dispose()


def kinds(harness: Harness, job_id: str) -> list[str]:
    return [n.kind for n in harness.registry.notifications(job_id)]


def released(harness: Harness, job_id: str) -> NotificationRow:
    rows = [n for n in harness.registry.notifications(job_id) if n.kind == "gallery.released"]
    assert len(rows) == 1
    return rows[0]


def make_due(registry: Registry, notification_id: int) -> None:
    """Move the next attempt to now: the backoff's wait, without sleeping through it."""
    with registry.session() as s:
        s.execute(
            update(NotificationRow)
            .where(NotificationRow.id == notification_id)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )


def deliver_two_photos(harness: Harness, job_id: str) -> None:
    for i in range(2):
        write_settled(
            harness.final_input(job_id) / f"IMG_{i}.jpg", jpeg_bytes(photo((320, 240), seed=i))
        )
    harness.tick_and_run()


def test_privacy_findings_block_a_release_until_acknowledged(
    pix_root, monkeypatch: pytest.MonkeyPatch
):
    import dagster as dg

    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "pix_pipeline_tests.providers:FacesEverywhere")
    # Without the redaction policy: a face it obscured would be handled, not a finding to check.
    monkeypatch.setenv("PIX_REDACT_AUTO", "none")
    with dg.instance_for_test() as instance:
        harness = Harness(pix_root, instance)
        try:
            deliver_two_photos(harness, "FACES1")
            refused = harness.release("FACES1", approved_by="Daniel")
            assert not refused.success
            message = refused.failure_data_for_node("release_job_gallery").error.message
            assert "2 image(s) of job FACES1 carry privacy findings" in message
            assert "IMG_0.jpg: faces" in message and "acknowledge_privacy_findings" in message
            assert stored_state(harness.registry, "FACES1") == ("draft_ready", "internal")
            assert kinds(harness, "FACES1") == ["gallery.draft_ready"]

            released = harness.release(
                "FACES1",
                approved_by="Daniel",
                note="faces are the owners, agreed",
                acknowledge_privacy_findings=True,
            )
            assert released.success
            job = harness.registry.get_job("FACES1")
            assert job is not None
            assert (job.gallery_visibility, job.released_by, job.release_note) == (
                "customer",
                "Daniel",
                "faces are the owners, agreed",
            )
            assert kinds(harness, "FACES1") == ["gallery.draft_ready", "gallery.released"]
        finally:
            harness.close()


def test_a_release_whose_notification_fails_succeeds_and_the_outbox_delivers_it_once(
    pix_root, monkeypatch: pytest.MonkeyPatch
):
    import dagster as dg

    monkeypatch.setenv("PIX_NOTIFIER", "pix_pipeline_tests.providers:FailsOnceNotifier")
    with dg.instance_for_test() as instance:
        harness = Harness(pix_root, instance)
        try:
            deliver_two_photos(harness, "MAIL1")
            FailsOnceNotifier.attempts = 1  # the draft's event goes out at once
            harness.make_notifications_due()
            harness.outbox_tick()
            assert kinds(harness, "MAIL1") == ["gallery.draft_ready"]
            assert harness.registry.notifications("MAIL1")[0].status == "sent"
            FailsOnceNotifier.attempts = 0
            FailsOnceNotifier.delivered.clear()
            release = harness.release("MAIL1")
            assert release.success
            assert stored_state(harness.registry, "MAIL1") == ("draft_ready", "customer")
            messages = [e.user_message for e in instance.all_logs(release.run_id)]
            assert any("is queued: notification_outbox_sensor delivers it" in m for m in messages)

            first = harness.outbox_tick()
            assert "ConnectionError: mail server unreachable" in first.skip_reason.skip_message
            row = released(harness, "MAIL1")
            assert (row.status, row.attempts, row.error_message) == (
                "pending",
                1,
                "ConnectionError: mail server unreachable",
            )
            assert FailsOnceNotifier.delivered == []
            harness.outbox_tick()  # not due yet: the backoff holds it
            assert FailsOnceNotifier.attempts == 1
            make_due(harness.registry, row.id)
            harness.outbox_tick()
            harness.outbox_tick()
            assert len(FailsOnceNotifier.delivered) == 1
            row = released(harness, "MAIL1")
            assert (row.status, row.attempts) == ("sent", 2)
            third = harness.release("MAIL1")
            assert not third.success and len(FailsOnceNotifier.delivered) == 1
        finally:
            harness.close()


def test_revoke_takes_the_gallery_back_and_lets_pending_changes_into_the_draft(
    harness: Harness,
):
    deliver_two_photos(harness, "BACK1")
    assert harness.release("BACK1").success
    (harness.final_input("BACK1") / "IMG_1.jpg").unlink()
    harness.tick_and_run()
    assert stored_state(harness.registry, "BACK1") == ("update_pending", "customer")
    gallery = harness.job_path("BACK1", "gallery/images")
    assert sorted(p.name for p in gallery.iterdir()) == ["IMG_0.jpg", "IMG_1.jpg"]

    revoke = harness.defs.resolve_job_def("revoke_gallery")
    result = revoke.execute_in_process(
        instance=harness.instance,
        partition_key="BACK1",
        run_config={
            "ops": {"revoke_job_gallery": {"config": {"revoked_by": "Daniel", "note": "typo"}}}
        },
    )
    assert result.success
    job = harness.registry.get_job("BACK1")
    assert job is not None
    assert (job.gallery_status, job.gallery_visibility) == ("draft_ready", "internal")
    assert (job.revoked_by, job.revoke_note) == ("Daniel", "typo") and job.revoked_at
    assert sorted(p.name for p in gallery.iterdir()) == ["IMG_0.jpg"]
    assert [n.kind for n in harness.registry.notifications("BACK1")] == [
        "gallery.draft_ready",
        "gallery.released",
        "gallery.draft_ready",  # the update waiting for a release
        "gallery.revoked",
        "gallery.draft_ready",  # the draft took the update
    ]
    revoked = harness.registry.notifications("BACK1")[3]
    assert revoked.payload == {
        "job_id": "BACK1",
        "release_number": 1,
        "revoked_by": "Daniel",
        "expose_key": "pix-jobs/BACK1/gallery/expose.json",
    }

    again = revoke.execute_in_process(
        instance=harness.instance, partition_key="BACK1", raise_on_error=False
    )
    assert not again.success
    assert "is not released" in again.failure_data_for_node("revoke_job_gallery").error.message
