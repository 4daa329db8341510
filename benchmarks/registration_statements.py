"""Database statements of one sensor tick that registers 10,000 new files (SQLite, PostgreSQL).

The registry inserts each job's new files in one batched statement, so a tick's statement
count grows with the number of jobs it touches, not with the number of files. The anchor is
one INSERT per file, what a row-by-row registration would issue. Two layouts: 10,000 files in
one job, and 200 jobs x 50 files.

    .venv/bin/python benchmarks/registration_statements.py [--postgres URL]

PostgreSQL is measured when a server answers at --postgres (default: the test server URL).
"""

import argparse
import io
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from PIL import Image
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from pix_pipeline.domain.intake import scan_final_input
from pix_pipeline.runtime import build_runtime
from pix_pipeline.settings import load_settings

FILES = 10_000
OLD_NS = 1_600_000_000 * 10**9  # long settled


def tiny_jpeg(seed: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (seed % 251, (seed // 251) % 251, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def build_root(root: Path, jobs: int) -> None:
    per_job = FILES // jobs
    for j in range(jobs):
        folder = root / "pix-jobs" / f"JOB{j:04d}" / "final_input"
        folder.mkdir(parents=True)
        for i in range(per_job):
            path = folder / f"IMG_{i:05d}.jpg"
            path.write_bytes(tiny_jpeg(j * per_job + i))
            os.utime(path, ns=(OLD_NS, OLD_NS))


def measure(database_url: str, jobs: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "storage"
        build_root(root, jobs)
        settings = load_settings(
            {
                "PIX_LOCAL_ROOT": str(root),
                "PIX_DATABASE_URL": database_url.replace("{tmp}", tmp),
                "PIX_PRIVACY_PROVIDER": "none",
            }
        )
        rt = build_runtime(settings)
        statements = 0

        def count(*_args: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(Engine, "before_cursor_execute", count)
        try:
            started = time.perf_counter()
            report = scan_final_input(rt, time_budget_seconds=3600)
            seconds = time.perf_counter() - started
        finally:
            event.remove(Engine, "before_cursor_execute", count)
            rt.close()
        assert report.total("registered") == FILES, report.summary()
        return statements, seconds


def postgres_database(server_url: str) -> tuple[str, str] | None:
    try:
        import psycopg

        admin = make_url(server_url).set(drivername="postgresql")
        name = f"pix_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(
            admin.render_as_string(hide_password=False), autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"PostgreSQL not measured: {exc}", file=sys.stderr)
        return None
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    admin = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "PIX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()
    print(f"{'name':<40}{'ours':>8}{'anchor':>9}{'ratio':>8}{'target':>10}  verdict")
    ok = True
    for jobs in (1, 200):
        # A bound that does not grow with the files: a handful per tick plus per touched job.
        bound = 20 + 12 * jobs
        targets = [("sqlite", "sqlite:///{tmp}/registry.sqlite3", None)]
        pg = postgres_database(args.postgres)
        if pg:
            targets.append(("postgresql", pg[0], pg[1]))
        for name, url, created in targets:
            try:
                statements, seconds = measure(url, jobs)
            finally:
                if created:
                    drop_database(args.postgres, created)
            passed = statements <= bound
            ok &= passed
            label = f"{name} {FILES} files in {jobs} job(s), stmts"
            print(
                f"{label:<40}{statements:>8}{FILES:>9}{statements / FILES:>8.3f}"
                f"{'<= ' + str(bound):>10}  {'PASS' if passed else 'FAIL'}  ({seconds:.1f} s)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
