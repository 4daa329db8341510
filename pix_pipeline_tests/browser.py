"""A real, headless Chromium for the tests of what only a browser shows.

It drives Debian's `chromium` package (`apt-get install chromium`) through Playwright's
client: browser builds cannot be downloaded here (`playwright install`), so the client is
pointed at the system's executable. Without a usable Chromium the browser tests skip with the
reason; with PIX_REQUIRE_CHROMIUM=1 (CI) they fail instead.
"""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

REQUIRE_VARIABLE = "PIX_REQUIRE_CHROMIUM"
EXECUTABLE_VARIABLE = "PIX_CHROMIUM"
DEFAULT_EXECUTABLE = "/usr/bin/chromium"

# Headless and quiet: no GPU, no sandbox (tests run as root in CI), and nothing that phones
# home or updates itself in the background while a test measures the page.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str:
    """PIX_CHROMIUM, else `chromium` on PATH, else Debian's path."""
    return (
        os.environ.get(EXECUTABLE_VARIABLE)
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
        or DEFAULT_EXECUTABLE
    )


def chromium_problem(executable: str) -> str | None:
    """Why the browser tests cannot run with `executable`, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright client is not installed (pip install '.[dev]')"
    path = Path(executable)
    if not path.is_file() or not os.access(path, os.X_OK):
        return (
            f"no Chromium executable at {executable} (apt-get install chromium, or set"
            f" {EXECUTABLE_VARIABLE})"
        )
    return None


def require_chromium() -> str:
    """The Chromium executable; skips the test without one, fails under PIX_REQUIRE_CHROMIUM=1."""
    executable = chromium_executable()
    problem = chromium_problem(executable)
    if problem:
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{REQUIRE_VARIABLE}=1 but {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    return executable


@contextmanager
def chromium_process(executable: str, profile: Path, timeout: float = 30.0) -> Iterator[str]:
    """A headless Chromium with its own profile folder, stopped afterwards; yields its DevTools
    endpoint (http://127.0.0.1:PORT).

    Starting Chromium takes a second or two, so the tests share one per test process, and each
    test connects its own Playwright client and context to it (browser_context). A Playwright
    client kept open across tests would leave its asyncio loop marked as running in the main
    thread, which changes what other tests' asyncio calls do.
    """
    profile.mkdir(parents=True, exist_ok=True)
    log = profile.parent / f"{profile.name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                executable,
                *CHROMIUM_FLAGS,
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # Chromium writes the port it bound into the profile once DevTools listens.
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text(encoding="ascii").strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{executable} did not start DevTools:\n"
                    + log.read_text(encoding="utf-8", errors="replace")[-2000:]
                )
            time.sleep(0.02)
        port = port_file.read_text(encoding="ascii").split()[0]
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def browser_context(
    endpoint: str, viewport: tuple[int, int] = (1280, 900)
) -> Iterator["BrowserContext"]:
    """A fresh context (no cookies or storage from any other test) in the Chromium at the
    DevTools `endpoint`, through a Playwright client of its own."""
    from playwright.sync_api import sync_playwright

    width, height = viewport
    with sync_playwright() as playwright:
        browser = playwright.chromium.connect_over_cdp(endpoint)
        context = browser.new_context(viewport={"width": width, "height": height}, locale="de-DE")
        # A page that hangs fails its test within seconds, not after 30 s per wait.
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()
            browser.close()  # disconnects; the shared Chromium goes on
