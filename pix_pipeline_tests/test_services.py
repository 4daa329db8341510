"""Every service started as its systemd unit starts it: the unit's ExecStart, with only the
variables of the unit's environment files, in its working directory, as plain processes (CI
has no systemd). PostgreSQL, the code server, the daemon, both webservers, the desk and the
proxy (nginx): photos dropped in become a job, Daniel releases it through the proxy, and the
customer's gallery is there; `pix-pipeline doctor` passes. Then each service stops within 10 s
of SIGTERM, and the doctor notices the stopped daemon.

The services are started once for the module; the tests run in order (release, then stop).
"""

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import httpx
import pytest

from pix_pipeline.defs.doctor import check_daemon
from pix_pipeline.registry.repository import Registry
from pix_pipeline_tests.conftest import ProxyTools, fresh_database
from pix_pipeline_tests.desk.rig import csrf
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.processes import default_signals, free_port, stop_group, wait_for
from pix_pipeline_tests.systemd import (
    PROJECT,
    START_ORDER,
    Unit,
    dagster_env,
    env_file_names,
    render,
    units,
)
from pix_pipeline_tests.test_systemd_units import BIN, shipped_env_file

pytestmark = [pytest.mark.postgres, pytest.mark.proxy, pytest.mark.e2e]

JOB = "SERVICES1"
ADMIN, ADMIN_PASSWORD = "daniel", "admin-pw-5Kd"
ADMIN_HOST, VIEWER_HOST, DESK_HOST = "dagster.pix.test", "view.pix.test", "desk.pix.test"
PUBLIC_DAGSTER = f"http://{ADMIN_HOST}"
STOP_SECONDS = 10.0
# What systemd gives every service besides its environment files.
SYSTEMD_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}


@dataclass
class Installation:
    root: Path
    config: Path
    registry_url: str
    ports: dict[str, int]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def proxy(self, host: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"http://127.0.0.1:{self.ports['proxy']}",
            headers={"Host": host},
            auth=(ADMIN, ADMIN_PASSWORD),
            timeout=30,
        )


def env_files(config: Path, values: dict[str, dict[str, str]]) -> None:
    """The test's /etc/pix: each file sets only variables its shipped example names."""
    for name, settings in values.items():
        shipped = shipped_env_file(f"/etc/pix/{name}")
        unknown = set(settings) - env_file_names(shipped)
        assert not unknown, f"{name} does not name {sorted(unknown)}"
        lines = [f"{key}={value}" for key, value in settings.items()]
        (config / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def unit_environment(unit: Unit, config: Path) -> dict[str, str]:
    """What systemd hands the unit's process: its environment files, nothing of ours."""
    env = dict(SYSTEMD_ENV)
    for installed in unit.environment_files:
        for line in (config / Path(installed).name).read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            env[key] = value
    return env


def launch(unit: Unit, config: Path, state: Path, log: Path) -> subprocess.Popen[bytes]:
    rendered = Unit(unit.name, render(unit, bin_dir=BIN, config_dir=config, state_dir=state))
    workdir = rendered.value("WorkingDirectory") or str(state)
    with log.open("wb") as out:
        return subprocess.Popen(
            rendered.command,
            cwd=workdir,
            env=unit_environment(unit, config),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_signals,
        )


def with_ports(unit: Unit, ports: dict[str, int]) -> Unit:
    """The unit with this test's free ports in place of the shipped ones."""
    text = unit.text
    for shipped, name in (("4000", "code"), ("3000", "admin"), ("3002", "viewer")):
        text = re.sub(rf"-p {shipped}\b", f"-p {ports[name]}", text)
    return Unit(unit.name, text)


def answers(port: int) -> bool:
    try:
        with httpx.Client(timeout=2) as client:
            client.get(f"http://127.0.0.1:{port}/")
    except httpx.TransportError:
        return False
    return True


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def installation(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server_url: str,
    proxy_tools: ProxyTools,
) -> Iterator[Installation]:
    base = tmp_path_factory.mktemp("services")
    config, state, root = base / "etc", base / "state", base / "storage"
    for folder in (config, state, root / "pix-jobs", state / "dagster_home"):
        folder.mkdir(parents=True)
    (state / "dagster_home" / "dagster.yaml").write_bytes(
        (PROJECT / "deploy" / "dagster.one-machine.yaml").read_bytes()
    )
    admins = base / "admins"
    subprocess.run([proxy_tools.htpasswd, "-cbB", str(admins), ADMIN, ADMIN_PASSWORD], check=True)
    names = ("code", "admin", "viewer", "desk", "proxy")
    ports = {name: free_port() for name in names}
    with ExitStack() as stack:
        registry_url = stack.enter_context(fresh_database(postgres_server_url))
        dagster_url = stack.enter_context(fresh_database(postgres_server_url))
        env_files(
            config,
            {
                "dagster.env": dagster_env(
                    dagster_url, state / "dagster_home", state / "compute_logs"
                ),
                "storage.env": {
                    "PIX_STORAGE_BACKEND": "local",
                    "PIX_LOCAL_ROOT": str(root),
                    "PIX_DATABASE_URL": registry_url,
                },
                "pipeline.env": {
                    "PIX_SENSOR_INTERVAL_SECONDS": "1",
                    "PIX_SETTLE_SECONDS": "0",
                    "PIX_PRIVACY_PROVIDER": "none",
                    "PIX_IMAGE_WORKERS": "1",
                },
                "desk.env": {
                    "PIX_DESK_HOST": "127.0.0.1",
                    "PIX_DESK_PORT": str(ports["desk"]),
                    "PIX_DESK_TRUST_PROXY_USER": "true",
                    "PIX_DESK_SECRET": "services-test-secret",
                    "PIX_DAGSTER_URL": f"http://127.0.0.1:{ports['admin']}",
                    "PIX_DAGSTER_PUBLIC_URL": PUBLIC_DAGSTER,
                },
                "proxy.env": {
                    "PIX_PROXY_LISTEN": f"127.0.0.1:{ports['proxy']}",
                    "PIX_PROXY_ADMIN_HOST": ADMIN_HOST,
                    "PIX_PROXY_VIEWER_HOST": VIEWER_HOST,
                    "PIX_PROXY_DESK_HOST": DESK_HOST,
                    "PIX_PROXY_ADMINS_FILE": str(admins),
                    "PIX_PROXY_VIEWERS_FILE": str(admins),
                    "PIX_PROXY_ADMIN_UPSTREAM": f"127.0.0.1:{ports['admin']}",
                    "PIX_PROXY_VIEWER_UPSTREAM": f"127.0.0.1:{ports['viewer']}",
                    "PIX_PROXY_DESK_UPSTREAM": f"127.0.0.1:{ports['desk']}",
                    "PIX_PROXY_STATE_DIR": str(state / "proxy"),
                    "PIX_PROXY_WORKER_USER": os.environ.get("USER") or "root",
                },
            },
        )
        workspace = (PROJECT / "deploy" / "systemd" / "workspace.yaml").read_text(encoding="utf-8")
        (config / "workspace.yaml").write_text(
            workspace.replace("port: 4000", f"port: {ports['code']}"), encoding="utf-8"
        )
        # Deploy step 5: the registry schema, with the code server's storage settings.
        migrate = subprocess.run(
            [str(BIN / "pix-pipeline"), "migrate"],
            env={**SYSTEMD_ENV, "PIX_DATABASE_URL": registry_url},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrate.returncode == 0, migrate.stderr
        inst = Installation(root, config, registry_url, ports)
        all_units = units()
        try:
            for name in START_ORDER:
                inst.logs[name] = base / f"{name}.log"
                unit = with_ports(all_units[name], ports)
                inst.procs[name] = launch(unit, config, state, inst.logs[name])
                if name == "pix-code-server":
                    wait_for(lambda: port_open(ports["code"]), 120, name, inst.logs[name])
            logs = list(inst.logs.values())
            for port in ("admin", "viewer", "desk", "proxy"):
                wait_for(lambda p=ports[port]: answers(p), 180, f"port {port}", *logs)
            yield inst
        finally:
            for proc in inst.procs.values():
                if proc.poll() is None:
                    stop_group(proc)


def test_a_release_through_the_proxy_reaches_the_customers_gallery(installation: Installation):
    inst = installation
    final_input = inst.root / "pix-jobs" / JOB / "final_input"
    for i in range(2):
        write_settled(final_input / f"IMG_{i}.jpg", jpeg_bytes(photo((640, 480), seed=i)))
    registry = Registry.from_url(inst.registry_url)
    try:
        # The daemon ticks the sensor in the code server, which runs the job.
        wait_for(
            lambda: [i.status for i in registry.images_of_job(JOB)] == ["processed"] * 2,
            180,
            "the job's photos processed",
            *inst.logs.values(),
        )
        with inst.proxy(DESK_HOST) as desk:
            page = desk.get(f"/jobs/{JOB}")
            assert page.status_code == 200, page.text
            # The desk links to the Dagster UI at its public address, never the internal one.
            assert f'href="{PUBLIC_DAGSTER}"' in page.text
            released = desk.post(
                f"/jobs/{JOB}/release",
                data={"csrftoken": csrf(page.text), "approved_by": "Daniel", "note": ""},
            )
            assert released.status_code in (200, 303), released.text
        wait_for(
            lambda: (
                (job := registry.get_job(JOB)) is not None and job.gallery_visibility == "customer"
            ),
            180,
            "the release",
            *inst.logs.values(),
        )
    finally:
        registry.dispose()
    gallery = inst.root / "pix-jobs" / JOB / "gallery"
    assert sorted(p.name for p in (gallery / "images").iterdir()) == ["IMG_0.jpg", "IMG_1.jpg"]
    assert (gallery / "expose.json").is_file()
    # Monitoring on the machine sees every part well: the desk's /health, and the doctor run
    # with the code server's environment files (docs/production.md, step 8).
    health = httpx.get(f"http://127.0.0.1:{inst.ports['desk']}/health", timeout=30)
    assert (health.status_code, health.text) == (200, "registry ok\nstorage ok\ndagster ok\n")
    doctor = subprocess.run(
        [str(BIN / "pix-pipeline"), "doctor"],
        env=unit_environment(units()["pix-code-server"], inst.config),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert [line.split(":")[0] for line in doctor.stdout.splitlines()] == [
        f"ok    {name}"
        for name in (
            "registry",
            "storage",
            "models",
            "dagster instance",
            "dagster-daemon",
            "sensors",
            "memory",
        )
    ]


def test_each_service_stops_within_ten_seconds_of_sigterm(installation: Installation):
    # The proxy first, the code server last: the reverse of the start.
    took = {}
    for name in reversed(START_ORDER):
        proc = installation.procs[name]
        assert proc.poll() is None, f"{name} is not running"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=STOP_SECONDS + 20)
        took[name] = time.monotonic() - started
    print("seconds from SIGTERM to exit:", {name: round(s, 1) for name, s in took.items()})
    slow = {name: f"{seconds:.1f} s" for name, seconds in took.items() if seconds > STOP_SECONDS}
    assert not slow, f"stopped later than {STOP_SECONDS:.0f} s after SIGTERM: {slow}"


def test_the_doctor_fails_once_the_stopped_daemons_heartbeat_is_stale(
    installation: Installation,
):
    assert installation.procs["pix-daemon"].poll() is not None, "the daemon still runs"
    env = unit_environment(units()["pix-code-server"], installation.config)
    with pytest.MonkeyPatch.context() as mp:
        for name in ("DAGSTER_HOME", *(n for n in env if n.startswith("DAGSTER_"))):
            mp.setenv(name, env[name])
        with dg.DagsterInstance.get() as instance:
            # Its last heartbeats age; past the limit (shortened here from 90 s) the check fails.
            stale = wait_for(
                lambda: (c := check_daemon(instance, stale_after=1.0)) and not c.ok and c,
                10,
                "the heartbeat to go stale",
            )
    assert stale.line().startswith("FAIL  dagster-daemon: last heartbeat SENSOR ")
    assert "is dagster-daemon (pix-daemon) running?" in stale.line()
