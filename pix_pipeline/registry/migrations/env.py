"""Alembic environment of the registry.

It runs only on the connection that `pix_pipeline.registry.migrations` hands over, which
already holds the migration lock and owns the transaction.
"""

from alembic import context
from sqlalchemy import Connection

from pix_pipeline.registry.migrations import VERSION_TABLE
from pix_pipeline.registry.schema import Base

connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(connection, Connection):
    raise RuntimeError(
        "the registry migrations need a live connection: run"
        " `python -m pix_pipeline.registry.migrate` (offline --sql mode is not supported)"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    # SQLite alters columns by rebuilding the table; autogenerate should write batch ops.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
