"""Jobs remember the stamp of their final_input/ folder: an unchanged folder is not listed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("folder_stamp", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("folder_stamp")
