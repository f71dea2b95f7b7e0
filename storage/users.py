"""Who is who: users as chat names them (`@name`), for admin commands."""

from __future__ import annotations

from sqlalchemy import select

from storage.db import read_transaction, write_transaction
from storage.jobs import JobStore, ensure_user
from storage.models import User
from videobot.users import UserRef


class UserDirectory:
    """Remembers the names a platform gives its users, and finds users by them."""

    def __init__(self, store: JobStore) -> None:
        self.store = store

    async def remember(self, user: UserRef) -> None:
        """Record `user` with their display name and username (a submission does this too)."""
        async with write_transaction(self.store.engine) as conn:
            await ensure_user(conn, user, self.store.clock())

    async def by_username(self, platform: str, username: str) -> list[UserRef]:
        """The users of `platform` seen with `username` (with or without "@", any case): one,
        none, or (after renames) more than one, newest first."""
        name = username.removeprefix("@").lower()
        async with read_transaction(self.store.engine) as conn:
            rows = (await conn.execute(
                select(User.platform_user_id, User.display_name)
                .where(User.platform == platform, User.username == name)
                .order_by(User.id.desc()).limit(5)
            )).all()
        return [UserRef(platform, row.platform_user_id, row.display_name, name) for row in rows]
