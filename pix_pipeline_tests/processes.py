"""Real Dagster processes in tests: started in their own process group, stopped with it."""

import os
import signal
import subprocess


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group (Dagster starts children), SIGKILL if it lingers."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
