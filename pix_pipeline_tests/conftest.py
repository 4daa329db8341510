"""Shared fixtures: a temp storage root, a registry on SQLite or the real PostgreSQL server,
a throw-away Dagster instance, a harness that drives Dagster the way the UI does, and a real
headless Chromium."""

import json
import logging
import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url

from pix_pipeline.definitions import build_definitions
from pix_pipeline.defs.partitions import PIX_JOBS, RUN_REVISION_TAG
from pix_pipeline.registry.repository import Registry
from pix_pipeline.registry.schema import NotificationRow
from pix_pipeline.settings import FILE_SUFFIX, VARIABLES, load_settings
from pix_pipeline_tests.browser import browser_context, chromium_process, require_chromium
from pix_pipeline_tests.databases import MigratedTemplates, fresh_database

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def usable_cpus() -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota.

    `os.cpu_count()` (pytest-xdist's `-n auto`) counts the host's cores, which oversubscribes a
    container limited to fewer.
    """
    cpus = len(os.sched_getaffinity(0))
    quota = _cgroup_cpu_quota()
    return max(1, min(cpus, quota) if quota else cpus)


def _cgroup_cpu_quota() -> int | None:
    """Whole CPUs of the cgroup's quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us`), if one is set."""
    import math

    v2 = Path("/sys/fs/cgroup/cpu.max")
    v1 = (Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us"))
    try:
        if v2.exists():
            quota, period = v2.read_text(encoding="ascii").split()[:2]
        elif v1[0].exists():
            quota, period = (f.read_text(encoding="ascii").strip() for f in v1)
        else:
            return None
    except (OSError, ValueError):
        return None
    if quota in ("max", "-1"):
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def _sqlite_without_fsync(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.close()


def pytest_configure(config: pytest.Config) -> None:
    """Default signal handling in this test process, and no fsync for its SQLite files.

    SQLite files in this test process (Dagster's test instances, the registries) skip fsync.
    A Dagster run in a test instance commits a few hundred events, each with its own fsync;
    waiting for the disk was half of a run's time. Without fsync a database survives a crash of
    the process that wrote it, only not one of the machine, which no test makes. Processes the
    tests start (dagster dev, the desk, crash children) keep SQLite's normal settings.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    # A test run started in the background (`cmd &` in a script) inherits SIGINT ignored, and
    # Dagster maps SIGTERM onto SIGINT's handler in every in-process run: SIGTERM would stay
    # ignored in this process and in every process a later test starts (`tail` for step logs,
    # dev.sh, the services), which then never stop when told to. Tests run with the default.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    if not event.contains(Engine, "connect", _sqlite_without_fsync):
        event.listen(Engine, "connect", _sqlite_without_fsync)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker per usable CPU, or PIX_TEST_WORKERS when set."""
    chosen = os.environ.get("PIX_TEST_WORKERS", "")
    return int(chosen) if chosen.isdigit() and int(chosen) > 0 else usable_cpus()


def _postgres_problem(url: str) -> str | None:
    try:
        import psycopg
    except ImportError:
        return "the psycopg driver is not installed (pip install '.[postgres]')"
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except Exception as exc:
        return f"no PostgreSQL server answers at {make_url(url).render_as_string()}: {exc}"


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    url = os.environ.get("PIX_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    problem = _postgres_problem(url)
    if problem:
        if os.environ.get("PIX_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PIX_REQUIRE_POSTGRES=1 but {problem}")
        pytest.skip(f"PostgreSQL tests skipped: {problem} (set PIX_TEST_POSTGRES_URL)")
    return url


@dataclass(frozen=True)
class ProxyTools:
    """The programs the authenticating proxy needs: nginx, and htpasswd for its password files."""

    nginx: str
    htpasswd: str


@pytest.fixture(scope="session")
def proxy_tools() -> ProxyTools:
    """nginx and htpasswd (Debian: nginx-light, apache2-utils); skip without them, or fail
    under PIX_REQUIRE_PROXY=1 (set by CI, which installs them)."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    htpasswd = shutil.which("htpasswd")
    missing = [name for name, found in (("nginx", nginx), ("htpasswd", htpasswd)) if not found]
    if missing:
        problem = f"{' and '.join(missing)} not installed (Debian: nginx-light, apache2-utils)"
        if os.environ.get("PIX_REQUIRE_PROXY") == "1":
            pytest.fail(f"PIX_REQUIRE_PROXY=1 but {problem}")
        pytest.skip(f"proxy tests skipped: {problem}")
    assert nginx and htpasswd
    return ProxyTools(nginx=nginx, htpasswd=htpasswd)


@pytest.fixture
def postgres_database(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the real server, dropped after the test."""
    with fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    """Registries at the newest schema, migrated once per test process (see databases.py)."""
    templates = MigratedTemplates(tmp_path_factory.mktemp("registry-templates"))
    yield templates
    templates.drop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 endpoint over HTTP: moto's server on 127.0.0.1, on a free port."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the test endpoint; AWS credentials point at it."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    name = f"pix-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, migrated_templates: MigratedTemplates
) -> Iterator[str]:
    """A registry database at the newest schema, on SQLite and on the real PostgreSQL server:
    a copy of one migrated per test process (the migration tests use empty ones)."""
    if request.param == "sqlite":
        yield migrated_templates.sqlite_url(tmp_path / "registry.sqlite3")
        return
    server_url: str = request.getfixturevalue("postgres_server_url")
    with migrated_templates.postgres_database(server_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on SQLite and on the real PostgreSQL server, for the tests of
    migrating one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def registry(database_url: str) -> Iterator[Registry]:
    reg = Registry.from_url(database_url)
    yield reg
    reg.dispose()


@pytest.fixture
def pix_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    """PIX_* variables pointing at a temp storage root and the test database."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name + FILE_SUFFIX, raising=False)
    root = tmp_path / "storage"
    (root / "pix-jobs").mkdir(parents=True)
    monkeypatch.setenv("PIX_LOCAL_ROOT", str(root))
    monkeypatch.setenv("PIX_DATABASE_URL", database_url)
    monkeypatch.setenv("PIX_SETTLE_SECONDS", "5")
    monkeypatch.setenv("PIX_IMAGE_WORKERS", "2")
    # Orchestration tests do not need the OCR and face models; their own tests use them.
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", "none")
    return root


class Harness:
    """Drives the project as Dagster does: sensor ticks, partition runs, launchpad releases."""

    def __init__(self, root: Path, instance: dg.DagsterInstance) -> None:
        self.root = root
        self.instance = instance
        self.defs = build_definitions(load_settings())
        self.registry = Registry.from_url(load_settings().database_url)

    def close(self) -> None:
        self.registry.dispose()

    def final_input(self, job_id: str) -> Path:
        folder = self.root / "pix-jobs" / job_id / "final_input"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def job_path(self, job_id: str, relative: str) -> Path:
        return self.root / "pix-jobs" / job_id / relative

    def read_json(self, job_id: str, relative: str) -> Any:
        return json.loads(self.job_path(job_id, relative).read_text(encoding="utf-8"))

    def tick(self) -> dg.SensorResult:
        """One evaluation of final_input_sensor; new partitions are added as the daemon would."""
        sensor = self.defs.resolve_sensor_def("final_input_sensor")
        with dg.build_sensor_context(
            instance=self.instance, resources=self.defs.resources
        ) as context:
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(PIX_JOBS, list(request.partition_keys))
        return result

    def outbox_tick(self) -> dg.SensorResult:
        """One evaluation of notification_outbox_sensor; its check results are reported to the
        instance as the daemon does."""
        sensor = self.defs.resolve_sensor_def("notification_outbox_sensor")
        with dg.build_sensor_context(
            instance=self.instance, resources=self.defs.resources
        ) as context:
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        for event in result.asset_events:
            self.instance.report_runless_asset_event(event)
        return result

    def make_notifications_due(self) -> None:
        """Every pending notification due now: a backoff's or a quiet wait's end, without
        sleeping through it."""
        with self.registry.session() as s:
            s.execute(
                update(NotificationRow)
                .where(NotificationRow.status == "pending")
                .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
            )

    def run_requested(self, result: dg.SensorResult) -> list[dg.ExecuteInProcessResult]:
        """Execute the runs a tick requested, with their tags, one after another."""
        job = self.defs.resolve_job_def("process_pix_job")
        outcomes = []
        for request in result.run_requests or []:
            outcomes.append(
                job.execute_in_process(
                    instance=self.instance,
                    partition_key=request.partition_key,
                    tags=dict(request.tags),
                )
            )
        return outcomes

    def tick_and_run(self) -> dg.SensorResult:
        result = self.tick()
        for outcome in self.run_requested(result):
            assert outcome.success
        return result

    def run(self, job_id: str, revision: int | None = None) -> dg.ExecuteInProcessResult:
        tags = {RUN_REVISION_TAG: str(revision)} if revision is not None else None
        return self.defs.resolve_job_def("process_pix_job").execute_in_process(
            instance=self.instance, partition_key=job_id, tags=tags
        )

    def release(self, job_id: str, **config: Any) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def("release_gallery").execute_in_process(
            instance=self.instance,
            partition_key=job_id,
            run_config={"ops": {"release_job_gallery": {"config": config}}},
            raise_on_error=False,
        )


@pytest.fixture
def harness(pix_root: Path) -> Iterator[Harness]:
    with dg.instance_for_test() as instance:
        h = Harness(pix_root, instance)
        yield h
        h.close()


@pytest.fixture(scope="session")
def chromium_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's Chromium, headless, one per test process; skips without it (see browser.py)."""
    executable = require_chromium()
    with chromium_process(executable, tmp_path_factory.mktemp("chromium") / "profile") as url:
        yield url


@pytest.fixture
def chromium(chromium_endpoint: str) -> Iterator["BrowserContext"]:
    """A fresh browser context (no cookies or storage of another test) in the shared Chromium."""
    with browser_context(chromium_endpoint) as context:
        yield context
