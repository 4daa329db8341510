"""The notification outbox delivers its rows itself: attempts, backoff, webhook ids, events.

Every row gets a stable webhook id (the `webhook-id` header of every attempt), an attempt
count, the time of its last and next attempt, and a sequence number so that one job can
queue several `gallery.draft_ready` events between two releases. Rows queued by earlier
builds keep their meaning: `gallery_released` is now called `gallery.released`, and a
`failed` row (the old "retry on the next release") is pending again, due at once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("notifications", sa.Column("sequence", sa.Integer()))
    op.add_column("notifications", sa.Column("webhook_id", sa.String(64)))
    op.add_column("notifications", sa.Column("attempts", sa.Integer()))
    op.add_column("notifications", sa.Column("next_attempt_at", STAMP))
    op.add_column("notifications", sa.Column("last_attempt_at", STAMP))

    rows = sa.table(
        "notifications",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("status", sa.String()),
        sa.column("sequence", sa.Integer()),
        sa.column("webhook_id", sa.String()),
        sa.column("attempts", sa.Integer()),
        sa.column("created_at", STAMP),
        sa.column("next_attempt_at", STAMP),
    )
    connection = op.get_bind()
    for (row_id,) in connection.execute(sa.select(rows.c.id)).all():
        connection.execute(
            rows.update()
            .where(rows.c.id == row_id)
            .values(webhook_id=f"msg_{uuid.uuid4().hex}", sequence=0, attempts=0)
        )
    op.execute(
        rows.update().where(rows.c.kind == "gallery_released").values(kind="gallery.released")
    )
    op.execute(rows.update().where(rows.c.status == "failed").values(status="pending"))
    op.execute(
        rows.update().where(rows.c.status == "pending").values(next_attempt_at=rows.c.created_at)
    )

    # SQLite cannot add NOT NULL or change constraints in place: batch mode rebuilds the table.
    with op.batch_alter_table("notifications") as batch:
        batch.alter_column("sequence", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("webhook_id", existing_type=sa.String(64), nullable=False)
        batch.alter_column("attempts", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_notifications_release", type_="unique")
        batch.create_unique_constraint(
            "uq_notifications_event", ["job_id", "kind", "release_number", "sequence"]
        )
        batch.create_unique_constraint("uq_notifications_webhook_id", ["webhook_id"])
    op.create_index("ix_notifications_due", "notifications", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notifications_due", table_name="notifications")
    rows = sa.table(
        "notifications",
        sa.column("kind", sa.String()),
        sa.column("sequence", sa.Integer()),
    )
    # The old schema allows one row per (job, kind, release): later draft events go.
    op.execute(rows.delete().where(rows.c.sequence > 0))
    op.execute(
        rows.update().where(rows.c.kind == "gallery.released").values(kind="gallery_released")
    )
    with op.batch_alter_table("notifications") as batch:
        batch.drop_constraint("uq_notifications_webhook_id", type_="unique")
        batch.drop_constraint("uq_notifications_event", type_="unique")
        batch.create_unique_constraint(
            "uq_notifications_release", ["job_id", "kind", "release_number"]
        )
        batch.drop_column("last_attempt_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("attempts")
        batch.drop_column("webhook_id")
        batch.drop_column("sequence")
