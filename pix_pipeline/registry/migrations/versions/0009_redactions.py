"""Redactions: the areas of a photo the customer's copy obscures (Daniel's choice or the
policy), and what each gallery copy was made from besides its content (redactions, rendition).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "redactions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("image_id", sa.String(36), sa.ForeignKey("images.image_id"), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("x0", sa.Float(), nullable=False),
        sa.Column("y0", sa.Float(), nullable=False),
        sa.Column("x1", sa.Float(), nullable=False),
        sa.Column("y1", sa.Float(), nullable=False),
        sa.Column("finding_label", sa.String(64)),
        sa.Column("finding_text", sa.Text()),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_hash", sa.String(64)),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
        sa.Column("undone_by", sa.String(200)),
    )
    op.create_index("ix_redactions_job_id", "redactions", ["job_id"])
    op.create_index("ix_redactions_image_id", "redactions", ["image_id"])
    op.add_column("images", sa.Column("gallery_redactions", sa.String(64)))
    op.add_column("images", sa.Column("gallery_rendition", sa.String(64)))
    op.add_column("images", sa.Column("rendition_error", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("images") as batch:
        batch.drop_column("rendition_error")
        batch.drop_column("gallery_rendition")
        batch.drop_column("gallery_redactions")
    op.drop_index("ix_redactions_image_id", table_name="redactions")
    op.drop_index("ix_redactions_job_id", table_name="redactions")
    op.drop_table("redactions")
