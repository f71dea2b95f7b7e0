"""Discord interaction tokens out of the database: drop them from every job's reply target

Interaction tokens are credentials (for 15 minutes). The bot keeps them in memory only now;
the ones earlier versions stored in `jobs.reply_target` are removed. Downgrading cannot bring
them back (nor need it: they have expired).

Revision ID: 0006b
Revises: 0005
Create Date: 2026-11-30 04:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006b"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE jobs SET reply_target = (reply_target::jsonb - 'token')::json "
                   "WHERE platform = 'discord' AND (reply_target::jsonb) ? 'token'")
    else:
        op.execute("UPDATE jobs SET reply_target = json_remove(reply_target, '$.token') "
                   "WHERE platform = 'discord' AND json_extract(reply_target, '$.token') "
                   "IS NOT NULL")


def downgrade() -> None:
    pass  # the tokens are gone for good, and expired anyway
