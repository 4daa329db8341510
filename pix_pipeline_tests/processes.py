"""Real processes in tests: ports for them, and Dagster started in its own process group."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

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
    (root / "pix-jobs").mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIX_")}
    env.update(DAGSTER_HOME=str(home), PIX_LOCAL_ROOT=str(root), **values)
    log = tmp_path / "dagster_dev.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(DAGSTER), "dev", "--host", "127.0.0.1", "--port", str(port)],
            cwd=PROJECT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield root, port, log
    finally:
        stop_group(proc)


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str, log: Path) -> T:
    """Poll `predicate` every second until it returns something truthy; fail with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; the process said:\n{tail}")
