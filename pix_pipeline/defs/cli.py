"""`pix-pipeline`: the operator's command (docs/production.md).

    pix-pipeline doctor                  one line per check; exit 1 when one fails
    pix-pipeline migrate [--check]       upgrade the registry schema (a deploy step)
    pix-pipeline settings-table [--write docs/production.md]

It reads the same environment as the code server (its unit's environment files), and
DAGSTER_HOME for Dagster's instance.
"""

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from pix_pipeline.settings import SettingsError, load_settings, variables_table

EXIT_FAILED = 1
EXIT_ERROR = 2
TABLE_START = "<!-- settings table: written by `pix-pipeline settings-table --write` -->"
TABLE_END = "<!-- end of settings table -->"


def doctor() -> int:
    # Dagster is imported here: `migrate` and `settings-table` work without loading it.
    import dagster as dg

    from pix_pipeline.definitions import build_definitions
    from pix_pipeline.defs.doctor import run_checks
    from pix_pipeline.health import report

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"FAIL  settings: {exc}")
        return EXIT_FAILED
    try:
        instance = dg.DagsterInstance.get()
    except Exception as exc:  # DAGSTER_HOME unset or its dagster.yaml broken: say so, plainly
        print(f"FAIL  dagster instance: cannot open it (DAGSTER_HOME): {exc}")
        return EXIT_FAILED
    with instance:
        lines, ok = report(run_checks(settings, instance, build_definitions(settings)))
    print(lines)
    return 0 if ok else EXIT_FAILED


def write_table(path: Path) -> bool:
    """Put the settings table between its markers in `path`; whether the file changed."""
    text = path.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(TABLE_START) + r"\n.*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(text):
        raise SettingsError(f"{path} has no settings table markers ({TABLE_START})")
    new = pattern.sub(lambda _: f"{TABLE_START}\n{variables_table()}{TABLE_END}", text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="pix-pipeline", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check registry, storage, models, Dagster, sensors")
    migrate = commands.add_parser("migrate", help="upgrade the registry schema")
    migrate.add_argument("rest", nargs=argparse.REMAINDER)
    table = commands.add_parser("settings-table", help="print the PIX_* settings as Markdown")
    table.add_argument("--write", type=Path, help="put the table into this Markdown file")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        return doctor()
    if args.command == "migrate":
        from pix_pipeline.registry import migrate as registry_migrate

        return registry_migrate.main(args.rest)
    if args.write:
        changed = write_table(args.write)
        print(f"{args.write}: {'settings table written' if changed else 'already up to date'}")
        return 0
    print(variables_table(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
