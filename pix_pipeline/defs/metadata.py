"""Materialization metadata for people: counts and short per-image tables."""

from collections.abc import Iterable, Sequence

import dagster as dg

from pix_pipeline.domain.overview import ImageLine

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


IMAGE_TABLE_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("filename", "string", description="Name in final_input/."),
        dg.TableColumn("source", "string", description="editor or manual (Daniel)."),
        dg.TableColumn("status", "string", description="pending_processing, processed, error."),
        dg.TableColumn("error", "string", description="Why the image is error."),
        dg.TableColumn("privacy", "string", description="Privacy findings."),
        dg.TableColumn("room_type", "string", description="Room the photo shows."),
    ]
)


def image_table(lines: Sequence[ImageLine]) -> dg.TableMetadataValue:
    """The per-image table, cut at MAX_TABLE_ROWS rows like the markdown tables."""
    records = [
        dg.TableRecord(
            {
                "filename": line.filename,
                "source": line.source,
                "status": line.status,
                "error": line.error[:200],
                "privacy": line.privacy,
                "room_type": line.room_type,
            }
        )
        for line in lines[:MAX_TABLE_ROWS]
    ]
    return dg.MetadataValue.table(records, schema=IMAGE_TABLE_SCHEMA)
