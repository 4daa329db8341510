"""Real processes in tests: ports for them, `dagster dev` on a temporary instance in its own
process group, waiting for what they do, and the webserver's GraphQL API."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

PROJECT = Path(__file__).resolve().parents[1]
DAGSTER = Path(sys.executable).with_name("dagster")
T = TypeVar("T")


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group (Dagster starts children), SIGKILL if it lingers."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# Tests run side by side in pytest-xdist workers (gw0, gw1, …). Each worker hands out ports
# from its own block below the kernel's ephemeral range (32768 and up), so two workers never
# pick the same port between checking it and a server binding it, and no client connection's
# ephemeral port can take it either.
_PORT_BASE = 20_000
_PORTS_PER_WORKER = 1_000
_next_port: list[int] = []


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = worker.removeprefix("gw")
    return int(digits) % 12 if digits.isdigit() else 0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, from this test process's
    own block of ports."""
    start = _PORT_BASE + _worker_index() * _PORTS_PER_WORKER
    if not _next_port:
        # Another test run on the machine starts elsewhere in the block.
        _next_port.append(start + (os.getpid() * 7) % _PORTS_PER_WORKER)
    for _ in range(_PORTS_PER_WORKER):
        port = _next_port[0]
        _next_port[0] = start + (port + 1 - start) % _PORTS_PER_WORKER
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + _PORTS_PER_WORKER - 1}")


def pix_env(root: Path, values: dict[str, str]) -> dict[str, str]:
    """This process's environment without any PIX_* setting, storage at `root`, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIX_")}
    env.update(PIX_LOCAL_ROOT=str(root), **values)
    return env


def default_signals() -> None:
    """In the child before exec: SIGINT handled by default, as systemd and a terminal start a
    service. A test runner started in the background inherits SIGINT ignored, and Dagster's
    commands then ignore SIGTERM as well (they handle it as SIGINT)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(
    command: list[str], env: dict[str, str], log: Path, cwd: Path = PROJECT
) -> subprocess.Popen[bytes]:
    """A process in the project folder (or `cwd`) and its own group (stop it with
    stop_group), with default signal handling, its output in `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_signals,
        )


def backoff(first: float = 0.02, longest: float = 0.5) -> Iterator[float]:
    """Pauses between looks at something a process will do: short at first, so a test goes on
    as soon as it happened, and growing to `longest`, so a long wait costs little CPU."""
    pause = first
    while True:
        yield pause
        pause = min(longest, pause * 1.5)


def wait_for_http(
    url: str,
    procs: list[tuple[subprocess.Popen[bytes], Path]],
    host: str = "127.0.0.1",
    timeout: float = 180.0,
) -> None:
    """Until `url` answers without a server error; fails with the logs if a process exits."""
    deadline = time.monotonic() + timeout
    pauses = backoff()
    while time.monotonic() < deadline:
        for proc, log in procs:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args!r} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, headers={"Host": host}, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        pause = next(pauses)
        time.sleep(pause)
    logs = "\n".join(log.read_text(errors="replace")[-2000:] for _, log in procs)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{logs}")


@contextmanager
def dagster_dev(tmp_path: Path, values: dict[str, str]) -> Iterator[tuple[Path, int, Path]]:
    """`dagster dev` on a free port with a temp DAGSTER_HOME and storage root, the PIX_*
    `values` set (and no other PIX_* variable); yields (storage root, port, its log)."""
    if not DAGSTER.exists():
        pytest.skip(f"the dagster command is not installed next to {sys.executable}")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "scripts" / "dagster.local.yaml", home / "dagster.yaml")
    root = tmp_path / "storage"
    (root / "pix-jobs").mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = tmp_path / "dagster_dev.log"
    proc = start(
        [str(DAGSTER), "dev", "--host", "127.0.0.1", "--port", str(port)],
        {**pix_env(root, values), "DAGSTER_HOME": str(home)},
        log,
    )
    try:
        yield root, port, log
    finally:
        stop_group(proc)


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str, *logs: Path) -> T:
    """Until `predicate` returns something truthy (asked often at first, then every half
    second); fail with the tails of the processes' logs."""
    deadline = time.monotonic() + timeout
    pauses = backoff()
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(next(pauses))
    tails = "\n".join(
        f"--- {log.name}:\n{log.read_text(encoding='utf-8', errors='replace')[-4000:]}"
        for log in logs
    )
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; the processes said:\n{tails}")


def graphql(port: int, query: str, variables: dict[str, Any] | None = None) -> Any:
    """One query against the webserver's GraphQL endpoint; fails on GraphQL errors."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read())
    assert not answer.get("errors"), answer["errors"]
    return answer["data"]
