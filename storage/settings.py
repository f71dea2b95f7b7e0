"""Settings admins change at run time, kept in the `settings` table."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import dialect_insert
from storage.models import Setting

PAUSED = "queue_paused"
DEFAULT_CREDITS = "default_credits"


async def get_setting(conn: AsyncConnection, key: str) -> str | None:
    return await conn.scalar(select(Setting.value).where(Setting.key == key))


async def put_setting(conn: AsyncConnection, key: str, value: str) -> None:
    statement = dialect_insert(conn)(Setting).values(key=key, value=value)
    await conn.execute(
        statement.on_conflict_do_update(index_elements=["key"], set_={"value": value})
    )


async def is_paused(conn: AsyncConnection) -> bool:
    """True while an admin has paused claiming."""
    return await get_setting(conn, PAUSED) == "1"
