"""usernames (admins name users as in chat, @name) and quota tiers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 05:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("username", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("tier", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("priority", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index("ix_users_platform_username", ["platform", "username"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_platform_username")
        batch_op.drop_column("priority")
        batch_op.drop_column("tier")
        batch_op.drop_column("username")
