"""an index on jobs (user_id, started_at): when a user was last served

Fair scheduling asks, for every user with a waiting job, when their last job started (the
claim's order and each queue position). Without this index that reads all of the user's
jobs, their whole history; with it, one entry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 07:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_user_started", ["user_id", "started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_user_started")
