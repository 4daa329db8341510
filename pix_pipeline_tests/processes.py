"""Real processes in tests: ports for them, and Dagster started in its own process group."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

PROJECT = Path(__file__).resolve().parents[1]


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group (Dagster starts children), SIGKILL if it lingers."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_logged(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`args` in the project folder, in a process group of its own, output into `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            args, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_for_http(
    url: str,
    procs: list[tuple[subprocess.Popen[bytes], Path]],
    host: str = "127.0.0.1",
    timeout: float = 180.0,
) -> None:
    """Until `url` answers without a server error; fails with the logs if a process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc, log in procs:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args!r} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, headers={"Host": host}, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    logs = "\n".join(log.read_text(errors="replace")[-2000:] for _, log in procs)
    pytest.fail(f"{url} did not answer within {timeout:.0f} s:\n{logs}")
