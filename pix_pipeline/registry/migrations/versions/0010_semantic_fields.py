"""Semantic fields Daniel sets (captions, room and view type, objects) with who and when,
his gallery order per photo and the job's cover photo.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "semantic_fields",
        sa.Column("image_id", sa.String(36), sa.ForeignKey("images.image_id"), primary_key=True),
        sa.Column("field", sa.String(32), primary_key=True),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_semantic_fields_job_id", "semantic_fields", ["job_id"])
    op.add_column("images", sa.Column("gallery_position", sa.Integer()))
    op.add_column("jobs", sa.Column("cover_image_id", sa.String(36)))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("cover_image_id")
    with op.batch_alter_table("images") as batch:
        batch.drop_column("gallery_position")
    op.drop_index("ix_semantic_fields_job_id", table_name="semantic_fields")
    op.drop_table("semantic_fields")
