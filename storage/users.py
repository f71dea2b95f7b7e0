"""Who is who: a user's row, written by every submission and admin action that names them,
and users as chat names them (`@name`), for admin commands."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, case, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.context import StoreContext
from storage.db import insert_of, read_transaction, write_transaction
from storage.models import User
from videobot.users import UserRef

#: A quota tier as the store records it: (name, priority); ("", 0) for none.
Tier = tuple[str, int]
NO_TIER: Tier = ("", 0)


async def ensure_user(conn: AsyncConnection, user: UserRef, now: datetime) -> int:
    """The user's row id, inserting the row if needed, and locked for this transaction so
    that concurrent submissions of one user are counted one after the other (SQLite's
    BEGIN IMMEDIATE already serialises them)."""
    return (await conn.run_sync(upsert_user, user, now)).id


def upsert_user(conn: Connection, user: UserRef, now: datetime,
                tier: Tier | None = None) -> Row[Any]:
    """`ensure_user` in one statement: (id, display name), the names updated when given, and
    the tier set when given (a submission; an admin naming a user leaves it)."""
    name, priority = tier if tier is not None else NO_TIER
    return conn.execute(_user_upsert(conn.dialect.name, with_tier=tier is not None), {
        "platform": user.platform, "platform_user_id": user.platform_user_id,
        "display_name": user.display_name, "username": user.username.lower(),
        "tier": name, "priority": priority, "created_at": now,
    }).one()


def identity(user: UserRef) -> tuple[Any, ...]:
    """The WHERE conditions that find `user`'s row."""
    return (User.platform == user.platform, User.platform_user_id == user.platform_user_id)


@cache
def _user_upsert(dialect: str, *, with_tier: bool) -> Any:
    new = insert_of(dialect)(User)
    # Updating the row (its names, else nothing) also locks it, on PostgreSQL.
    values: dict[str, Any] = {
        column: case((getattr(new.excluded, column) == "", getattr(User, column)),
                     else_=getattr(new.excluded, column))
        for column in ("display_name", "username")
    }
    if with_tier:
        values |= {"tier": new.excluded.tier, "priority": new.excluded.priority}
    return new.on_conflict_do_update(
        index_elements=["platform", "platform_user_id"], set_=values,
    ).returning(User.id, User.display_name)


class UserDirectory:
    """Remembers the names a platform gives its users, and finds users by them."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context

    async def remember(self, user: UserRef) -> None:
        """Record `user` with their display name and username (a submission does this too)."""
        async with write_transaction(self.context.engine) as conn:
            await ensure_user(conn, user, self.context.clock())

    async def by_username(self, platform: str, username: str) -> list[UserRef]:
        """The users of `platform` seen with `username` (with or without "@", any case): one,
        none, or (after renames) more than one, newest first."""
        name = username.removeprefix("@").lower()
        async with read_transaction(self.context.engine) as conn:
            rows = (await conn.execute(
                select(User.platform_user_id, User.display_name)
                .where(User.platform == platform, User.username == name)
                .order_by(User.id.desc()).limit(5)
            )).all()
        return [UserRef(platform, row.platform_user_id, row.display_name, name) for row in rows]
