"""Real processes in tests: ports for them, and Dagster started in its own process group."""

import os
import signal
import socket
import subprocess


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
