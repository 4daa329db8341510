"""No credential leaves a trace: the pipeline runs in the production set-up (deploy/dagster.yaml
on PostgreSQL, S3 for photos and step logs) with every credential set to a distinctive value,
succeeds, fails on S3 and on the database; Daniel signs in to the desk through the proxy, with
wrong passwords first. Then every file, bucket object and database row left behind is searched
for each value.

Real parts only: moto's S3 server over HTTP (it accepts any key pair), the PostgreSQL server
(its trust authentication ignores the passwords), `dagster job execute` as subprocesses, the
desk and nginx (scripts/proxy.sh) as processes.
"""

import base64
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import httpx
import pytest
from sqlalchemy.engine import make_url

from pix_pipeline.defs.jobs import PROCESS_JOB_NAME
from pix_pipeline.defs.partitions import PARTITION_TAG
from pix_pipeline.notify.outbox import deliver_due
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import VARIABLES, load_settings
from pix_pipeline_tests.conftest import Harness, ProxyTools, fresh_database
from pix_pipeline_tests.desk.rig import csrf
from pix_pipeline_tests.images import jpeg_bytes, photo, png_bytes
from pix_pipeline_tests.processes import free_port, start, stop_group, wait_for_http
from pix_pipeline_tests.webhooks import Receiver

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
JOB = "LEAKJOB"
PREFIX = "prod"
RUN_TIMEOUT = 240

# Distinctive values: none of them can turn up anywhere by chance.
MARK = uuid.uuid4().hex[:10]
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": f"AKIALEAK{MARK.upper()}",
    "AWS_SECRET_ACCESS_KEY": f"s3-secret-{MARK}-Zq81vTw",
    "registry database password": f"registry-pw-{MARK}",
    "DAGSTER_POSTGRES_PASSWORD": f"dagster-pw-{MARK}",
    "PIX_NOTIFY_WEBHOOK_SECRET": "whsec_"
    + base64.b64encode(f"webhook-key-{MARK}-0123456789".encode()).decode(),
    "PIX_DESK_PASSWORD": f"desk-pw-{MARK}",
    "PIX_DESK_SECRET": f"desk-session-key-{MARK}-0123456789abcdef",
    "proxy password": f"proxy-pw-{MARK}",
}
# The webhook's signing key as the notifier uses it: the secret's bytes after `whsec_`.
CREDENTIALS["webhook signing key"] = f"webhook-key-{MARK}"
# What a browser sends for the proxy's login: the password in base64.
CREDENTIALS["proxy Authorization header"] = base64.b64encode(
    f"daniel:{CREDENTIALS['proxy password']}".encode()
).decode()

pytestmark = pytest.mark.postgres


def database_rows(server_url: str, name: str) -> str:
    """Every row of every table of the database, as text."""
    import psycopg

    url = make_url(server_url).set(drivername="postgresql", database=name)
    parts = []
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'public'"
        ).fetchall()
        for (table,) in tables:
            for (row,) in conn.execute(f'select t::text from "{table}" t'):
                parts.append(f"{table}: {row}")
    return "\n".join(parts)


@pytest.fixture
def databases(postgres_server_url: str) -> Iterator[tuple[str, str]]:
    """Two fresh databases: the registry's and Dagster's own (their table names overlap)."""
    with (
        fresh_database(postgres_server_url) as registry,
        fresh_database(postgres_server_url) as dg_,
    ):
        yield make_url(registry).database or "", make_url(dg_).database or ""


@pytest.fixture
def production_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server_url: str,
    databases: tuple[str, str],
    s3_endpoint: str,
    s3_bucket: str,
    proxy_tools: ProxyTools,
    receiver: Receiver,
) -> dict[str, str]:
    """The README's production variables, every credential set; in os.environ for subprocesses."""
    registry_db, dagster_db = databases
    server = make_url(postgres_server_url)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_bytes((PROJECT / "deploy" / "dagster.yaml").read_bytes())
    # The proxy's password file, as the proxy reads it; the processes only get its path.
    admins = tmp_path / "proxy_admins"
    password = CREDENTIALS["proxy password"]
    subprocess.run([proxy_tools.htpasswd, "-cbB", str(admins), "daniel", password], check=True)
    registry_url = server.set(
        database=registry_db, password=CREDENTIALS["registry database password"]
    ).render_as_string(hide_password=False)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_POSTGRES_HOST": server.host or "127.0.0.1",
        "DAGSTER_POSTGRES_PORT": str(server.port or 5432),
        "DAGSTER_POSTGRES_USER": server.username or "postgres",
        "DAGSTER_POSTGRES_PASSWORD": CREDENTIALS["DAGSTER_POSTGRES_PASSWORD"],
        "DAGSTER_POSTGRES_DB": dagster_db,
        "DAGSTER_COMPUTE_LOGS_BUCKET": s3_bucket,
        "DAGSTER_COMPUTE_LOGS_PREFIX": "dagster/compute-logs",
        "DAGSTER_COMPUTE_LOGS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "PIX_STORAGE_BACKEND": "s3",
        "PIX_S3_BUCKET": s3_bucket,
        "PIX_S3_PREFIX": PREFIX,
        "PIX_S3_ENDPOINT_URL": s3_endpoint,
        "PIX_S3_REGION": "us-east-1",
        "PIX_LOCAL_ROOT": str(tmp_path / "storage"),
        "PIX_DATABASE_URL": registry_url,
        "PIX_NOTIFIER": "webhook",
        "PIX_NOTIFY_WEBHOOK_URL": receiver.url,
        "PIX_NOTIFY_WEBHOOK_SECRET": CREDENTIALS["PIX_NOTIFY_WEBHOOK_SECRET"],
        "PIX_DESK_PASSWORD": CREDENTIALS["PIX_DESK_PASSWORD"],
        "PIX_DESK_SECRET": CREDENTIALS["PIX_DESK_SECRET"],
        "PIX_PROXY_ADMINS_FILE": str(admins),
        "PIX_PRIVACY_PROVIDER": "none",
        "PIX_IMAGE_WORKERS": "1",
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The web backend's webhook: it fails the first delivery (an error to record), then takes
    the rest, each verified against the secret."""
    made = Receiver(CREDENTIALS["PIX_NOTIFY_WEBHOOK_SECRET"], answers=[500]).start()
    yield made
    made.stop()


def deliver_notifications(logs: Path) -> None:
    """The outbox sensor's work in this process (twice: after a failure, once it is due), its
    log lines into a file as a daemon's would go."""
    handler = logging.FileHandler(logs / "outbox.log", encoding="utf-8")
    root_logger, level = logging.getLogger(), logging.getLogger().level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)  # as dagster.yaml's python_log_level
    rt = build_runtime(load_settings())
    try:
        later = datetime.now(UTC) + timedelta(hours=2)  # past any backoff
        deliver_due(rt)
        deliver_due(rt, clock=lambda: later)
    finally:
        rt.close()
        root_logger.removeHandler(handler)
        root_logger.setLevel(level)
        handler.close()


def execute(
    job: str, logs: Path, name: str, config: Mapping[str, Any] | None = None, **env: str
) -> tuple[int, str]:
    """`dagster job execute` of one job partition, as a separate process; its output to a file."""
    args = [str(BIN / "dagster"), "job", "execute", "-m", "pix_pipeline.definitions", "-j", job]
    args += ["--tags", json.dumps({PARTITION_TAG: JOB})]
    if config is not None:
        config_file = logs / f"{name}.run_config.json"
        config_file.write_text(json.dumps(config), encoding="utf-8")
        args += ["-c", str(config_file)]
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        done = subprocess.run(
            args,
            cwd=PROJECT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=RUN_TIMEOUT,
        )
    return done.returncode, log.read_text(encoding="utf-8", errors="replace")


def sign_in_to_the_desk_through_the_proxy(tmp_path: Path, logs: Path) -> None:
    """Wrong proxy password, right one; wrong desk password, right one; the jobs page."""
    desk_port, proxy_port = free_port(), free_port()
    desk_log, proxy_log = logs / "desk.log", logs / "proxy.log"
    desk = start(
        [sys.executable, "-m", "pix_pipeline.desk"],
        {**os.environ, "PIX_DESK_HOST": "127.0.0.1", "PIX_DESK_PORT": str(desk_port)},
        desk_log,
    )
    proxy = start(
        ["bash", str(PROJECT / "scripts" / "proxy.sh")],
        {
            **os.environ,
            "PIX_PROXY_LISTEN": f"127.0.0.1:{proxy_port}",
            "PIX_PROXY_STATE_DIR": str(tmp_path / "proxy_state"),
            "PIX_PROXY_DESK_UPSTREAM": f"127.0.0.1:{desk_port}",
            "PIX_PROXY_DESK_HOST": "desk.pix.test",
            "PIX_PROXY_WORKER_USER": os.environ.get("USER") or "root",
        },
        proxy_log,
    )
    try:
        procs = [(desk, desk_log), (proxy, proxy_log)]
        wait_for_http(f"http://127.0.0.1:{desk_port}/login", procs)
        wait_for_http(f"http://127.0.0.1:{proxy_port}/", procs, "desk.pix.test")
        proxy_password = CREDENTIALS["proxy password"]
        base = f"http://127.0.0.1:{proxy_port}"
        page = {"Host": "desk.pix.test", "Accept": "text/html"}
        wrong = httpx.get(base + "/", headers=page, auth=("daniel", "x" + proxy_password))
        assert wrong.status_code == 401
        with httpx.Client(base_url=base, headers=page, auth=("daniel", proxy_password)) as web:
            form = web.get("/login")
            assert form.status_code == 200
            login = {"user": "daniel", "next": "/", "csrftoken": csrf(form.text)}
            bad = web.post("/login", data={**login, "password": "wrong-desk-password"})
            assert bad.status_code == 401
            form = web.get("/login")
            login["csrftoken"] = csrf(form.text)
            good = web.post("/login", data={**login, "password": CREDENTIALS["PIX_DESK_PASSWORD"]})
            assert good.status_code == 303
            jobs = web.get("/")
            assert jobs.status_code == 200 and JOB in jobs.text
    finally:
        stop_group(proxy)
        stop_group(desk)


def bucket_objects(endpoint: str, bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    return {key: s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def test_no_credential_appears_in_anything_the_runs_leave_behind(
    production_env: dict[str, str],
    tmp_path: Path,
    postgres_server_url: str,
    databases: tuple[str, str],
    s3_endpoint: str,
    s3_bucket: str,
    receiver: Receiver,
):
    logs = tmp_path / "logs"
    logs.mkdir()
    drop = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")

    def put(name: str, data: bytes) -> None:
        drop.put_object(
            Bucket=s3_bucket, Key=f"{PREFIX}/pix-jobs/{JOB}/final_input/{name}", Body=data
        )

    put("IMG_1.jpg", jpeg_bytes(photo((640, 480), seed=1)))
    put("not_a_jpeg.jpg", png_bytes())  # a rejected photo: an error message in the registry

    # The sensor's tick in this process, its log lines into a file like a daemon's.
    handler = logging.FileHandler(logs / "sensor.log", encoding="utf-8")
    root_logger, level = logging.getLogger(), logging.getLogger().level
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)  # as dagster.yaml's python_log_level
    try:
        with dg.DagsterInstance.get() as instance:
            harness = Harness(tmp_path / "storage", instance)
            try:
                assert [r.partition_key for r in harness.tick().run_requests or []] == [JOB]
            finally:
                harness.close()
    finally:
        root_logger.removeHandler(handler)
        root_logger.setLevel(level)
        handler.close()

    code, out = execute(PROCESS_JOB_NAME, logs, "process")
    assert code == 0, out[-3000:]
    release = {"ops": {"release_job_gallery": {"config": {"approved_by": "Daniel"}}}}
    code, out = execute("release_gallery", logs, "release", release)
    assert code == 0, out[-3000:]
    deliver_notifications(logs)
    delivered = [r.event["type"] for r in receiver.accepted if r.verified]
    assert "gallery.released" in delivered  # signed with the secret, after one failure

    # Failure paths, where secrets usually leak: error messages. An S3 read that fails ...
    put("IMG_2.jpg", jpeg_bytes(photo((640, 480), seed=2)))
    with dg.DagsterInstance.get() as instance:
        harness = Harness(tmp_path / "storage", instance)
        try:
            harness.tick()
        finally:
            harness.close()
    code, s3_failure = execute(
        PROCESS_JOB_NAME, logs, "s3_failure", PIX_S3_BUCKET=f"missing-{MARK}"
    )
    assert code != 0 and "NoSuchBucket" in s3_failure
    # ... and a registry database that does not answer.
    unreachable = make_url(production_env["PIX_DATABASE_URL"]).set(port=1)
    code, db_failure = execute(
        PROCESS_JOB_NAME,
        logs,
        "database_failure",
        PIX_DATABASE_URL=unreachable.render_as_string(hide_password=False),
    )
    assert code != 0 and "RegistryUnavailable" in db_failure

    sign_in_to_the_desk_through_the_proxy(tmp_path, logs)

    # Everything the runs left: files (logs, Dagster home, local folders), the bucket (photos,
    # documents, step logs), both databases (registry; Dagster's runs and event log).
    places: dict[str, bytes] = {
        str(p.relative_to(tmp_path)): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
    }
    objects = bucket_objects(s3_endpoint, s3_bucket)
    places.update({f"s3://{s3_bucket}/{k}": v for k, v in objects.items()})
    registry_db, dagster_db = databases
    places["registry database"] = database_rows(postgres_server_url, registry_db).encode()
    places["dagster database"] = database_rows(postgres_server_url, dagster_db).encode()

    # The search reaches what matters: step logs, the failures in the event log, the registry.
    assert any("compute-logs" in key for key in objects), sorted(objects)
    assert b"NoSuchBucket" in places["dagster database"]
    assert b"STEP_FAILURE" in places["dagster database"]
    assert b"RESOURCE_INIT_FAILURE" in places["dagster database"]
    assert b"not_a_jpeg.jpg" in places["registry database"]
    assert b"gallery.released" in places["registry database"]
    assert b"failed login" in places["logs/desk.log"]
    assert b'"GET / HTTP/1.1" 401' in places["proxy_state/access.log"]
    assert b"password mismatch" in places["logs/proxy.log"]

    leaks = {
        (credential, place)
        for credential, value in CREDENTIALS.items()
        for place, content in places.items()
        if value.encode() in content
    }
    assert leaks == set()
