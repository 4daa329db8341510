"""Registry databases for tests, migrated once and cloned per test.

Migrating a new database runs every Alembic revision (about half a second of CPU each time).
A test that needs a registry at the newest schema gets a copy of one database migrated once
per test process instead: a file copy on SQLite, `CREATE DATABASE … TEMPLATE` on PostgreSQL.
PostgreSQL refuses to clone a template while anyone is connected to it, so every test process
(pytest-xdist worker) owns its own template, and nothing ever connects to it after it is made.
The migration tests keep empty databases: they test the migrating itself.
"""

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from pix_pipeline.registry.repository import Registry


def _admin_dsn(server_url: str) -> str:
    return make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A new database on the server at `server_url` (its URL), empty or a clone of
    `template`, dropped afterwards."""
    import psycopg

    name = f"pix_test_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{clone}')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str) -> None:
    Registry.from_url(url).dispose()


class MigratedTemplates:
    """One migrated registry per backend for this test process, made on first use."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._sqlite: Path | None = None
        self._postgres: tuple[str, str] | None = None  # (server URL, template name)

    def sqlite_url(self, target: Path) -> str:
        """A SQLite registry file at `target`, at the newest schema."""
        if self._sqlite is None:
            template = self._folder / "registry-template.sqlite3"
            _migrate(f"sqlite:///{template}")
            # The last connection's close checkpointed the WAL into the file.
            self._sqlite = template
        shutil.copyfile(self._sqlite, target)
        return f"sqlite:///{target}"

    @contextmanager
    def postgres_database(self, server_url: str) -> Iterator[str]:
        """A new PostgreSQL database at the newest schema, dropped afterwards."""
        if self._postgres is None or self._postgres[0] != server_url:
            import psycopg

            name = f"pix_template_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self._postgres = (server_url, name)
            _migrate(make_url(server_url).set(database=name).render_as_string(False))
        with fresh_database(server_url, template=self._postgres[1]) as url:
            yield url

    def drop(self) -> None:
        """Remove this process's PostgreSQL template (the SQLite one lives in a temp folder)."""
        if self._postgres is None:
            return
        import psycopg

        server_url, name = self._postgres
        with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._postgres = None
