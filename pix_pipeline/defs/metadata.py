"""Materialization metadata for people: counts and short per-image tables."""

from collections.abc import Iterable, Sequence

import dagster as dg

MAX_TABLE_ROWS = 60


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:200]


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> dg.MetadataValue:
    """A markdown table, cut at MAX_TABLE_ROWS rows (the event log keeps every copy)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    all_rows = list(rows)
    for row in all_rows[:MAX_TABLE_ROWS]:
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    if len(all_rows) > MAX_TABLE_ROWS:
        lines.append(f"\n… and {len(all_rows) - MAX_TABLE_ROWS} more")
    if not all_rows:
        lines.append("| " + " | ".join("–" for _ in header) + " |")
    return dg.MetadataValue.md("\n".join(lines))
