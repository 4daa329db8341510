"""The desk's login: one user and password, a session cookie, and slowed-down guessing.

Protection is a layer: `RequireLogin` turns away every request without a logged-in session
before any handler runs, so no page or image can forget it.
"""

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pix_pipeline.proxy_user import proxy_user

SESSION_USER = "user"
LOGIN_PATH = "/login"
HEALTH_PATH = "/health"
# Open without a login: the login form itself and the stylesheet and script it loads.
# /health answers monitoring on this machine without a login; its handler refuses everyone else.
PUBLIC_PATHS = frozenset({LOGIN_PATH, HEALTH_PATH, "/static/desk.css", "/static/desk.js"})


def same_password(given: str, expected: str) -> bool:
    """Constant-time comparison (of digests, so the length does not leak either)."""
    a = hashlib.sha256(given.encode("utf-8")).digest()
    b = hashlib.sha256(expected.encode("utf-8")).digest()
    return hmac.compare_digest(a, b)


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else (other sites) becomes '/'."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@dataclass
class _Client:
    failures: int = 0
    locked_until: float = 0.0


@dataclass
class LoginThrottle:
    """Per client: after `free` wrong passwords, each further one locks the login for a
    doubling time (1 s, 2 s, 4 s … up to `max_seconds`). A correct login clears the count.

    At most `max_clients` are remembered: beyond that, clients whose lock has run out are
    forgotten first, then the oldest, so guesses from ever new addresses cannot fill memory.
    """

    free: int = 3
    max_seconds: float = 300.0
    max_clients: int = 10_000
    clock: Callable[[], float] = time.monotonic
    _clients: dict[str, _Client] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_seconds(self, client: str) -> float:
        """How long this client must wait before it may try again (0: now)."""
        with self._lock:
            state = self._clients.get(client)
            return max(0.0, state.locked_until - self.clock()) if state else 0.0

    def failed(self, client: str) -> None:
        with self._lock:
            if client not in self._clients and len(self._clients) >= self.max_clients:
                self._forget_some()
            state = self._clients.setdefault(client, _Client())
            state.failures += 1
            over = state.failures - self.free
            if over > 0:
                state.locked_until = self.clock() + min(2.0 ** (over - 1), self.max_seconds)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._clients.pop(client, None)

    def _forget_some(self) -> None:
        """Makes room for a new client (the caller holds the lock)."""
        now = self.clock()
        for name in [n for n, s in self._clients.items() if s.locked_until <= now]:
            del self._clients[name]
        while len(self._clients) >= self.max_clients:
            del self._clients[next(iter(self._clients))]  # dicts keep insertion order


class RequireLogin:
    """ASGI middleware: every path but the login needs a session with a logged-in user.

    Pages redirect to the login form (and back afterwards); anything else, images and form
    posts included, gets 401 without reaching a handler. With `trust_proxy_user`, a request
    that the authenticating proxy signed in (`pix_pipeline.proxy_user`) logs its session in as
    that user, so Daniel signs in once, at the proxy.
    """

    def __init__(self, app: ASGIApp, message: str, *, trust_proxy_user: bool = False) -> None:
        self.app = app
        self.message = message
        self.trust_proxy_user = trust_proxy_user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        # Only a page visit adopts the proxy's user: a browser sends the proxy's login with a
        # cross-site form post too, but without the desk's SameSite cookies, so a change must
        # come from a session (and carry its form token) that a visit of the desk started.
        safe = scope["method"] in ("GET", "HEAD")
        signed_in = proxy_user(scope, trusted=self.trust_proxy_user) if safe else None
        if signed_in is not None and connection.session.get(SESSION_USER) != signed_in:
            connection.session.clear()  # another proxy user: nothing of the old session stays
            connection.session[SESSION_USER] = signed_in
        if connection.session.get(SESSION_USER):
            await self.app(scope, receive, send)
            return
        wants_page = scope["method"] in ("GET", "HEAD") and "text/html" in connection.headers.get(
            "accept", ""
        )
        if wants_page:
            target = scope["path"] + (f"?{connection.url.query}" if connection.url.query else "")
            response: PlainTextResponse | RedirectResponse = RedirectResponse(
                f"{LOGIN_PATH}?next={quote(target, safe='')}", status_code=303
            )
        else:
            response = PlainTextResponse(self.message, status_code=401)
        await response(scope, receive, send)
