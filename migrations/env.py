"""Alembic environment: runs on the connection `storage.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.models import Base

#: Any 64-bit number, the same in every process: serialises concurrent upgrades on PostgreSQL.
ADVISORY_LOCK_ID = 0x76696465_6F626F74


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": ADVISORY_LOCK_ID})
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `videobot db upgrade`, not the alembic command")
run_migrations(connection)
