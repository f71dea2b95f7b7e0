"""jobs have a kind: "video" (a clip) or "describe" (a caption of another job's clip, kept as
the job's text)

Revision ID: 0008c
Revises: 0007d
Create Date: 2026-11-30 07:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008c"
down_revision: str | None = "0007d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="video",
                                      nullable=False))
        batch_op.add_column(sa.Column("source_job_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("result_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("result_text")
        batch_op.drop_column("source_job_id")
        batch_op.drop_column("kind")
