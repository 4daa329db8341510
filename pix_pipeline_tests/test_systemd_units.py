"""deploy/systemd/: every unit runs an installed command itself, reads only environment files
whose variables it uses, and the settings table in docs/production.md is the one the code
writes. `systemd-analyze verify` checks the units rendered with this test's paths where it
exists."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pix_pipeline.defs.cli import TABLE_END, TABLE_START
from pix_pipeline.settings import READ_BY, VARIABLES, variables_table
from pix_pipeline_tests.systemd import (
    CHECKOUT,
    CONFIG_DIR,
    PROJECT,
    START_ORDER,
    UNITS_DIR,
    VENV_BIN,
    env_file_names,
    render,
    units,
)

BIN = Path(sys.executable).parent
SERVICES = set(START_ORDER)


def shipped_env_file(installed: str) -> Path:
    """The file in the repository that is copied to `installed` (docs/production.md, step 4)."""
    name = Path(installed).name
    if name == "proxy.env":
        return PROJECT / "deploy" / "proxy" / "proxy.env.example"
    return UNITS_DIR / name


def test_every_service_has_a_unit():
    assert set(units()) == SERVICES


def test_every_setting_names_the_units_that_read_it_and_the_docs_table_is_current():
    assert set(READ_BY) == set(VARIABLES)
    assert {unit for readers in READ_BY.values() for unit in readers} <= SERVICES
    # The pipeline's settings belong to the code server, where sensors and runs execute.
    assert READ_BY["PIX_NOTIFIER"] == ("pix-code-server",)
    docs = (PROJECT / "docs" / "production.md").read_text(encoding="utf-8")
    table = docs.split(TABLE_START + "\n", 1)[1].split(TABLE_END, 1)[0]
    assert table == variables_table(), (
        "run `pix-pipeline settings-table --write docs/production.md`"
    )


def test_each_unit_runs_an_installed_command_itself():
    for name, unit in units().items():
        command = unit.command
        program = command[0]
        if program.startswith(VENV_BIN):
            assert (BIN / program.removeprefix(VENV_BIN)).is_file(), f"{name}: {program}"
        else:
            assert program.startswith(f"{CHECKOUT}/scripts/"), f"{name}: {program}"
            script = PROJECT / program.removeprefix(f"{CHECKOUT}/")
            # The script ends by replacing itself with the service (exec), never backgrounding.
            assert script.read_text(encoding="utf-8").rstrip().splitlines()[-1].startswith("exec ")
        assert not {"sh", "bash", "-c", "&", "nohup", "setsid"} & {Path(c).name for c in command}
        assert "127.0.0.1" in unit.value("ExecStart") or name in (
            "pix-daemon",
            "pix-desk",
            "pix-proxy",
        )


def test_each_environment_file_holds_only_variables_its_units_read():
    for name, unit in units().items():
        assert unit.environment_files, name
        for installed in unit.environment_files:
            assert installed.startswith(CONFIG_DIR)
            names = env_file_names(shipped_env_file(installed))
            pipeline = {n for n in names if n in VARIABLES}
            unread = sorted(n for n in pipeline if name not in READ_BY[n])
            assert not unread, f"{installed} names {unread}, which {name} does not read"


def test_the_code_server_lets_a_release_finish_and_the_others_use_it():
    all_units = units()
    code_server = all_units["pix-code-server"]
    # SIGTERM to the server alone, which waits for its runs; the timeout covers a release.
    assert code_server.value("KillMode") == "mixed"
    assert code_server.value("TimeoutStopSec") == "1h"
    port = code_server.command[code_server.command.index("-p") + 1]
    workspace = yaml.safe_load((UNITS_DIR / "workspace.yaml").read_text(encoding="utf-8"))
    [entry] = workspace["load_from"]
    assert entry["grpc_server"] == {
        "host": "127.0.0.1",
        "port": int(port),
        "location_name": "pix_pipeline",
    }
    for name in ("pix-daemon", "pix-webserver", "pix-webserver-viewers"):
        command = all_units[name].command
        assert command[command.index("-w") + 1] == f"{CONFIG_DIR}workspace.yaml"
        assert all_units[name].environment_files == [f"{CONFIG_DIR}dagster.env"]
    assert "--read-only" in all_units["pix-webserver-viewers"].command
    assert "--read-only" not in all_units["pix-webserver"].command


def test_systemd_analyze_verifies_the_units_rendered_with_real_paths(tmp_path: Path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    config, state, unit_dir = tmp_path / "etc", tmp_path / "state", tmp_path / "units"
    for folder in (config, state, unit_dir):
        folder.mkdir()
    rendered = []
    for unit in units().values():
        for installed in unit.environment_files:
            shutil.copy(shipped_env_file(installed), config / Path(installed).name)
        path = unit_dir / f"{unit.name}.service"
        path.write_text(
            render(unit, bin_dir=BIN, config_dir=config, state_dir=state), encoding="utf-8"
        )
        rendered.append(str(path))
    done = subprocess.run(
        [analyze, "verify", "--man=no", *rendered],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        # Outside a booted systemd (containers, CI) it cannot reach the manager or the units
        # named in After=/Wants= (postgresql.service); neither is about these files.
        if "pix-" in line and "not found" not in line.lower()
    ]
    assert not problems, done.stdout + done.stderr
