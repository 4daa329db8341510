"""Registry schema migrations on SQLite and the real PostgreSQL server: the revisions build
exactly schema.py, old databases upgrade in place, the deploy command, concurrent starts."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pix_pipeline.registry import migrate
from pix_pipeline.registry.migrations import (
    VERSION_TABLE,
    MigrationError,
    alembic_config,
    head_revision,
    upgrade_to_head,
)
from pix_pipeline.registry.repository import Registry, make_engine
from pix_pipeline.registry.schema import Base
from pix_pipeline.settings import VARIABLES
from pix_pipeline_tests.processes import free_port

JOB_ACTIVITY = {
    ("add_column", "jobs", "last_activity_at"),
    ("add_column", "jobs", "last_swept_at"),
    ("add_index", "jobs", "ix_jobs_activity"),
}
LISTING_HASH = {("add_column", "jobs", "listing_hash")}
FOLDER_STAMP = {("add_column", "jobs", "folder_stamp")}
HOLD = {("add_column", "jobs", "removal_hold_since")}
REVIEW = {
    ("add_column", "images", "finding_count"),
    ("add_column", "images", "hidden_at"),
    ("add_column", "images", "hidden_by"),
    ("add_column", "images", "checked_hash"),
    ("add_column", "images", "checked_at"),
    ("add_column", "images", "checked_by"),
}
DELIVERY = {
    ("add_column", "notifications", "sequence"),
    ("add_column", "notifications", "webhook_id"),
    ("add_column", "notifications", "attempts"),
    ("add_column", "notifications", "next_attempt_at"),
    ("add_column", "notifications", "last_attempt_at"),
    ("add_index", "notifications", "ix_notifications_due"),
    ("add_constraint", "notifications", "uq_notifications_job_sequence"),
    ("add_constraint", "notifications", "uq_notifications_webhook_id"),
    ("remove_constraint", "notifications", "uq_notifications_release"),
}
# Before 0007 the outbox has no sequence at all: DELIVERY adds it as 0011 leaves it.
JOB_SEQUENCE = {
    ("add_column", "jobs", "notification_sequence"),
    ("add_index", "notifications", "ix_notifications_job_pending"),
}
SEQUENCE = JOB_SEQUENCE | {
    ("add_constraint", "notifications", "uq_notifications_job_sequence"),
    ("remove_constraint", "notifications", "uq_notifications_event"),
    ("type", "notifications", "sequence"),
}
REDACTIONS = {
    ("add_table", "redactions", ""),
    ("add_index", "redactions", "ix_redactions_image_id"),
    ("add_index", "redactions", "ix_redactions_job_id"),
    ("add_column", "images", "gallery_redactions"),
    ("add_column", "images", "gallery_rendition"),
    ("add_column", "images", "rendition_error"),
}
SEMANTIC = {
    ("add_table", "semantic_fields", ""),
    ("add_index", "semantic_fields", "ix_semantic_fields_job_id"),
    ("add_column", "images", "gallery_position"),
    ("add_column", "jobs", "cover_image_id"),
}
REVOKE = {
    ("add_column", "jobs", "revoked_at"),
    ("add_column", "jobs", "revoked_by"),
    ("add_column", "jobs", "revoke_note"),
}

# What the revisions after 0001 change: a 0001 database differs from schema.py by this.
AFTER_0001 = (
    JOB_ACTIVITY
    | LISTING_HASH
    | FOLDER_STAMP
    | REVOKE
    | HOLD
    | DELIVERY
    | REVIEW
    | JOB_SEQUENCE
    | REDACTIONS
    | SEMANTIC
)


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """These tests migrate the database themselves: an empty one, not the migrated copy every
    other test gets (conftest.database_url)."""
    return empty_database_url


@pytest.fixture
def engine(database_url: str):
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


def schema_diff(engine: sa.Engine) -> set[tuple[str, str, str]]:
    """What autogenerate would change to make the database match schema.py."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        diffs = compare_metadata(context, Base.metadata)
    out = set()
    for diff in diffs:
        # Column diffs are tuples, (add_column, schema, table, column); index diffs carry
        # the Index. Anything else (modify_* lists) is kept whole so it fails the test.
        if isinstance(diff, tuple) and diff[0] == "add_table":
            out.add((diff[0], diff[1].name, ""))
        elif isinstance(diff, tuple) and diff[0] in ("add_column", "remove_column"):
            out.add((diff[0], diff[2], diff[3].name))
        elif isinstance(diff, list) and [d[0] for d in diff] == ["modify_type"]:
            out.add(("type", diff[0][2], diff[0][3]))  # (op, schema, table, column, …)
        elif isinstance(diff, tuple) and diff[0] in (
            "add_index",
            "remove_index",
            "add_constraint",
            "remove_constraint",
        ):
            out.add((diff[0], diff[1].table.name, diff[1].name))
        elif isinstance(diff, tuple) and diff[0] in ("add_table", "remove_table"):
            out.add((diff[0], diff[1].name, ""))
        else:
            out.add(("other", repr(diff), ""))
    return out


def versions(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars())


def migrate_to(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def as_utc(value: datetime) -> datetime:
    # SQLite hands timestamps back without a zone; they are stored in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_an_empty_database_is_upgraded_to_exactly_schema_py(engine):
    upgrade_to_head(engine)
    assert schema_diff(engine) == set()
    assert versions(engine) == [head_revision()] == ["0011"]


def test_revision_0001_is_schema_py_without_the_later_columns(engine):
    migrate_to(engine, "0001")
    assert schema_diff(engine) == AFTER_0001
    assert versions(engine) == ["0001"]
    migrate_to(engine, "0002")
    assert (
        schema_diff(engine)
        == LISTING_HASH
        | FOLDER_STAMP
        | REVOKE
        | HOLD
        | DELIVERY
        | REVIEW
        | JOB_SEQUENCE
        | REDACTIONS
        | SEMANTIC
    )
    migrate_to(engine, "0003")
    assert schema_diff(engine) == (
        FOLDER_STAMP | REVOKE | HOLD | DELIVERY | REVIEW | JOB_SEQUENCE | REDACTIONS | SEMANTIC
    )
    migrate_to(engine, "0006")
    assert schema_diff(engine) == DELIVERY | REVIEW | JOB_SEQUENCE | REDACTIONS | SEMANTIC
    migrate_to(engine, "0007")
    assert schema_diff(engine) == REVIEW | SEQUENCE | REDACTIONS | SEMANTIC
    migrate_to(engine, "0008")
    assert schema_diff(engine) == SEQUENCE | REDACTIONS | SEMANTIC
    migrate_to(engine, "0009")
    assert schema_diff(engine) == SEQUENCE | SEMANTIC
    migrate_to(engine, "0010")
    assert schema_diff(engine) == SEQUENCE


def test_the_revisions_downgrade_to_0001_and_upgrade_again(engine):
    upgrade_to_head(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert schema_diff(engine) == AFTER_0001
    upgrade_to_head(engine)
    assert schema_diff(engine) == set()


@pytest.mark.parametrize("versioned", [False, True], ids=["made_by_create_all", "at_0001"])
def test_a_0001_database_upgrades_in_place_keeping_rows_and_filling_activity(
    engine, database_url, versioned
):
    migrate_to(engine, "0001")
    if not versioned:
        # What Base.metadata.create_all left before migrations: the tables, no version.
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP TABLE {VERSION_TABLE}"))
    changed = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    stamp = sa.DateTime(timezone=True)
    jobs = sa.table(
        "jobs",
        *[sa.column(c) for c in ("job_id", "gallery_status", "gallery_visibility")],
        *[sa.column(c) for c in ("revision", "processed_revision", "release_count")],
        sa.column("created_at", stamp),
        sa.column("updated_at", stamp),
    )
    images = sa.table(
        "images",
        *[sa.column(c) for c in ("image_id", "job_id", "filename", "storage_path", "source")],
        *[sa.column(c) for c in ("status", "size_bytes", "mtime_ns")],
        sa.column("registered_at", stamp),
        sa.column("updated_at", stamp),
    )
    with engine.begin() as conn:
        conn.execute(
            jobs.insert().values(
                job_id="J1",
                gallery_status="draft_ready",
                gallery_visibility="internal",
                revision=3,
                processed_revision=3,
                release_count=0,
                created_at=datetime(2024, 1, 1, tzinfo=UTC),
                updated_at=changed,
            )
        )
        conn.execute(
            images.insert().values(
                image_id="00000000-0000-0000-0000-000000000001",
                job_id="J1",
                filename="a.jpg",
                storage_path="pix-jobs/J1/final_input/a.jpg",
                source="editor",
                status="processed",
                size_bytes=5_000_000_000,
                mtime_ns=1_700_000_000_000_000_000,
                registered_at=changed,
                updated_at=changed,
            )
        )

    registry = Registry.from_url(database_url)
    try:
        job = registry.get_job("J1")
        image_rows = registry.images_of_job("J1")
    finally:
        registry.dispose()

    assert job is not None
    assert (job.revision, job.gallery_status) == (3, "draft_ready")
    assert as_utc(job.last_activity_at) == changed
    assert job.last_swept_at is None
    assert [(i.filename, i.size_bytes, i.status) for i in image_rows] == [
        ("a.jpg", 5_000_000_000, "processed")
    ]
    assert versions(engine) == [head_revision()]
    assert schema_diff(engine) == set()


def test_a_0006_outbox_upgrades_to_delivery_with_stable_ids_and_its_waiting_rows_due(
    engine, database_url
):
    migrate_to(engine, "0006")
    stamp = sa.DateTime(timezone=True)
    created = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO jobs (job_id, gallery_status, gallery_visibility, revision,"
                " processed_revision, release_count, last_activity_at, created_at, updated_at)"
                " VALUES ('J1', 'draft_ready', 'customer', 1, 1, 2, :t, :t, :t)"
            ).bindparams(sa.bindparam("t", created, type_=stamp))
        )
        for number, status in ((1, "sent"), (2, "failed")):
            conn.execute(
                sa.text(
                    "INSERT INTO notifications (job_id, kind, release_number, payload, status,"
                    " error_message, created_at) VALUES ('J1', 'gallery_released', :n, '{}',"
                    " :s, NULL, :t)"
                ).bindparams(
                    sa.bindparam("n", number),
                    sa.bindparam("s", status),
                    sa.bindparam("t", created, type_=stamp),
                )
            )
    registry = Registry.from_url(database_url)
    try:
        rows = registry.notifications("J1")
        due = registry.due_notifications(datetime(2026, 12, 1, tzinfo=UTC), 10)
    finally:
        registry.dispose()
    assert [(r.kind, r.release_number, r.status, r.attempts, r.sequence) for r in rows] == [
        ("gallery.released", 1, "sent", 0, 1),
        ("gallery.released", 2, "pending", 0, 2),
    ]
    assert all(r.webhook_id.startswith("msg_") for r in rows)
    assert len({r.webhook_id for r in rows}) == 2
    assert [r.release_number for r in due] == [2]
    assert schema_diff(engine) == set()


def test_tables_from_a_development_build_are_refused_with_a_clear_error(engine):
    Base.metadata.create_all(engine)
    with pytest.raises(MigrationError, match="jobs already has last_activity_at"):
        upgrade_to_head(engine)


def test_a_database_migrated_by_a_newer_build_is_refused_with_a_clear_error(
    database_url, engine, capsys
):
    upgrade_to_head(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(MigrationError, match="revision 9999, which this build does not know"):
        upgrade_to_head(engine)
    assert migrate.main(["--url", database_url]) == 2
    assert "a newer build migrated it" in capsys.readouterr().err
    assert versions(engine) == ["9999"]


def test_the_command_upgrades_once_and_check_reports_the_state(database_url, engine, capsys):
    head = head_revision()
    assert migrate.main(["--url", database_url, "--check"]) == 1
    assert f"head is {head}" in capsys.readouterr().out

    assert migrate.main(["--url", database_url]) == 0
    first = capsys.readouterr().out
    assert "before: none" in first
    assert f"after:  {head} (head)" in first

    assert migrate.main(["--url", database_url]) == 0
    second = capsys.readouterr().out
    assert f"before: {head}" in second
    assert f"after:  {head} (head)" in second

    assert migrate.main(["--url", database_url, "--check"]) == 0
    assert versions(engine) == [head]
    assert schema_diff(engine) == set()


def pix_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    return env | {"PIX_DATABASE_URL": database_url, "PIX_LOCAL_ROOT": str(tmp_path)}


def test_the_module_command_migrates_the_configured_database(database_url, engine, tmp_path):
    command_line = [sys.executable, "-m", "pix_pipeline.registry.migrate"]
    env = pix_env(database_url, tmp_path)
    done = subprocess.run(command_line, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"after:  {head_revision()} (head)" in done.stdout
    assert versions(engine) == [head_revision()]
    check = subprocess.run(
        [*command_line, "--check"], env=env, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr


def test_an_unreachable_database_is_a_one_line_error_without_the_password():
    url = f"postgresql+psycopg://pix:s3cret@127.0.0.1:{free_port()}/registry"
    done = subprocess.run(
        [sys.executable, "-m", "pix_pipeline.registry.migrate", "--url", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: cannot open or migrate the registry at postgresql")
    assert "Traceback" not in done.stderr
    assert "s3cret" not in done.stderr
    assert "Connection refused" in done.stderr


RACER = """
import sys, time
from pathlib import Path
from pix_pipeline.registry.repository import Registry
url, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.002)
Registry.from_url(url).dispose()
"""


def test_processes_starting_together_on_a_fresh_database_migrate_it_once(
    database_url, engine, tmp_path
):
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(3)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, database_url, str(flag), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for flag in ready
    ]
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    outcomes = [(racer.wait(timeout=120), racer.communicate()[1]) for racer in racers]
    assert outcomes == [(0, "")] * len(racers)
    assert versions(engine) == [head_revision()]
    assert schema_diff(engine) == set()


def test_0008_counts_the_findings_of_photos_processed_before_it(engine, database_url):
    migrate_to(engine, "0006")
    stamp = sa.DateTime(timezone=True)
    now = datetime(2026, 11, 30, tzinfo=UTC)
    jobs = sa.table(
        "jobs",
        *[sa.column(c) for c in ("job_id", "gallery_status", "gallery_visibility")],
        *[sa.column(c) for c in ("revision", "processed_revision", "release_count")],
        sa.column("created_at", stamp),
        sa.column("updated_at", stamp),
        sa.column("last_activity_at", stamp),
    )
    images = sa.table(
        "images",
        *[sa.column(c) for c in ("image_id", "job_id", "filename", "storage_path", "source")],
        *[sa.column(c) for c in ("status", "size_bytes", "mtime_ns")],
        sa.column("meta", sa.JSON()),
        sa.column("registered_at", stamp),
        sa.column("updated_at", stamp),
    )
    privacy = {
        "provider": "test",
        "faces": {"status": "detected", "items": []},
        "text": {"status": "detected", "items": []},
        "logos": {"status": "clear", "items": []},
    }
    with engine.begin() as conn:
        conn.execute(
            jobs.insert().values(
                job_id="J7",
                gallery_status="draft_ready",
                gallery_visibility="internal",
                revision=1,
                processed_revision=1,
                release_count=0,
                created_at=now,
                updated_at=now,
                last_activity_at=now,
            )
        )
        for n, meta in enumerate([{"privacy": privacy}, {"privacy": None}, None]):
            conn.execute(
                images.insert().values(
                    image_id=f"00000000-0000-0000-0000-00000000000{n}",
                    job_id="J7",
                    filename=f"{n}.jpg",
                    storage_path=f"pix-jobs/J7/final_input/{n}.jpg",
                    source="editor",
                    status="processed",
                    size_bytes=1,
                    mtime_ns=1,
                    meta=meta,
                    registered_at=now,
                    updated_at=now,
                )
            )
    upgrade_to_head(engine)
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT filename, finding_count, hidden_at FROM images ORDER BY filename")
        ).all()
    assert [tuple(row) for row in found] == [
        ("0.jpg", 2, None),
        ("1.jpg", 0, None),
        ("2.jpg", 0, None),
    ]
