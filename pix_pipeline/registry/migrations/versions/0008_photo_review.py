"""Images carry Daniel's review: hidden (who, when), findings checked (for which content),
and the number of privacy categories detected, for the desk's jobs list.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

CATEGORIES = ("faces", "licence_plates", "logos", "text")


def _finding_count(meta: Any) -> int:
    """Detected privacy categories in a stored meta document (as ImageMeta writes it)."""
    if isinstance(meta, str):
        meta = json.loads(meta)
    privacy = (meta or {}).get("privacy") or {}
    return sum(1 for c in CATEGORIES if (privacy.get(c) or {}).get("status") == "detected")


def upgrade() -> None:
    op.add_column(
        "images", sa.Column("finding_count", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("images", sa.Column("hidden_at", sa.DateTime(timezone=True)))
    op.add_column("images", sa.Column("hidden_by", sa.String(200)))
    op.add_column("images", sa.Column("checked_hash", sa.String(64)))
    op.add_column("images", sa.Column("checked_at", sa.DateTime(timezone=True)))
    op.add_column("images", sa.Column("checked_by", sa.String(200)))
    images = sa.table(
        "images",
        sa.column("image_id", sa.String()),
        sa.column("meta", sa.JSON()),
        sa.column("finding_count", sa.Integer()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(images.c.image_id, images.c.meta).where(images.c.meta.is_not(None))
    )
    counts = [(image_id, _finding_count(meta)) for image_id, meta in rows]
    for image_id, count in counts:
        if count:
            conn.execute(
                images.update().where(images.c.image_id == image_id).values(finding_count=count)
            )


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("checked_by")
        batch.drop_column("checked_at")
        batch.drop_column("checked_hash")
        batch.drop_column("hidden_by")
        batch.drop_column("hidden_at")
        batch.drop_column("finding_count")
