"""Fixtures of the desk's tests: a processed job on SQLite and a desk in front of it."""

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import make_url

from pix_pipeline.desk.auth import LoginThrottle
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings
from pix_pipeline_tests.conftest import Harness
from pix_pipeline_tests.databases import MigratedTemplates
from pix_pipeline_tests.desk.rig import JOB, Rig, desk_client, desk_settings, write_job
from pix_pipeline_tests.processed import ProcessedJobs
from pix_pipeline_tests.processes import free_port


@pytest.fixture
def database_url(tmp_path: Path, migrated_templates: MigratedTemplates) -> str:
    """The desk's tests run on SQLite; the SQL of its queries is tested on both databases."""
    return migrated_templates.sqlite_url(tmp_path / "registry.sqlite3")


@pytest.fixture
def privacy_provider() -> str:
    """The privacy check of the rig's job; a test overrides it with its own fixture."""
    return "pix_pipeline_tests.providers:ColourCodedPrivacy"


@pytest.fixture(scope="session")
def processed_jobs(tmp_path_factory: pytest.TempPathFactory) -> ProcessedJobs:
    return ProcessedJobs(tmp_path_factory.mktemp("processed-jobs"))


def _process_demo_job(root: Path, instance: dg.DagsterInstance) -> None:
    harness = Harness(root, instance)
    try:
        write_job(harness.final_input(JOB))
        harness.tick()
        assert harness.run(JOB).success
    finally:
        harness.close()


@pytest.fixture
def rig(
    pix_root: Path,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    privacy_provider: str,
    processed_jobs: ProcessedJobs,
) -> Iterator[Rig]:
    """The demo job, processed with `privacy_provider`, and a desk in front of it. The
    processing happens once per test process; each test gets its own copy (processed.py)."""
    monkeypatch.setenv("PIX_PRIVACY_PROVIDER", privacy_provider)
    # Every setting but where things are decides what the processing made.
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("PIX_") and k not in ("PIX_LOCAL_ROOT", "PIX_DATABASE_URL")
    }
    with processed_jobs.copy(
        "desk-demo:" + repr(sorted(env.items())),
        _process_demo_job,
        root=pix_root,
        database=Path(make_url(database_url).database or ""),
        env=env,
        dagster_home=tmp_path / "dagster_home",
    ) as instance:
        harness = Harness(pix_root, instance)
        runtime = build_runtime(load_settings())
        # Nothing listens there: a test that launches a run uses its own Dagster.
        settings = desk_settings(f"http://127.0.0.1:{free_port()}")
        throttle = LoginThrottle()
        yield Rig(harness, runtime, desk_client(settings, runtime, throttle), settings, throttle)
        runtime.close()
        harness.close()
