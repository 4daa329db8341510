"""Backup and restore as docs/production.md ("Backup and restore") says: `pg_dump` of the
registry and of Dagster's database, `tar` of the photo storage; restored with `pg_restore` into
fresh databases and `tar` into a fresh folder, the state is the same and the desk shows it.

Real parts: two databases on the PostgreSQL server, Dagster's instance on PostgreSQL
(deploy/dagster.one-machine.yaml), the pg_dump / pg_restore / tar commands, JPEGs made by
Pillow, the desk's app.
"""

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import make_url

from pix_pipeline.desk import words
from pix_pipeline.desk.auth import LoginThrottle
from pix_pipeline.domain.review import check_photo, hide_photo
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import VARIABLES, load_settings
from pix_pipeline_tests.conftest import Harness, fresh_database
from pix_pipeline_tests.desk.rig import JOB, Rig, desk_client, desk_settings, write_job
from pix_pipeline_tests.desk.test_pages import article
from pix_pipeline_tests.processes import PROJECT, free_port
from pix_pipeline_tests.systemd import dagster_env
from pix_pipeline_tests.test_credentials import database_rows

pytestmark = pytest.mark.postgres


def libpq(url: str) -> str:
    """A SQLAlchemy URL as pg_dump and pg_restore take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def use_instance(
    monkeypatch: pytest.MonkeyPatch, home: Path, dagster_db: str, root: Path, registry: str
) -> None:
    """The pipeline's and Dagster's variables for one installation."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in {
        **dagster_env(dagster_db, home, home / "compute_logs"),
        "PIX_LOCAL_ROOT": str(root),
        "PIX_DATABASE_URL": registry,
        "PIX_SETTLE_SECONDS": "5",
        "PIX_IMAGE_WORKERS": "2",
        "PIX_PRIVACY_PROVIDER": "pix_pipeline_tests.providers:ColourCodedPrivacy",
    }.items():
        monkeypatch.setenv(name, value)


def installation(tmp: Path) -> tuple[Path, Path]:
    home, root = tmp / "dagster_home", tmp / "storage"
    home.mkdir(parents=True)
    shutil.copy(PROJECT / "deploy" / "dagster.one-machine.yaml", home / "dagster.yaml")
    return home, root


def tree(root: Path) -> dict[str, str]:
    """Every file under `root` with the SHA-256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def sorted_rows(server: str, url: str) -> list[str]:
    return sorted(database_rows(server, make_url(url).database or "").splitlines())


def run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{command[0]} failed: {done.stderr}"


@pytest.fixture
def databases(postgres_server_url: str) -> Iterator[list[str]]:
    """Four fresh databases: the registry and Dagster's, before and after the restore."""
    with ExitStack() as stack:
        yield [stack.enter_context(fresh_database(postgres_server_url)) for _ in range(4)]


def test_a_restored_backup_gives_the_same_jobs_releases_reviews_notifications_and_galleries(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    postgres_server_url: str,
    databases: list[str],
):
    for tool in ("pg_dump", "pg_restore", "tar"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (Debian: postgresql-client)")
    registry_db, dagster_db, new_registry_db, new_dagster_db = databases

    # The installation: a processed job, one photo hidden, one checked, released, notified.
    home, root = installation(tmp_path / "old")
    use_instance(monkeypatch, home, dagster_db, root, registry_db)
    with dg.DagsterInstance.get() as instance:
        harness = Harness(root, instance)
        runtime = build_runtime(load_settings())
        try:
            write_job(harness.final_input(JOB))
            harness.tick()
            assert harness.run(JOB).success
            rows = {r.filename: r for r in runtime.registry.images_of_job(JOB)}
            assert hide_photo(runtime, JOB, rows["face.jpg"].image_id, hidden=True, by="daniel")
            assert check_photo(
                runtime.registry, JOB, rows["door.jpg"].image_id, checked=True, by="daniel"
            )
            assert harness.release(JOB, approved_by="Daniel").success
            harness.outbox_tick()
            history = {(n.kind, n.status) for n in runtime.registry.notifications(JOB)}
            assert ("gallery.released", "sent") in history
            runs = sorted((r.run_id, r.status) for r in instance.get_runs())
        finally:
            runtime.close()
            harness.close()

    # Backup, as the docs say: the registry first, then Dagster's database, then the photos.
    backup = tmp_path / "backup"
    backup.mkdir()
    run("pg_dump", "--format=custom", f"--file={backup / 'registry.dump'}", libpq(registry_db))
    run("pg_dump", "--format=custom", f"--file={backup / 'dagster.dump'}", libpq(dagster_db))
    run("tar", "-C", str(root.parent), "-cf", str(backup / "storage.tar"), root.name)

    # Restore onto a fresh machine: empty databases, an empty folder.
    new_home, new_root = installation(tmp_path / "new")
    run(
        "pg_restore",
        "--no-owner",
        f"--dbname={libpq(new_registry_db)}",
        str(backup / "registry.dump"),
    )
    run(
        "pg_restore",
        "--no-owner",
        f"--dbname={libpq(new_dagster_db)}",
        str(backup / "dagster.dump"),
    )
    run("tar", "-C", str(new_root.parent), "-xf", str(backup / "storage.tar"))

    # The same state: every row of the registry (jobs, images with hidden and checked, release,
    # notification history) and of Dagster's database, and every file of the storage.
    assert sorted_rows(postgres_server_url, new_registry_db) == sorted_rows(
        postgres_server_url, registry_db
    )
    assert sorted_rows(postgres_server_url, new_dagster_db) == sorted_rows(
        postgres_server_url, dagster_db
    )
    assert tree(new_root) == tree(root)
    gallery = new_root / "pix-jobs" / JOB / "gallery" / "images"
    assert sorted(p.name for p in gallery.iterdir()) == ["clean.jpg", "door.jpg"]

    # The restored installation works: Dagster knows the runs, the desk shows the job.
    use_instance(monkeypatch, new_home, new_dagster_db, new_root, new_registry_db)
    with dg.DagsterInstance.get() as instance:
        assert sorted((r.run_id, r.status) for r in instance.get_runs()) == runs
        runtime = build_runtime(load_settings())
        try:
            settings = desk_settings(f"http://127.0.0.1:{free_port()}")
            rig = Rig(
                Harness(new_root, instance),
                runtime,
                desk_client(settings, runtime, LoginThrottle()),
                settings,
                LoginThrottle(),
            )
            rig.login()
            page = rig.client.get(f"/jobs/{JOB}").text
            assert words.VISIBILITY["customer"] in page
            assert words.T.show in article(page, "face.jpg")  # still hidden
            assert words.T.unmark_checked in article(page, "door.jpg")  # still checked
            rig.harness.close()
        finally:
            runtime.close()
