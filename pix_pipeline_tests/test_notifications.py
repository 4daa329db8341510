"""Webhook delivery from the outbox against a real HTTP receiver on 127.0.0.1 that verifies
every signature with the standardwebhooks library. Backoff time is driven by an injected clock.

Every test runs on SQLite and on the real PostgreSQL server (see conftest.database_url).
"""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import delete, update

from pix_pipeline.domain.gallery_state import GalleryEvent
from pix_pipeline.domain.review import hide_photo
from pix_pipeline.notify import outbox
from pix_pipeline.notify.events import (
    DRAFT_READY_MAX_DELAY,
    DRAFT_READY_QUIET,
    EventKind,
    Notification,
)
from pix_pipeline.notify.notifiers import LogNotifier
from pix_pipeline.notify.outbox import (
    RetryRefused,
    backoff,
    deliver_due,
    failed_notifications,
    job_notifications,
    retry_notification,
    retry_notifications_of_job,
)
from pix_pipeline.registry.repository import JobChanges, OutboxEvent, as_utc
from pix_pipeline.registry.schema import JobRow, NotificationRow
from pix_pipeline.runtime import Runtime, build_runtime
from pix_pipeline.settings import SettingsError, load_settings
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.webhooks import Receiver, new_secret


class Clock:
    """The time deliver_due sees; starts a second ahead so fresh rows are due."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def receiver(secret: str) -> Iterator[Receiver]:
    made = Receiver(secret)
    yield made
    made.stop()


@pytest.fixture
def webhook_rt(
    pix_root: Path, monkeypatch: pytest.MonkeyPatch, secret: str, receiver: Receiver
) -> Iterator[Runtime]:
    monkeypatch.setenv("PIX_NOTIFIER", "webhook")
    monkeypatch.setenv("PIX_NOTIFY_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("PIX_NOTIFY_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("PIX_NOTIFY_TIMEOUT_SECONDS", "5")
    rt = build_runtime(load_settings())
    yield rt
    rt.close()


def queue_release(rt: Runtime, job_id: str = "J1") -> NotificationRow:
    rt.registry.apply_changes(JobChanges(job_id, new=[]))
    rt.registry.transition_gallery(job_id, GalleryEvent.DRAFT_SYNCED)
    return rt.registry.record_release(
        job_id=job_id,
        approved_by="Daniel",
        note="",
        payload={
            "job_id": job_id,
            "image_count": 4,
            "approved_by": "Daniel",
            "expose_key": f"pix-jobs/{job_id}/gallery/expose.json",
        },
    )


def row(rt: Runtime, notification_id: int) -> NotificationRow:
    found = rt.registry.get_notification(notification_id)
    assert found is not None
    return found


def test_a_receiver_answering_500_twice_then_200_accepts_exactly_one_delivery(
    webhook_rt: Runtime, receiver: Receiver
):
    receiver.answers = [500, 500]
    receiver.start()
    queued = queue_release(webhook_rt)
    clock = Clock()

    first = deliver_due(webhook_rt, clock=clock)
    assert [(a.status, a.attempt) for a in first.attempts] == [("pending", 1)]
    stored = row(webhook_rt, queued.id)
    assert stored.error_message == f"http://127.0.0.1:{receiver.port}/hooks/pix answered HTTP 500"
    assert stored.next_attempt_at is not None
    assert first.attempts[0].next_attempt_at == clock.now + timedelta(seconds=30)

    clock.advance(29)  # the backoff holds it
    assert deliver_due(webhook_rt, clock=clock).attempts == []
    clock.advance(2)
    second = deliver_due(webhook_rt, clock=clock)
    assert [(a.status, a.attempt) for a in second.attempts] == [("pending", 2)]
    assert second.attempts[0].next_attempt_at == clock.now + timedelta(seconds=60)  # doubled
    clock.advance(61)
    third = deliver_due(webhook_rt, clock=clock)
    assert [(a.status, a.attempt) for a in third.attempts] == [("sent", 3)]
    clock.advance(7200)
    assert deliver_due(webhook_rt, clock=clock).attempts == []  # sent is never sent again

    assert [r.status for r in receiver.received] == [500, 500, 200]
    assert all(r.verified for r in receiver.received)
    assert len(receiver.accepted) == 1
    assert {r.headers["webhook-id"] for r in receiver.received} == {queued.webhook_id}
    event = receiver.accepted[0].event
    assert event["type"] == "gallery.released"
    assert event["timestamp"].endswith("Z")
    assert event["data"] == {
        "job_id": "J1",
        "release_number": 1,
        "image_count": 4,
        "approved_by": "Daniel",
        "expose_key": "pix-jobs/J1/gallery/expose.json",
        "sequence": queued.sequence,
    }
    sent = row(webhook_rt, queued.id)
    assert (sent.status, sent.attempts, sent.error_message) == ("sent", 3, None)
    assert sent.sent_at is not None and sent.next_attempt_at is None


def test_a_receiver_that_is_down_for_a_while_gets_the_event_once_it_is_up(
    webhook_rt: Runtime, receiver: Receiver
):
    queued = queue_release(webhook_rt)
    clock = Clock()
    for _ in range(3):  # nothing listens on the port yet
        report = deliver_due(webhook_rt, clock=clock)
        assert [a.status for a in report.attempts] == ["pending"]
        assert report.attempts[0].error is not None
        assert report.attempts[0].error.startswith(f"cannot reach http://127.0.0.1:{receiver.port}")
        clock.advance(3600)
    assert row(webhook_rt, queued.id).attempts == 3

    receiver.start()
    assert [a.status for a in deliver_due(webhook_rt, clock=clock).attempts] == ["sent"]
    clock.advance(3600)
    assert deliver_due(webhook_rt, clock=clock).attempts == []
    assert len(receiver.received) == len(receiver.accepted) == 1
    assert receiver.accepted[0].headers["webhook-id"] == queued.webhook_id


def test_a_receiver_answering_410_gets_no_further_attempts_and_the_row_fails(
    webhook_rt: Runtime, receiver: Receiver
):
    receiver.answers = [410]
    receiver.start()
    queued = queue_release(webhook_rt)
    clock = Clock()
    report = deliver_due(webhook_rt, clock=clock)
    assert [(a.status, a.next_attempt_at) for a in report.attempts] == [("failed", None)]
    for _ in range(3):
        clock.advance(3600)
        assert deliver_due(webhook_rt, clock=clock).attempts == []
    assert len(receiver.received) == 1
    failed = row(webhook_rt, queued.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert "answered HTTP 410 (refused for good" in (failed.error_message or "")
    [listed] = failed_notifications(webhook_rt)
    assert (listed.id, listed.status, listed.attempts, listed.can_retry) == (
        queued.id,
        "failed",
        1,
        True,
    )
    assert listed.last_error == failed.error_message and listed.next_attempt_at is None

    # Daniel retries once the receiver works: the same webhook id, delivered once.
    retried = retry_notification(webhook_rt, queued.id, clock=clock)
    assert (retried.status, retried.attempts) == ("pending", 0)
    assert [a.status for a in deliver_due(webhook_rt, clock=clock).attempts] == ["sent"]
    assert [r.headers["webhook-id"] for r in receiver.received] == [queued.webhook_id] * 2
    assert len(receiver.accepted) == 1
    with pytest.raises(RetryRefused, match="is sent, not failed"):
        retry_notification(webhook_rt, queued.id)
    with pytest.raises(RetryRefused, match="there is no notification 999999"):
        retry_notification(webhook_rt, 999_999)


def test_retrying_all_passes_over_one_retried_meanwhile_and_retries_the_rest(
    webhook_rt: Runtime, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
):
    receiver.default = 410
    receiver.start()
    first = queue_release(webhook_rt)
    webhook_rt.registry.record_revoke(job_id="J1", revoked_by="Daniel", note="")
    second = queue_release(webhook_rt)
    clock = Clock()
    assert [a.status for a in deliver_due(webhook_rt, clock=clock).attempts] == ["failed"] * 2
    listed = outbox.job_notifications

    def listed_then_retried_elsewhere(rt: Runtime, job_id: str) -> list:
        views = listed(rt, job_id)
        retry_notification(rt, first.id)  # the other person's click, right after the listing
        return views

    monkeypatch.setattr(outbox, "job_notifications", listed_then_retried_elsewhere)
    retried = retry_notifications_of_job(webhook_rt, "J1")
    assert [(v.id, v.status) for v in retried] == [(second.id, "pending")]
    assert row(webhook_rt, first.id).status == row(webhook_rt, second.id).status == "pending"
    monkeypatch.undo()
    # One named by hand that is no longer failed is still refused, with the reason.
    with pytest.raises(RetryRefused, match="is pending, not failed"):
        retry_notifications_of_job(webhook_rt, "J1", first.id)


@pytest.mark.parametrize("status", [408, 429, 503])
def test_timeouts_rate_limits_and_server_errors_are_retried(
    webhook_rt: Runtime, receiver: Receiver, status: int
):
    receiver.answers = [status]
    receiver.start()
    queue_release(webhook_rt)
    clock = Clock()
    assert [a.status for a in deliver_due(webhook_rt, clock=clock).attempts] == ["pending"]
    clock.advance(30)
    assert [a.status for a in deliver_due(webhook_rt, clock=clock).attempts] == ["sent"]
    assert [r.status for r in receiver.received] == [status, 200]


def test_retries_stop_after_the_maximum_of_attempts_with_doubling_waits(
    pix_root: Path, monkeypatch: pytest.MonkeyPatch, secret: str, receiver: Receiver
):
    monkeypatch.setenv("PIX_NOTIFIER", "webhook")
    monkeypatch.setenv("PIX_NOTIFY_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("PIX_NOTIFY_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("PIX_NOTIFY_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("PIX_NOTIFY_BACKOFF_SECONDS", "10")
    receiver.default = 500
    receiver.start()
    rt = build_runtime(load_settings())
    try:
        queued = queue_release(rt)
        clock = Clock()
        waits = []
        for _ in range(6):
            for attempt in deliver_due(rt, clock=clock).attempts:
                if attempt.next_attempt_at is not None:
                    waits.append((attempt.next_attempt_at - clock.now).total_seconds())
            clock.advance(3600)
        assert waits == [10, 20, 40]
        assert len(receiver.received) == 4
        assert (row(rt, queued.id).status, row(rt, queued.id).attempts) == ("failed", 4)
        [view] = job_notifications(rt, "J1")
        assert view.status == "failed" and view.last_error is not None
    finally:
        rt.close()


def test_the_backoff_doubles_from_the_base_and_stops_at_an_hour():
    assert [backoff(n, 30).total_seconds() for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    assert backoff(12, 30) == timedelta(hours=1)
    assert backoff(500, 30) == timedelta(hours=1)


def test_a_row_taken_by_one_deliverer_is_not_sent_by_another(
    webhook_rt: Runtime, receiver: Receiver
):
    receiver.start()
    queued = queue_release(webhook_rt)
    clock = Clock()
    assert webhook_rt.registry.claim_notification(
        queued.id, 0, clock.now, clock.now + timedelta(minutes=5)
    )
    assert deliver_due(webhook_rt, clock=clock).attempts == []  # leased by the first
    assert receiver.received == []


# -- through Dagster: the release job, the outbox sensor, the check and the retry job --------


@pytest.fixture
def webhook_harness(
    pix_root: Path, monkeypatch: pytest.MonkeyPatch, secret: str, receiver: Receiver, tmp_path
) -> Iterator[Harness]:
    monkeypatch.setenv("PIX_NOTIFIER", "webhook")
    monkeypatch.setenv("PIX_NOTIFY_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("PIX_NOTIFY_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("PIX_NOTIFY_TIMEOUT_SECONDS", "5")
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        harness = Harness(pix_root, instance)
        yield harness
        harness.close()


def deliver_photos(harness: Harness, job_id: str) -> None:
    for i in range(2):
        write_settled(
            harness.final_input(job_id) / f"IMG_{i}.jpg", jpeg_bytes(photo((320, 240), seed=i))
        )
    harness.tick_and_run()


def test_a_release_with_the_receiver_down_succeeds_and_is_delivered_later(
    webhook_harness: Harness, receiver: Receiver
):
    harness = webhook_harness
    deliver_photos(harness, "DOWN1")
    release = harness.release("DOWN1", approved_by="Daniel")
    assert release.success
    job = harness.registry.get_job("DOWN1")
    assert job is not None and job.gallery_visibility == "customer"
    messages = [e.user_message for e in harness.instance.all_logs(release.run_id)]
    assert any("is queued: notification_outbox_sensor delivers it" in m for m in messages)

    down = harness.outbox_tick()
    assert f"cannot reach http://127.0.0.1:{receiver.port}" in down.skip_reason.skip_message
    assert {n.status for n in harness.registry.notifications("DOWN1")} == {"pending"}

    receiver.start()
    harness.make_notifications_due()
    harness.outbox_tick()
    rows = harness.registry.notifications("DOWN1")
    # The release's event waited behind the draft's retry, then followed in the same tick.
    assert [(n.kind, n.status, n.attempts) for n in rows] == [
        ("gallery.draft_ready", "sent", 2),
        ("gallery.released", "sent", 1),
    ]
    assert all(r.verified for r in receiver.received)
    assert [r.event["type"] for r in receiver.accepted] == [
        "gallery.draft_ready",
        "gallery.released",
    ]
    released = receiver.accepted[1].event["data"]
    assert released == {
        "job_id": "DOWN1",
        "release_number": 1,
        "image_count": 2,
        "approved_by": "Daniel",
        "expose_key": "pix-jobs/DOWN1/gallery/expose.json",
        "sequence": rows[1].sequence,
    }
    assert receiver.accepted[0].event["data"]["sequence"] == rows[0].sequence < rows[1].sequence
    assert harness.outbox_tick().skip_reason.skip_message.startswith("delivered 0")


def execute_customer_notified(harness: Harness, job_id: str) -> dg.ExecuteInProcessResult:
    """The check alone for one job partition, as the UI's "Execute" runs it: a subset of the
    implicit asset job."""
    check = dg.AssetCheckKey(dg.AssetKey("released_gallery"), "customer_notified")
    job = harness.defs.resolve_implicit_global_asset_job_def()
    return job.get_subset(asset_selection=set(), asset_check_selection={check}).execute_in_process(
        instance=harness.instance, partition_key=job_id
    )


def test_a_failed_notification_shows_in_the_ui_and_the_retry_job_sends_it_again(
    webhook_harness: Harness, receiver: Receiver
):
    harness = webhook_harness
    receiver.answers = [200, 410]  # the draft's event, then the release's
    receiver.start()
    deliver_photos(harness, "GONE1")
    harness.outbox_tick()
    assert harness.release("GONE1").success
    tick = harness.outbox_tick()
    [failed] = [n for n in harness.registry.notifications("GONE1") if n.status == "failed"]
    assert failed.kind == "gallery.released"
    message = tick.skip_reason.skip_message
    assert "FAILED, not retried until retry_notifications is launched" in message
    assert f"#{failed.id} (GONE1, gallery.released)" in message and "HTTP 410" in message
    # The next tick still lists it, while it waits for Daniel.
    assert (
        f"#{failed.id} (GONE1, gallery.released)" in harness.outbox_tick().skip_reason.skip_message
    )

    latest = harness.instance.fetch_observations(dg.AssetKey("released_gallery"), limit=1)
    observed = latest.records[0].asset_observation
    assert observed is not None and observed.partition == "GONE1"
    assert observed.metadata["failed"].value == 1
    assert f"| {failed.sequence} | failed |" in observed.metadata["notifications"].value
    assert (observed.description or "").startswith("NOT NOTIFIED")

    check = execute_customer_notified(harness, "GONE1")
    [evaluation] = check.get_asset_check_evaluations()
    assert not evaluation.passed
    assert "failed for good" in (evaluation.description or "")
    assert "retry_notifications" in (evaluation.description or "")

    retry = harness.defs.resolve_job_def("retry_notifications").execute_in_process(
        instance=harness.instance, partition_key="GONE1"
    )
    assert retry.success
    assert harness.registry.get_notification(failed.id).status == "pending"
    harness.outbox_tick()
    assert harness.registry.get_notification(failed.id).status == "sent"
    assert [r.headers["webhook-id"] for r in receiver.received].count(failed.webhook_id) == 2
    [evaluation] = execute_customer_notified(harness, "GONE1").get_asset_check_evaluations()
    assert evaluation.passed


def test_the_webhook_secret_never_appears_in_logs_metadata_run_config_or_the_registry(
    webhook_harness: Harness,
    receiver: Receiver,
    secret: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    tmp_path: Path,
):
    caplog.set_level(logging.DEBUG)
    harness = webhook_harness
    receiver.default = 500
    deliver_photos(harness, "KEEP1")
    harness.make_notifications_due()  # the draft's event waits for quiet otherwise
    messages = [harness.outbox_tick().skip_reason.skip_message]  # receiver down
    receiver.start()
    assert harness.release("KEEP1").success
    harness.make_notifications_due()
    messages.append(harness.outbox_tick().skip_reason.skip_message)  # HTTP 500
    assert any("cannot reach" in m for m in messages) and any("HTTP 500" in m for m in messages)
    # The draft's event answered 500; the release's waits behind it.
    assert receiver.received and all(r.verified for r in receiver.received)

    key = secret.removeprefix("whsec_")
    texts = [
        caplog.text,
        *capfd.readouterr(),
        *messages,
        repr(load_settings()),
        repr(harness.registry.notifications("KEEP1")),
    ]
    for run in harness.instance.get_runs():
        texts.append(repr(run.run_config))
        texts += [repr(entry) for entry in harness.instance.all_logs(run.run_id)]
    for text in texts:
        assert key not in text
    for path in tmp_path.rglob("*"):  # Dagster's home, the storage root, a SQLite registry
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_a_bad_webhook_secret_stops_loading_without_showing_it(tmp_path: Path, secret: str):
    broken = secret[:-4] + "%%%%"
    for value in (broken, secret.removeprefix("whsec_"), "whsec_" + "c2hvcnQ="):
        with pytest.raises(SettingsError, match="PIX_NOTIFY_WEBHOOK_SECRET") as raised:
            load_settings(
                {
                    "PIX_NOTIFIER": "webhook",
                    "PIX_NOTIFY_WEBHOOK_URL": "https://hooks.example/pix",
                    "PIX_NOTIFY_WEBHOOK_SECRET": value,
                },
                cwd=tmp_path,
            )
        assert value not in str(raised.value)
        assert value.removeprefix("whsec_") not in str(raised.value)
    with pytest.raises(SettingsError, match="PIX_NOTIFY_WEBHOOK_SECRET must hold"):
        load_settings(
            {"PIX_NOTIFIER": "webhook", "PIX_NOTIFY_WEBHOOK_URL": "https://hooks.example/pix"},
            cwd=tmp_path,
        )
    with pytest.raises(SettingsError, match="PIX_NOTIFY_WEBHOOK_URL must name the receiver"):
        load_settings(
            {"PIX_NOTIFIER": "webhook", "PIX_NOTIFY_WEBHOOK_SECRET": secret}, cwd=tmp_path
        )
    good = load_settings(
        {
            "PIX_NOTIFIER": "webhook",
            "PIX_NOTIFY_WEBHOOK_URL": "https://hooks.example/pix",
            "PIX_NOTIFY_WEBHOOK_SECRET": secret,
        },
        cwd=tmp_path,
    )
    assert good.notify.webhook_secret is not None
    assert good.notify.webhook_secret.get_secret_value() == secret
    assert secret.removeprefix("whsec_") not in repr(good) + str(good)
    assert load_settings({}, cwd=tmp_path).notifier == "log"


def test_the_log_notifier_names_the_photo_count_only_where_the_event_has_one(
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.INFO, logger="pix_pipeline.notify")
    at = datetime(2026, 12, 2, tzinfo=UTC)
    released = Notification(1, "msg_1", "J1", EventKind.RELEASED, 2, at, {"image_count": 12}, 5)
    revoked = Notification(2, "msg_2", "J1", EventKind.REVOKED, 2, at, {"revoked_by": "D"}, 6)
    LogNotifier().notify(released)
    LogNotifier().notify(revoked)
    assert caplog.messages == [
        "gallery.released: job J1, release 2, 12 photo(s)",
        "gallery.revoked: job J1, release 2",
    ]


# -- ordering, sequence and the draft's quiet wait --------------------------------------------


def queue_revoke(rt: Runtime, job_id: str = "J1") -> NotificationRow:
    rt.registry.record_revoke(
        job_id=job_id,
        revoked_by="Daniel",
        note="",
        outbox=OutboxEvent(EventKind.REVOKED.value, {"job_id": job_id, "revoked_by": "Daniel"}),
    )
    return rt.registry.notifications(job_id)[-1]


def draft_changed(rt: Runtime, job_id: str, image_count: int, at: datetime) -> None:
    """What a draft sync that changed the gallery records (domain.gallery's event)."""
    event = OutboxEvent(
        EventKind.DRAFT_READY.value,
        {"job_id": job_id, "image_count": image_count, "update_pending": False},
        quiet=DRAFT_READY_QUIET,
        max_delay=DRAFT_READY_MAX_DELAY,
    )
    rt.registry.transition_gallery(job_id, GalleryEvent.DRAFT_SYNCED, event, at=at)


def test_a_later_event_is_not_delivered_before_an_earlier_one_that_waits_for_its_retry(
    webhook_rt: Runtime, receiver: Receiver
):
    receiver.answers = [500]  # the first attempt of the first event fails
    receiver.start()
    released = queue_release(webhook_rt)
    revoked = queue_revoke(webhook_rt)
    again = queue_release(webhook_rt)
    other = queue_release(webhook_rt, "J2")
    assert released.sequence < revoked.sequence < again.sequence
    clock = Clock()

    first = deliver_due(webhook_rt, clock=clock)
    # J1's first event waits for its retry and holds back the rest of J1; J2 goes on.
    assert [(a.notification_id, a.status) for a in first.attempts] == [
        (released.id, "pending"),
        (other.id, "sent"),
    ]
    clock.advance(29)
    assert deliver_due(webhook_rt, clock=clock).attempts == []
    clock.advance(2)
    second = deliver_due(webhook_rt, clock=clock)
    # Once it went out, the job's next ones follow in the same call, in order.
    assert [(a.notification_id, a.status) for a in second.attempts] == [
        (released.id, "sent"),
        (revoked.id, "sent"),
        (again.id, "sent"),
    ]
    j1 = [r.event for r in receiver.accepted if r.event["data"]["job_id"] == "J1"]
    assert [(e["type"], e["data"]["release_number"]) for e in j1] == [
        ("gallery.released", 1),
        ("gallery.revoked", 1),
        ("gallery.released", 2),
    ]
    sequences = [e["data"]["sequence"] for e in j1]
    assert sequences == [released.sequence, revoked.sequence, again.sequence]
    assert sequences == sorted(set(sequences))
    # The retried attempt carried the same sequence and webhook-id as the failed one.
    tries = [r for r in receiver.received if r.headers["webhook-id"] == released.webhook_id]
    assert [(r.status, r.event["data"]["sequence"]) for r in tries] == [
        (500, released.sequence),
        (200, released.sequence),
    ]


def test_an_event_that_failed_for_good_no_longer_holds_back_the_later_ones(
    webhook_rt: Runtime, receiver: Receiver
):
    receiver.answers = [410]
    receiver.start()
    released = queue_release(webhook_rt)
    revoked = queue_revoke(webhook_rt)
    report = deliver_due(webhook_rt, clock=Clock())
    assert [(a.notification_id, a.status) for a in report.attempts] == [
        (released.id, "failed"),
        (revoked.id, "sent"),
    ]
    assert [r.event["type"] for r in receiver.accepted] == ["gallery.revoked"]


def test_sequences_grow_per_job_and_a_restored_outbox_does_not_hand_one_out_again(
    webhook_rt: Runtime,
):
    registry = webhook_rt.registry
    backup = queue_release(webhook_rt)  # the state a backup holds
    after = [queue_revoke(webhook_rt), queue_release(webhook_rt)]  # sent, then the disk died
    assert backup.sequence < after[0].sequence < after[1].sequence
    assert backup.sequence >= int(backup.created_at.timestamp() * 1000)
    # Restoring the backup: the outbox and the job's counter as they were.
    with registry.session() as s:
        s.execute(delete(NotificationRow).where(NotificationRow.id != backup.id))
        s.execute(
            update(JobRow)
            .where(JobRow.job_id == "J1")
            .values(notification_sequence=backup.sequence, release_count=1)
        )
    # The first event after the restore, which takes longer than a second.
    registry.transition_gallery(
        "J1",
        GalleryEvent.REVOKE,
        OutboxEvent(EventKind.REVOKED.value, {"job_id": "J1"}),
        at=datetime.now(UTC) + timedelta(seconds=1),
    )
    restored = registry.notifications("J1")[-1]
    assert restored.kind == "gallery.revoked"
    assert restored.sequence > max(r.sequence for r in after)


def test_quick_draft_changes_give_one_draft_ready_due_a_minute_after_the_last(
    webhook_rt: Runtime, receiver: Receiver
):
    receiver.start()
    webhook_rt.registry.apply_changes(JobChanges("J1", new=[]))
    t0 = datetime.now(UTC)
    for seconds, count in ((0, 3), (20, 2), (45, 3)):  # hide, show, hide
        draft_changed(webhook_rt, "J1", count, t0 + timedelta(seconds=seconds))
    [waiting] = webhook_rt.registry.notifications("J1")
    assert as_utc(waiting.next_attempt_at) == t0 + timedelta(seconds=105)
    assert deliver_due(webhook_rt, clock=lambda: t0 + timedelta(seconds=104)).attempts == []
    sent = deliver_due(webhook_rt, clock=lambda: t0 + timedelta(seconds=105))
    assert [a.status for a in sent.attempts] == ["sent"]
    [event] = [r.event for r in receiver.accepted]
    assert event["type"] == "gallery.draft_ready"
    assert event["data"]["image_count"] == 3 and event["data"]["sequence"] == waiting.sequence
    # A change after it went out is a new event, later in the job's sequence.
    draft_changed(webhook_rt, "J1", 2, t0 + timedelta(seconds=200))
    first, second = webhook_rt.registry.notifications("J1")
    assert second.sequence > first.sequence and second.status == "pending"


def test_a_draft_that_keeps_changing_is_announced_ten_minutes_after_its_first_change(
    webhook_rt: Runtime, receiver: Receiver
):
    receiver.start()
    webhook_rt.registry.apply_changes(JobChanges("J1", new=[]))
    t0 = datetime.now(UTC)
    for seconds in range(0, 660, 30):  # a change every 30 s for 11 minutes
        at = t0 + timedelta(seconds=seconds)
        draft_changed(webhook_rt, "J1", seconds, at)
        deliver_due(webhook_rt, clock=lambda at=at: at)
    # Sent at 10 minutes with what the draft held then; the change after it waits anew.
    assert [r.event["data"]["image_count"] for r in receiver.accepted] == [600]
    sent, waiting = webhook_rt.registry.notifications("J1")
    assert as_utc(sent.sent_at) == t0 + timedelta(minutes=10)
    assert waiting.payload["image_count"] == 630
    assert as_utc(waiting.next_attempt_at) == t0 + timedelta(seconds=690)


def test_a_release_ends_the_drafts_quiet_wait_and_goes_out_after_it(
    webhook_rt: Runtime, receiver: Receiver
):
    receiver.start()
    webhook_rt.registry.apply_changes(JobChanges("J1", new=[]))
    draft_changed(webhook_rt, "J1", 4, datetime.now(UTC))
    released = webhook_rt.registry.record_release(
        job_id="J1", approved_by="Daniel", note="", payload={"job_id": "J1"}
    )
    report = deliver_due(webhook_rt, clock=Clock())
    assert [a.kind for a in report.attempts] == ["gallery.draft_ready", "gallery.released"]
    assert [r.event["data"]["sequence"] for r in receiver.accepted][-1] == released.sequence


# One database: this proves the path from the desk's action; the tests above run the outbox
# on both.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_quick_hides_on_the_desk_give_one_draft_ready_event(
    webhook_harness: Harness, receiver: Receiver
):
    harness = webhook_harness
    receiver.start()
    deliver_photos(harness, "HIDE1")
    harness.make_notifications_due()
    harness.outbox_tick()  # the draft's first event
    assert [r.event["data"]["image_count"] for r in receiver.accepted] == [2]
    photo_id = harness.registry.images_of_job("HIDE1")[0].image_id
    rt = build_runtime(load_settings())
    try:
        for hidden in (True, False, True):  # Daniel's quick clicks
            assert hide_photo(rt, "HIDE1", photo_id, hidden=hidden, by="Daniel")
        [_, waiting] = harness.registry.notifications("HIDE1")
        clock = Clock()
        assert deliver_due(rt, clock=clock).attempts == []  # quiet for a minute
        clock.advance(60)
        assert [a.notification_id for a in deliver_due(rt, clock=clock).attempts] == [waiting.id]
        clock.advance(3600)
        assert deliver_due(rt, clock=clock).attempts == []
    finally:
        rt.close()
    drafts = [r.event for r in receiver.accepted if r.event["type"] == "gallery.draft_ready"]
    assert [e["data"]["image_count"] for e in drafts] == [2, 1]
    assert drafts[0]["data"]["sequence"] < drafts[1]["data"]["sequence"]
