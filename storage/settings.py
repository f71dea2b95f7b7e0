"""Settings admins change at run time, kept in the `settings` table."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import upsert
from storage.models import Setting

PAUSED = "queue_paused"
DEFAULT_CREDITS = "default_credits"


async def get_setting(conn: AsyncConnection, key: str) -> str | None:
    return await conn.scalar(select(Setting.value).where(Setting.key == key))


async def put_setting(conn: AsyncConnection, key: str, value: str) -> None:
    await upsert(conn, Setting, {"key": key}, {"value": value})


async def is_paused(conn: AsyncConnection) -> bool:
    """True while an admin has paused claiming."""
    return await get_setting(conn, PAUSED) == "1"
