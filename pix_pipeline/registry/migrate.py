"""Upgrade the registry database to the newest schema revision: a deploy step.

    python -m pix_pipeline.registry.migrate [--url URL] [--check]

Without --url it migrates the database named by PIX_DATABASE_URL (see settings). --check
changes nothing and exits 1 when the database is not at the newest revision.
"""

import argparse
import sys
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from pix_pipeline.registry.migrations import (
    MigrationError,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from pix_pipeline.registry.repository import make_engine
from pix_pipeline.settings import SettingsError, load_settings

EXIT_NOT_AT_HEAD = 1
EXIT_ERROR = 2


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return current_revision(connection)


def _show(revision: str | None) -> str:
    return revision or "none (no version table)"


def _run(url: str, check: bool) -> int:
    head = head_revision()
    engine = make_engine(url)
    try:
        before = _revision(engine)
        if check:
            if before == head:
                print(f"registry schema is at head {head}")
                return 0
            print(
                f"registry schema is at {_show(before)}, head is {head}:"
                " run `python -m pix_pipeline.registry.migrate`"
            )
            return EXIT_NOT_AT_HEAD
        upgrade_to_head(engine)
        after = _revision(engine)
    finally:
        engine.dispose()
    print(f"registry schema before: {_show(before)}")
    print(f"registry schema after:  {_show(after)}" + (" (head)" if after == head else ""))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m pix_pipeline.registry.migrate",
        description="Upgrade the registry database to the newest schema revision.",
    )
    parser.add_argument("--url", help="SQLAlchemy database URL (default: PIX_DATABASE_URL)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 when the database is not at the newest revision",
    )
    args = parser.parse_args(argv)
    try:
        url: str = args.url or load_settings().database_url
        # Never echo a password back: errors name the URL without it.
        shown = make_url(url).render_as_string(hide_password=True)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ArgumentError:
        print(
            "error: --url must be a SQLAlchemy URL such as sqlite:///path/registry.db or"
            " postgresql+psycopg://user@host:5432/db",
            file=sys.stderr,
        )
        return EXIT_ERROR
    try:
        return _run(url, args.check)
    except NoSuchModuleError as exc:
        print(f"error: no database driver for {shown}: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        # The driver's message without SQLAlchemy's SQL and link, on one line for deploy logs.
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        print(f"error: cannot open or migrate the registry at {shown}: {reason}", file=sys.stderr)
    except (MigrationError, OSError) as exc:
        print(f"error: cannot open or migrate the registry at {shown}: {exc}", file=sys.stderr)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
