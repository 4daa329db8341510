"""What the outbox holds: event kinds, row states, and one event as a notifier receives it."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class EventKind(StrEnum):
    """The `type` of a webhook: what happened to a job's customer gallery."""

    RELEASED = "gallery.released"  # Daniel released the gallery (or an update of it)
    REVOKED = "gallery.revoked"  # Daniel took a released gallery back
    DRAFT_READY = (
        "gallery.draft_ready"  # a draft is ready for review for the first time, or changed
    )


# gallery.draft_ready is due this long after the last change of the draft, so a few quick
# clicks (hide, show, hide) give one event ...
DRAFT_READY_QUIET = timedelta(seconds=60)
# ... but at most this long after the first change, so steady work still reports.
DRAFT_READY_MAX_DELAY = timedelta(minutes=10)


class NotificationStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    SENT = "sent"  # the receiver answered 2xx: never sent again
    FAILED = "failed"  # retries used up, or refused for good; retry_notification resets it


@dataclass(frozen=True)
class Notification:
    """One outbox row as a notifier delivers it."""

    id: int
    webhook_id: str
    job_id: str
    kind: str
    release_number: int
    created_at: datetime
    payload: dict[str, Any]
    # Larger is later within the job; never reused. Receivers order a job's events by it.
    sequence: int

    def body(self) -> dict[str, Any]:
        """The webhook body: `{"type", "timestamp", "data"}` (Standard Webhooks' shape); `data`
        carries the job's `sequence` next to its `job_id`."""
        return {
            "type": self.kind,
            "timestamp": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": {**self.payload, "sequence": self.sequence},
        }


class DeliveryFailed(RuntimeError):
    """A delivery attempt failed. `permanent`: retrying cannot help (e.g. HTTP 410)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@runtime_checkable
class Notifier(Protocol):
    def notify(self, notification: Notification) -> None:
        """Deliver one event; raise to fail this attempt (DeliveryFailed says whether to retry)."""
        ...
