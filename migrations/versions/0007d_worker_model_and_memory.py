"""workers report the model they have loaded and their device's memory; jobs keep their
render time (clips go with retention)

Revision ID: 0007d
Revises: 0006d
Create Date: 2026-11-30 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007d"
down_revision: str | None = "0006d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("loaded_preset", sa.String(length=64), server_default="",
                                      nullable=False))
        batch_op.add_column(sa.Column("memory_used_bytes", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("memory_total_bytes", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("render_seconds", sa.Float(), nullable=True))
    op.execute("UPDATE jobs SET render_seconds = (SELECT clips.render_seconds FROM clips "
               "WHERE clips.job_id = jobs.id)")


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("render_seconds")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_column("memory_total_bytes")
        batch_op.drop_column("memory_used_bytes")
        batch_op.drop_column("loaded_preset")
