"""Jobs record who returned a released gallery to internal, when and why.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("revoked_at", sa.DateTime(timezone=True)))
    op.add_column("jobs", sa.Column("revoked_by", sa.String(200)))
    op.add_column("jobs", sa.Column("revoke_note", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("revoke_note")
        batch.drop_column("revoked_by")
        batch.drop_column("revoked_at")
