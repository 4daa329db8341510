"""Jobs remember their last activity and idle sweep, so storage polling skips idle jobs.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("last_activity_at", sa.DateTime(timezone=True)))
    op.add_column("jobs", sa.Column("last_swept_at", sa.DateTime(timezone=True)))
    # Existing jobs were last active when they last changed.
    jobs = sa.table("jobs", sa.column("last_activity_at"), sa.column("updated_at"))
    op.execute(jobs.update().values(last_activity_at=jobs.c.updated_at))
    # SQLite cannot add NOT NULL to a column: batch mode rebuilds the table there.
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column(
            "last_activity_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    op.create_index("ix_jobs_activity", "jobs", ["last_activity_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_activity", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("last_swept_at")
        batch.drop_column("last_activity_at")
