"""A real webhook receiver for tests: HTTP on 127.0.0.1, signatures checked by standardwebhooks."""

import base64
import json
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from pix_pipeline_tests.processes import free_port


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(os.urandom(32)).decode("ascii")


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    status: int

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    """Answers each POST with the next scripted status (then `default`); a request whose
    signature does not verify gets 401, as a real receiver would answer it."""

    def __init__(self, secret: str, answers: list[int] | None = None, default: int = 200) -> None:
        self.port = free_port()
        self.answers = list(answers or [])
        self.default = default
        self.received: list[Received] = []
        self._webhook = Webhook(secret)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/pix?token=abc"

    @property
    def accepted(self) -> list[Received]:
        return [r for r in self.received if r.verified and 200 <= r.status < 300]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        try:
            self._webhook.verify(body, headers)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self._lock:
            status = (self.answers.pop(0) if self.answers else self.default) if verified else 401
            self.received.append(Received(headers, body, verified, status))
        handler.send_response(status)
        handler.send_header("content-length", "0")
        handler.end_headers()

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
