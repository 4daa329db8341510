"""scripts/dev.sh stops everything it started when its own process gets SIGINT or SIGTERM, as a
supervisor or another script sends them, not only when the terminal signals the whole group.

Real parts: the script itself, with `dagster dev` and the desk on free ports, a temp
DAGSTER_HOME and storage root.
"""

import os
import signal
import socket
import time
from pathlib import Path

import pytest

from pix_pipeline_tests.processes import PROJECT, free_port, pix_env, start, stop_group, wait_for

STOP_SECONDS = 20.0


def answers(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def group_members(pgid: int) -> list[str]:
    """The command lines of the process group's members."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                members.append((stat.parent / "cmdline").read_text().replace("\0", " "))
        except (OSError, IndexError, ValueError):
            continue
    return members


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.e2e
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_script_alone_stops_the_desk_and_dagster(
    tmp_path: Path, signum: signal.Signals
):
    ui_port, desk_port = free_port(), free_port()
    root = tmp_path / "storage"
    env = pix_env(
        root,
        {
            "PIX_UI_PORT": str(ui_port),
            "PIX_DESK_PORT": str(desk_port),
            "PIX_PRIVACY_PROVIDER": "none",
        },
    )
    env["DAGSTER_HOME"] = str(tmp_path / "dagster_home")
    log = tmp_path / "dev.log"
    # Its own process group, so the signal below reaches the script alone.
    script = start(["bash", str(PROJECT / "scripts" / "dev.sh")], env, log)
    try:
        # Both are up far enough to hold ports and children: the desk answers, and `dagster
        # dev` has started its webserver and daemon.
        wait_for(
            lambda: answers(desk_port) and len(group_members(script.pid)) >= 5,
            180,
            "the desk and dagster dev's processes",
            log,
        )
        started = time.monotonic()
        script.send_signal(signum)
        wait_for(
            lambda: script.poll() is not None and not group_alive(script.pid),
            STOP_SECONDS,
            "every process of dev.sh to stop",
            log,
        )
        assert time.monotonic() - started <= STOP_SECONDS
        assert script.returncode == 128 + signum
    finally:
        if group_alive(script.pid):
            stop_group(script)
