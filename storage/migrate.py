"""Apply the Alembic migrations in `migrations/` to a database, from code."""

from __future__ import annotations

import asyncio
import importlib.util
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

#: The top-level package of the Alembic environment and versions (beside `storage`). Found, not
#: imported: its environment imports `storage.models`, and storage imports nothing above it.
MIGRATIONS_PACKAGE = "migrations"

# Alembic keeps the running migration in module globals (`alembic.context`, `alembic.op`), so
# two migrations in one process must take turns; other processes wait on the database's lock.
_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _alembic_lock() -> asyncio.Lock:
    return _LOCKS.setdefault(asyncio.get_running_loop(), asyncio.Lock())


def migrations_folder() -> Path:
    """The folder of the `migrations` package, located without importing it."""
    spec = importlib.util.find_spec(MIGRATIONS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {MIGRATIONS_PACKAGE!r} package is not installed beside storage")
    return Path(next(iter(spec.submodule_search_locations)))


def alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_folder()))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision`; safe to run from several processes at once."""
    async with _alembic_lock(), engine.connect() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))
        await connection.commit()


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    async with _alembic_lock(), engine.connect() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
        await connection.commit()


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with engine.connect() as connection:
        return await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )
