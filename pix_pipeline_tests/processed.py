"""Processed jobs made once per test process and copied into each test that starts from one.

Processing a job (sensor tick, then a run of every step in Dagster) costs seconds, and many
tests start from the same processed job and then change it. Such a test gets a copy of
everything the processing left, as if it had processed the job itself: the storage folder, the
registry (a SQLite file) and the Dagster instance's folder (its runs, events, sensor state),
opened as the test's own instance. Nothing is shared between tests: each copy is private.
"""

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from pix_pipeline.settings import FILE_SUFFIX, VARIABLES

REGISTRY = "registry.sqlite3"


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database, WAL included, through SQLite's backup API."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


class ProcessedJobs:
    """Processed states by name, each made once in this test process by its builder."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._made: dict[str, Path] = {}

    def _make(
        self, key: str, env: dict[str, str], build: Callable[[Path, dg.DagsterInstance], None]
    ) -> Path:
        place = self._folder / f"state{len(self._made)}"
        root = place / "storage"
        (root / "pix-jobs").mkdir(parents=True)
        (place / "dagster").mkdir()
        with pytest.MonkeyPatch.context() as mp:
            for name in VARIABLES:
                mp.delenv(name, raising=False)
                mp.delenv(name + FILE_SUFFIX, raising=False)
            for name, value in env.items():
                mp.setenv(name, value)
            mp.setenv("PIX_LOCAL_ROOT", str(root))
            mp.setenv("PIX_DATABASE_URL", f"sqlite:///{place / REGISTRY}")
            with dg.instance_for_test(temp_dir=str(place / "dagster")) as instance:
                build(root, instance)
        self._made[key] = place
        return place

    @contextmanager
    def copy(
        self,
        key: str,
        build: Callable[[Path, dg.DagsterInstance], None],
        *,
        root: Path,
        database: Path,
        env: dict[str, str],
        dagster_home: Path,
    ) -> Iterator[dg.DagsterInstance]:
        """Put a copy of the state `key` (made by `build` on first use, with the PIX_*
        variables `env`) at `root` and `database`, and open its Dagster instance from a copy
        in `dagster_home`."""
        place = self._made.get(key) or self._make(key, env, build)
        shutil.copytree(place / "storage", root, dirs_exist_ok=True)
        database.unlink(missing_ok=True)
        _copy_sqlite(place / REGISTRY, database)
        shutil.copytree(place / "dagster", dagster_home)
        with dg.instance_for_test(temp_dir=str(dagster_home)) as instance:
            yield instance
