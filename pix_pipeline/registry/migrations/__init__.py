"""Alembic migrations of the registry schema, applied from code (no alembic.ini).

Every schema change is a hand-written revision in `versions/`. `upgrade_to_head` is what
`Registry` runs on first use and what `python -m pix_pipeline.registry.migrate` runs in
deploys; it serializes concurrent callers with a database lock.
"""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

# Not Alembic's default `alembic_version`: Dagster's PostgreSQL storage keeps its own revision
# there, and production may put both in one database.
VERSION_TABLE = "registry_alembic_version"
# The schema that `Base.metadata.create_all` made before migrations existed.
BASELINE_REVISION = "0001"
# Any fixed 64-bit number works; every process migrating one database must use the same one.
_POSTGRES_LOCK_KEY = 7_031_386_513_462_018_662
# Alembic's `context` and `op` are module globals: one migration at a time per process.
_PROCESS_LOCK = threading.Lock()


class MigrationError(RuntimeError):
    """The registry database cannot be brought to the newest schema revision."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations; env.py migrates over `connection`."""
    config = Config()
    # ConfigParser interpolates '%': escape it in the installed path.
    location = str(Path(__file__).parent).replace("%", "%%")
    config.set_main_option("script_location", location)
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def head_revision() -> str:
    """The newest revision shipped with this package."""
    head = _scripts().get_current_head()
    if head is None:
        raise MigrationError("the registry migrations folder holds no revision")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None when it has no version table yet."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Bring the registry schema to the newest revision; cheap when it is already there.

    A database whose tables were created before migrations existed (no version table) is
    stamped with the baseline revision first, so its rows are kept.
    """
    head = head_revision()
    with engine.connect() as connection:
        if current_revision(connection) == head:
            return
    with _PROCESS_LOCK, _migration_transaction(engine) as connection:
        # Another process may have migrated while this one waited for the lock.
        current = current_revision(connection)
        if current == head:
            return
        if current is not None and current not in _known_revisions():
            raise MigrationError(
                f"the registry database is at revision {current}, which this build does not"
                f" know (its newest is {head}): a newer build migrated it; deploy that build"
            )
        config = alembic_config(connection)
        if current is None and inspect(connection).has_table("jobs"):
            _check_baseline(connection)
            command.stamp(config, BASELINE_REVISION)
        command.upgrade(config, "head")


def _check_baseline(connection: Connection) -> None:
    columns = {c["name"] for c in inspect(connection).get_columns("jobs")}
    if "last_activity_at" in columns:
        raise MigrationError(
            f"the registry tables exist without a {VERSION_TABLE} table, but jobs already has"
            f" last_activity_at, so they are not revision {BASELINE_REVISION}: a development"
            " build created them. Recreate the database, or stamp its revision with Alembic."
        )


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction that holds the database's migration lock until it commits."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Released at commit or rollback; PostgreSQL DDL is transactional, so a waiting
            # process sees either no schema change or all of it.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_POSTGRES_LOCK_KEY})")
            yield connection
            connection.commit()
        elif connection.dialect.name == "sqlite":
            with _sqlite_write_transaction(connection):
                yield connection
        else:
            yield connection
            connection.commit()


@contextmanager
def _sqlite_write_transaction(connection: Connection) -> Iterator[None]:
    # Batch migrations rebuild a table by copy, drop and rename; with foreign keys on, dropping
    # `jobs` would delete-check the rows that reference it. The pragma is ignored inside a
    # transaction, so it is switched before BEGIN and restored after.
    foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    try:
        # IMMEDIATE takes the write lock now: a second process waits (busy_timeout) here,
        # before it reads the version, instead of failing halfway through its DDL.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        yield
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise MigrationError(f"the migration left rows with broken foreign keys: {broken}")
        connection.commit()
    finally:
        connection.rollback()
        connection.exec_driver_sql(f"PRAGMA foreign_keys = {int(foreign_keys)}")
        connection.commit()
