"""Delivery of the notification outbox: due rows, one attempt each, retries with backoff.

A row is written in the transaction of the change it announces (a release, a revoke, a new
draft) and is then the promise: `deliver_due` hands it to the notifier until the receiver
accepts it (2xx: `sent`, never again), refuses it for good (4xx other than 408 and 429), or
PIX_NOTIFY_MAX_ATTEMPTS attempts failed. Between attempts it waits PIX_NOTIFY_BACKOFF_SECONDS,
doubling each time, at most an hour. Given-up rows are `failed`; `retry_notification` starts
them again. Nothing here raises because a receiver is down.

Each job's rows are attempted in the order of their `sequence`: none while an earlier one of
the job is pending (failed rows no longer hold the job back).
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pix_pipeline.notify.events import DeliveryFailed, Notification, NotificationStatus
from pix_pipeline.registry.repository import as_utc
from pix_pipeline.registry.schema import NotificationRow
from pix_pipeline.runtime import Runtime

MAX_BACKOFF = timedelta(hours=1)
# A claimed row is not due again for this long: longer than any single attempt can take.
CLAIM_LEASE = timedelta(minutes=5)
# Rows looked at per call; a sensor tick must end well within Dagster's 60 s evaluation limit.
BATCH = 50
TIME_BUDGET_SECONDS = 40.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def backoff(failed_attempts: int, base_seconds: float) -> timedelta:
    """The wait after the `failed_attempts`-th failure: base, 2×base, 4×base … at most 1 h."""
    exponent = max(failed_attempts - 1, 0)
    seconds = base_seconds * 2 ** min(exponent, 32)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


def as_notification(row: NotificationRow) -> Notification:
    return Notification(
        id=row.id,
        webhook_id=row.webhook_id,
        job_id=row.job_id,
        kind=row.kind,
        release_number=row.release_number,
        created_at=as_utc(row.created_at),
        payload=dict(row.payload),
        sequence=row.sequence,
    )


@dataclass(frozen=True)
class Attempt:
    """How one delivery attempt of one row ended."""

    notification_id: int
    job_id: str
    kind: str
    attempt: int
    status: NotificationStatus
    error: str | None
    next_attempt_at: datetime | None


@dataclass
class DeliveryReport:
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def sent(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status is NotificationStatus.SENT]

    @property
    def retrying(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status is NotificationStatus.PENDING]

    @property
    def given_up(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status is NotificationStatus.FAILED]

    @property
    def job_ids(self) -> list[str]:
        return sorted({a.job_id for a in self.attempts})


def _attempt(rt: Runtime, row: NotificationRow, now: datetime) -> Attempt | None:
    """One attempt at `row`; None when another deliverer took it first."""
    claimed = rt.registry.claim_notification(row.id, row.attempts, now, now + CLAIM_LEASE)
    if claimed is None:
        return None
    row = claimed
    attempt = row.attempts
    try:
        rt.notifier.notify(as_notification(row))
    except DeliveryFailed as exc:
        error, permanent = str(exc), exc.permanent
    except Exception as exc:  # a plugin notifier's own error: recorded on the row, retried
        error, permanent = f"{type(exc).__name__}: {exc}", False
    else:
        rt.registry.finish_attempt(
            row.id,
            attempt,
            status=NotificationStatus.SENT.value,
            error=None,
            next_attempt_at=None,
            sent_at=now,
        )
        return Attempt(row.id, row.job_id, row.kind, attempt, NotificationStatus.SENT, None, None)
    settings = rt.settings.notify
    if permanent or attempt >= settings.max_attempts:
        status, due = NotificationStatus.FAILED, None
    else:
        status, due = NotificationStatus.PENDING, now + backoff(attempt, settings.backoff_seconds)
    rt.registry.finish_attempt(
        row.id, attempt, status=status.value, error=error[:2000], next_attempt_at=due
    )
    return Attempt(row.id, row.job_id, row.kind, attempt, status, error, due)


def deliver_due(
    rt: Runtime,
    *,
    clock: Callable[[], datetime] = utcnow,
    limit: int = BATCH,
    time_budget_seconds: float = TIME_BUDGET_SECONDS,
) -> DeliveryReport:
    """One attempt at each due row (up to `limit`, within the time budget), oldest first.

    A job's rows go one at a time, in sequence order: a row is due only once no earlier row
    of its job is pending. After a round of attempts the due rows are read again, so a job's
    next row follows at once when its predecessor was sent or failed for good, while a row
    waiting for its retry holds back the rest of its job.
    """
    report = DeliveryReport()
    started = time.monotonic()
    tried = 0
    while tried < limit:
        rows = rt.registry.due_notifications(clock(), limit - tried)
        if not rows:
            break
        for row in rows:
            if time.monotonic() - started > time_budget_seconds:
                return report  # the rest is still due: the next call takes it
            tried += 1
            outcome = _attempt(rt, row, clock())
            if outcome is not None:
                report.attempts.append(outcome)
    return report


@dataclass(frozen=True)
class NotificationView:
    """One outbox row as Daniel sees it (the desk's list, the UI's metadata)."""

    id: int
    job_id: str
    kind: str
    release_number: int
    sequence: int
    webhook_id: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    sent_at: datetime | None

    @property
    def can_retry(self) -> bool:
        return self.status == NotificationStatus.FAILED


def _view(row: NotificationRow) -> NotificationView:
    pending = row.status == NotificationStatus.PENDING
    return NotificationView(
        id=row.id,
        job_id=row.job_id,
        kind=row.kind,
        release_number=row.release_number,
        sequence=row.sequence,
        webhook_id=row.webhook_id,
        status=row.status,
        attempts=row.attempts,
        last_error=row.error_message,
        created_at=as_utc(row.created_at),
        last_attempt_at=as_utc(row.last_attempt_at),
        next_attempt_at=as_utc(row.next_attempt_at) if pending else None,
        sent_at=as_utc(row.sent_at),
    )


def job_notifications(rt: Runtime, job_id: str) -> list[NotificationView]:
    """Every notification of one job, oldest first, with its delivery state."""
    return [_view(row) for row in rt.registry.notifications(job_id)]


def failed_notifications(rt: Runtime, limit: int = 100) -> list[NotificationView]:
    """Rows that gave up, across all jobs: they wait for `retry_notification`."""
    return [_view(r) for r in rt.registry.notifications_with_status("failed", limit)]


class RetryRefused(ValueError):
    """The row does not exist or has not failed; the message says which."""


def retry_notification(
    rt: Runtime, notification_id: int, *, clock: Callable[[], datetime] = utcnow
) -> NotificationView:
    """Make a failed row pending again, due at once, with a fresh set of attempts.

    Its webhook id stays, so a receiver that did get an earlier attempt can drop the repeat.
    """
    if not rt.registry.reset_notification(notification_id, clock()):
        row = rt.registry.get_notification(notification_id)
        if row is None:
            raise RetryRefused(f"there is no notification {notification_id}")
        raise RetryRefused(
            f"notification {notification_id} is {row.status}, not failed: only a failed"
            " notification is retried by hand"
        )
    row = rt.registry.get_notification(notification_id)
    assert row is not None
    return _view(row)


def retry_notifications_of_job(
    rt: Runtime, job_id: str, notification_id: int | None = None
) -> list[NotificationView]:
    """Retry one failed notification of the job (`notification_id`), or all of them; the
    notifications made pending again.

    Raises RetryRefused when the job has no such notification or it has not failed (it was
    retried meanwhile, say). Retrying all passes over one that somebody else retried between
    listing and resetting (it is already on its way again), and still retries the rest.
    """
    views = job_notifications(rt, job_id)
    if notification_id is not None:
        if not any(v.id == notification_id for v in views):
            raise RetryRefused(f"job {job_id} has no notification {notification_id}")
        return [retry_notification(rt, notification_id)]
    retried = []
    for view in views:
        if not view.can_retry:
            continue
        try:
            retried.append(retry_notification(rt, view.id))
        except RetryRefused:
            continue  # retried (or delivered) meanwhile: nothing left to do for it
    return retried
