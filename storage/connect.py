"""Open the store a configuration names, with its schema migrated."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from storage import migrate
from storage.context import Clock, utcnow
from storage.db import create_engine, dispose, is_unavailable, sqlite_path
from storage.store import Store
from videobot.config import Config

log = logging.getLogger(__name__)
DISPOSE_TIMEOUT_S = 10.0


async def open_store(config: Config, *, clock: Clock = utcnow) -> Store:
    """Create the engine, apply migrations and return the store. Close with `close_store`.
    Raises `DatabaseUnreachable` or `DatabaseDamaged` (the cause chained) when it cannot."""
    engine = create_engine(config.database_url)
    try:
        await migrate.upgrade(engine)
    except BaseException as exc:
        await engine.dispose()
        error = _open_error(exc, config.database_url)
        if error is None:
            raise
        raise error from exc
    return Store.on(engine, lease_seconds=config.queue.lease_seconds,
                    max_attempts=config.queue.max_attempts, clock=clock,
                    quota_config=config.quotas)


class DatabaseUnreachable(Exception):
    """The database cannot be reached (a server down or refusing, a wrong host or port)."""


class DatabaseDamaged(Exception):
    """The SQLite file is not a database, or is damaged (truncated, overwritten)."""


#: What SQLite says of a file that is not a sound database.
_DAMAGED = ("file is not a database", "database disk image is malformed")


def _open_error(exc: BaseException, url: str) -> Exception | None:
    """`exc` as a reason an operator can act on, or None when it is something else."""
    where = make_url(url).render_as_string(hide_password=True)
    path = sqlite_path(url)
    if path is not None and isinstance(exc, DatabaseError):
        if any(words in str(exc.orig) for words in _DAMAGED):
            return DatabaseDamaged(
                f"the database file {path} is damaged or not a SQLite database ({exc.orig}); "
                "restore it from a backup, or move it away to start with an empty one")
        if "unable to open" in str(exc.orig):
            return DatabaseUnreachable(
                f"cannot open the database file {path} ({exc.orig}); check that its folder "
                "exists and can be written")
    if isinstance(exc, Exception) and is_unavailable(exc):
        reason = str(getattr(exc, "orig", None) or exc) or type(exc).__name__
        return DatabaseUnreachable(
            f"cannot reach the database at {where} ({reason}); check [database] url (or "
            "VIDEOBOT_DATABASE_URL) and that the server is running")
    return None


async def close_store(store: Store) -> None:
    """Close the pool; a connection to a server that went away must not hold up an exit."""
    try:
        await asyncio.wait_for(dispose(store.engine), DISPOSE_TIMEOUT_S)
    except TimeoutError:
        log.warning("closing the database connections timed out; exiting anyway")
