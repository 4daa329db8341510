"""Notifiers: how one outbox event leaves the system. `log` by default, `webhook` in production.

The webhook follows the Standard Webhooks spec (https://www.standardwebhooks.com): a JSON body
`{"type", "timestamp", "data"}` POSTed with the headers `webhook-id` (the same on every attempt
of one event), `webhook-timestamp` and `webhook-signature` (HMAC-SHA256 with the shared
`whsec_…` secret), signed and checked with the `standardwebhooks` package.
"""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks import Webhook

from pix_pipeline.notify.events import DeliveryFailed, Notification

# Answers that say "try again later"; every other 4xx means the request itself is refused.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})


class LogNotifier:
    """The embedded default: writes each event to the log (the run or sensor log in Dagster)."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("pix_pipeline.notify")

    def notify(self, notification: Notification) -> None:
        count = notification.payload.get("image_count")
        photos = "" if count is None else f", {count} photo(s)"  # a revoke names none
        self.logger.info(
            "%s: job %s, release %s%s",
            notification.kind,
            notification.job_id,
            notification.release_number,
            photos,
        )


def shown_url(url: str) -> str:
    """The URL for messages: scheme, host, port and path; never user info or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def render_body(notification: Notification) -> str:
    """The exact bytes that are signed and sent (compact JSON, keys in a stable order)."""
    return json.dumps(notification.body(), separators=(",", ":"), ensure_ascii=False)


class WebhookNotifier:
    """POSTs each event to one URL, signed per the Standard Webhooks spec."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout_seconds: float = 10.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.url = url
        self.target = shown_url(url)
        self._signer = Webhook(secret)
        self.timeout_seconds = timeout_seconds
        self.clock = clock or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"WebhookNotifier({self.target!r})"

    def notify(self, notification: Notification) -> None:
        body = render_body(notification)
        # Receivers reject timestamps more than a few minutes off: sign with the send time.
        sent_at = self.clock()
        headers = {
            "content-type": "application/json",
            "user-agent": "pix-pipeline-webhooks/1",
            "webhook-id": notification.webhook_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._signer.sign(notification.webhook_id, sent_at, body),
        }
        try:
            response = httpx.post(
                self.url,
                content=body.encode("utf-8"),
                headers=headers,
                timeout=self.timeout_seconds,
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            raise DeliveryFailed(
                f"{self.target} did not answer within {self.timeout_seconds:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(
                f"cannot reach {self.target}: {type(exc).__name__}: {exc}"
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            return
        permanent = 400 <= status < 500 and status not in RETRYABLE_CLIENT_ERRORS
        raise DeliveryFailed(
            f"{self.target} answered HTTP {status}"
            + (" (refused for good: no further attempts)" if permanent else ""),
            permanent=permanent,
        )
