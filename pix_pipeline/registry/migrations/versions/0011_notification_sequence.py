"""The outbox's `sequence` orders all events of a job: unique per job, it only grows, and the
job row keeps the last one handed out (`jobs.notification_sequence`).

Until now `sequence` counted from 0 per job, kind and release. Existing rows are numbered
1, 2, 3 … per job in the order they were queued; the next event of a job takes its time in
milliseconds, which is larger. The column becomes a 64-bit integer for that. An index answers
the deliverer's question "is an earlier event of this job still pending?".

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

ROWS = sa.table(
    "notifications",
    sa.column("id", sa.Integer()),
    sa.column("job_id", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("release_number", sa.Integer()),
    sa.column("sequence", sa.BigInteger()),
)


def _renumber(group: Callable[[Any], tuple[object, ...]], first: int) -> None:
    """Number the rows from `first` within each group, in the order they were queued."""
    connection = op.get_bind()
    counters: dict[tuple[object, ...], int] = {}
    query = sa.select(ROWS.c.id, ROWS.c.job_id, ROWS.c.kind, ROWS.c.release_number)
    for row in connection.execute(query.order_by(ROWS.c.id)).all():
        key = group(row)
        counters[key] = counters.get(key, first - 1) + 1
        connection.execute(ROWS.update().where(ROWS.c.id == row.id).values(sequence=counters[key]))


def upgrade() -> None:
    op.add_column(
        "jobs",
        sa.Column("notification_sequence", sa.BigInteger(), nullable=False, server_default="0"),
    )
    # The old constraint would clash with the new numbers while they are written.
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("uq_notifications_event", type_="unique")
        batch.alter_column(
            "sequence", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
        )
    _renumber(lambda row: (row.job_id,), first=1)
    with op.batch_alter_table("notifications") as batch:
        batch.create_unique_constraint("uq_notifications_job_sequence", ["job_id", "sequence"])
    op.create_index(
        "ix_notifications_job_pending", "notifications", ["job_id", "status", "sequence"]
    )
    op.execute(
        "UPDATE jobs SET notification_sequence = COALESCE((SELECT MAX(sequence) FROM"
        " notifications WHERE notifications.job_id = jobs.job_id), 0)"
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_job_pending", table_name="notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("uq_notifications_job_sequence", type_="unique")
    _renumber(lambda row: (row.job_id, row.kind, row.release_number), first=0)
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column(
            "sequence", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
        )
        batch.create_unique_constraint(
            "uq_notifications_event", ["job_id", "kind", "release_number", "sequence"]
        )
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("notification_sequence")
