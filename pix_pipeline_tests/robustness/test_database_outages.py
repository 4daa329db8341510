"""A locked SQLite file or a lost PostgreSQL connection is retried, then named in a clear error."""

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pix_pipeline.registry.repository import (
    JobChanges,
    Registry,
    RegistryUnavailable,
    make_engine,
)

FAST = (0.05, 0.1, 0.2, 0.4, 0.8)


def locked_registry(tmp_path: Path, seconds: float) -> tuple[Registry, threading.Thread]:
    """A registry with a 20 ms busy timeout, and a thread holding the database's write lock
    for `seconds` (another process's long write transaction) that has already taken it."""
    path = tmp_path / "registry.sqlite3"
    registry = Registry(make_engine(f"sqlite:///{path}", sqlite_busy_timeout_ms=20), FAST)
    started = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        started.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    started.wait()
    return registry, holder


def test_a_locked_sqlite_database_is_retried_until_the_lock_goes(tmp_path: Path):
    registry, holder = locked_registry(tmp_path, 0.5)
    begun = time.monotonic()
    registry.apply_changes(JobChanges("J1", new=[]))  # fails "database is locked" at first
    waited = time.monotonic() - begun
    holder.join()
    assert registry.get_job("J1") is not None
    assert waited >= 0.3  # it did wait for the lock, through retries of 20 ms busy waits
    registry.dispose()


def test_a_database_locked_for_good_gives_a_clear_error(tmp_path: Path):
    registry, holder = locked_registry(tmp_path, 3.0)
    try:
        with pytest.raises(RegistryUnavailable, match=r"apply_changes failed 6 times.*locked"):
            registry.apply_changes(JobChanges("J1", new=[]))
    finally:
        holder.join()
        registry.dispose()


def test_lost_postgresql_connections_are_replaced(postgres_database: str):
    registry = Registry.from_url(postgres_database)
    registry.apply_changes(JobChanges("J1", new=[]))
    # The server drops every connection of this database (a restart or failover looks alike).
    admin = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        ended = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert ended and ended >= 1
    registry.apply_changes(JobChanges("J2", new=[]))
    assert registry.get_job("J2") is not None
    registry.dispose()


def test_an_unreachable_postgresql_server_gives_a_clear_error_without_the_password():
    url = "postgresql+psycopg://pix:s3cret@127.0.0.1:1/pix"
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable) as caught:
        Registry(make_engine(url), FAST)
    message = str(caught.value)
    assert "migrate failed 6 times" in message and "127.0.0.1" in message
    assert "s3cret" not in message
    assert time.monotonic() - started < 30
