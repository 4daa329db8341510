"""Customer notification after a release: the outbox row is the promise, a notifier delivers it."""

import logging
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Notification:
    id: int
    job_id: str
    kind: str
    release_number: int
    payload: dict[str, Any]


@runtime_checkable
class Notifier(Protocol):
    def notify(self, notification: Notification) -> None:
        """Deliver one notification; raise to leave it pending for the next attempt."""
        ...


class LogNotifier:
    """The default: writes the notification to the log (mail or webhook delivery plug in here)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("pix_pipeline.notify")

    def notify(self, notification: Notification) -> None:
        self.logger.info(
            "notify customer: job %s gallery released (release #%d, %s images)",
            notification.job_id,
            notification.release_number,
            notification.payload.get("image_count"),
        )
