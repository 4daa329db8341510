"""deploy/dagster.yaml as a real Dagster instance: PostgreSQL storage, the run queue that keeps one
run per photo job, compute logs in an S3 bucket, and dagster-daemon starting the queued runs.

Real parts only: a fresh database on the PostgreSQL server, moto's S3 server over HTTP, the
`dagster job launch` and `dagster-daemon run` commands as subprocesses, JPEGs made by Pillow.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy.engine import make_url

from pix_pipeline.defs.jobs import PROCESS_JOB_NAME
from pix_pipeline.defs.partitions import PARTITION_TAG, PIX_JOBS
from pix_pipeline.registry.repository import Registry
from pix_pipeline.settings import VARIABLES
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.images import jpeg_bytes, photo, write_settled
from pix_pipeline_tests.processes import stop_group
from pix_pipeline_tests.systemd import dagster_env

PROJECT = Path(__file__).resolve().parents[1]
DEPLOY_YAML = PROJECT / "deploy" / "dagster.yaml"
ONE_MACHINE_YAML = PROJECT / "deploy" / "dagster.one-machine.yaml"
WORKSPACE = PROJECT / "workspace.yaml"
BIN = Path(sys.executable).parent
JOB = "JOB1"
LOG_PREFIX = "dagster/compute-logs"
# Two runs one after another, each a few seconds from dequeue to the last step.
RUNS_TIMEOUT = 75.0

pytestmark = pytest.mark.postgres


@pytest.fixture
def deploy_home(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_database: str,
    s3_endpoint: str,
    s3_bucket: str,
) -> Path:
    """DAGSTER_HOME holding deploy/dagster.yaml, its variables set, the pipeline on a temp root.

    The variables go into os.environ, so the daemon and CLI subprocesses inherit them; the
    conftest fixtures give a fresh database and a fresh bucket (and dummy AWS credentials).
    """
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_YAML, home / "dagster.yaml")
    root = tmp_path / "storage"
    (root / "pix-jobs").mkdir(parents=True)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    env = {
        # DAGSTER_COMPUTE_LOGS_DIR among them is read by the one-machine file only.
        **dagster_env(postgres_database, home, tmp_path / "compute_logs"),
        "DAGSTER_COMPUTE_LOGS_BUCKET": s3_bucket,
        "DAGSTER_COMPUTE_LOGS_PREFIX": LOG_PREFIX,
        "DAGSTER_COMPUTE_LOGS_ENDPOINT_URL": s3_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        # As on R2 (README "Production"): checksums only where the operation requires them.
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        # No developer's AWS config or credentials files leak into the test.
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "PIX_LOCAL_ROOT": str(root),
        "PIX_DATABASE_URL": f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        "PIX_PRIVACY_PROVIDER": "none",
        "PIX_SETTLE_SECONDS": "0",
        "PIX_IMAGE_WORKERS": "2",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return home


@pytest.fixture
def instance(deploy_home: Path) -> Iterator[dg.DagsterInstance]:
    """The instance every Dagster process builds from $DAGSTER_HOME/dagster.yaml."""
    with dg.DagsterInstance.get() as inst:
        yield inst


def test_the_one_machine_instance_keeps_step_logs_on_local_disk_with_postgres_storage(
    deploy_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from dagster_postgres import PostgresRunStorage

    shutil.copy(ONE_MACHINE_YAML, deploy_home / "dagster.yaml")
    logs = tmp_path / "compute_logs"
    for name in ("BUCKET", "PREFIX", "ENDPOINT_URL"):
        monkeypatch.delenv(f"DAGSTER_COMPUTE_LOGS_{name}")
    with dg.DagsterInstance.get() as inst:
        assert isinstance(inst.run_storage, PostgresRunStorage)
        manager = inst.compute_log_manager
        assert type(manager).__name__ == "LocalComputeLogManager"
        # A step's output lands under DAGSTER_COMPUTE_LOGS_DIR, where the webservers read it.
        with manager.capture_logs(["run1", "compute_logs", "step1"]):
            print("hello from a step", flush=True)
        written = [p for p in logs.rglob("*") if p.is_file()]
        assert any("hello from a step" in p.read_text(errors="replace") for p in written)
        coordinator = inst.run_coordinator
        assert isinstance(coordinator, dg.QueuedRunCoordinator)
        assert coordinator.get_run_queue_config().max_concurrent_runs == 4


def test_the_two_instance_configs_differ_only_in_step_logs_and_runs_at_once():
    one, several = (
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in (ONE_MACHINE_YAML, DEPLOY_YAML)
    )
    assert one.pop("compute_logs")["class"] == "LocalComputeLogManager"
    assert several.pop("compute_logs")["class"] == "S3ComputeLogManager"
    for config in (one, several):
        config["run_coordinator"]["config"].pop("max_concurrent_runs")
    assert one == several


def launch(run_id: str, tags: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`dagster job launch`: the run goes to the instance's run coordinator, as from the UI."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                str(BIN / "dagster"),
                *("job", "launch", "-w", str(WORKSPACE), "-j", PROCESS_JOB_NAME),
                *("--run-id", run_id, "--tags", json.dumps(tags)),
            ],
            cwd=PROJECT,
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )


@contextmanager
def running_daemon(log: Path) -> Iterator[None]:
    """`dagster-daemon run` on the workspace; stops its whole process group (the daemon, its
    code server and run workers) afterwards."""
    daemon = BIN / "dagster-daemon"
    if not daemon.exists():
        pytest.skip(f"the dagster-daemon command is not installed next to {sys.executable}")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(daemon), "run", "-w", str(WORKSPACE)],
            cwd=PROJECT,
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield
    finally:
        stop_group(proc)


def tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(encoding="utf-8", errors="replace")[-chars:]


def wait_until_finished(
    instance: dg.DagsterInstance, run_ids: list[str], daemon_log: Path
) -> list[dg.RunRecord]:
    deadline = time.monotonic() + RUNS_TIMEOUT
    records: list[dg.RunRecord] = []
    while time.monotonic() < deadline:
        records = list(instance.get_run_records(filters=dg.RunsFilter(run_ids=run_ids)))
        if len(records) == len(run_ids) and all(r.dagster_run.is_finished for r in records):
            return records
        time.sleep(1)
    states = {r.dagster_run.run_id: r.dagster_run.status.value for r in records}
    pytest.fail(
        f"runs not finished after {RUNS_TIMEOUT:.0f} s: {states}\n"
        f"dagster-daemon said:\n{tail(daemon_log)}"
    )


def test_deploy_yaml_builds_a_postgres_instance_with_run_queue_and_s3_compute_logs(
    instance: dg.DagsterInstance,
):
    from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    assert isinstance(instance.run_storage, PostgresRunStorage)
    # The fresh test database, through the driver dagster-postgres is written for.
    url = make_url(instance.run_storage.postgres_url)
    assert (url.drivername, url.database) == (
        "postgresql+psycopg2",
        os.environ["DAGSTER_POSTGRES_DB"],
    )
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    assert isinstance(instance.compute_log_manager, S3ComputeLogManager)
    coordinator = instance.run_coordinator
    assert isinstance(coordinator, dg.QueuedRunCoordinator)
    queue = coordinator.get_run_queue_config()
    assert queue.max_concurrent_runs > 1
    assert queue.tag_concurrency_limits == [
        {"key": PARTITION_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]
    assert instance.run_monitoring_enabled
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
    assert not instance.run_retries_retry_on_asset_or_op_failure


def test_two_queued_runs_of_one_job_run_one_after_another_under_the_daemon(
    instance: dg.DagsterInstance, tmp_path: Path
):
    import boto3

    daemon_log = tmp_path / "dagster_daemon.log"
    root = Path(os.environ["PIX_LOCAL_ROOT"])

    # The sensor tick, against the PostgreSQL-backed instance, finds the job and asks for a run.
    harness = Harness(root, instance)
    try:
        for i in range(2):
            write_settled(
                harness.final_input(JOB) / f"IMG_{i}.jpg", jpeg_bytes(photo((640, 480), seed=i))
            )
        tick = harness.tick()
    finally:
        harness.close()
    requests = list(tick.run_requests or [])
    assert [r.partition_key for r in requests] == [JOB]
    assert [list(r.partition_keys) for r in tick.dynamic_partitions_requests or []] == [[JOB]]
    assert instance.get_dynamic_partitions(PIX_JOBS) == [JOB]

    # Two runs for the same job, submitted through the instance's run coordinator: both queue.
    tags = {**requests[0].tags, PARTITION_TAG: JOB}
    run_ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    launches = [launch(rid, tags, tmp_path / f"launch_{n}.log") for n, rid in enumerate(run_ids)]
    for n, proc in enumerate(launches):
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert code == 0, f"dagster job launch failed:\n{tail(tmp_path / f'launch_{n}.log')}"
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.QUEUED
        assert run.tags[PARTITION_TAG] == JOB

    with running_daemon(daemon_log):
        records = wait_until_finished(instance, run_ids, daemon_log)

    assert [r.dagster_run.status for r in records] == [dg.DagsterRunStatus.SUCCESS] * 2
    first, second = sorted(records, key=lambda r: r.start_time or 0.0)
    assert first.start_time is not None and first.end_time is not None
    assert second.start_time is not None and second.end_time is not None
    assert second.start_time >= first.end_time, "the job's two runs overlapped"

    # The runs did the work: both photos processed into the draft gallery.
    registry = Registry.from_url(os.environ["PIX_DATABASE_URL"])
    try:
        assert sorted(i.status for i in registry.images_of_job(JOB)) == ["processed"] * 2
    finally:
        registry.dispose()
    assert (root / "pix-jobs" / JOB / "pipeline" / "meta" / "job_expose.json").is_file()
    assert len(list((root / "pix-jobs" / JOB / "gallery" / "images").iterdir())) == 2

    # Step logs went to the bucket under the configured prefix, one folder per run.
    s3 = boto3.client("s3", endpoint_url=os.environ["DAGSTER_COMPUTE_LOGS_ENDPOINT_URL"])
    bucket = os.environ["DAGSTER_COMPUTE_LOGS_BUCKET"]
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{LOG_PREFIX}/")
    keys = [obj["Key"] for obj in listing.get("Contents", [])]
    assert keys, "no compute logs were uploaded"
    assert {rid for rid in run_ids if any(rid in key for key in keys)} == set(run_ids)
