"""Open the job store a configuration names, with its schema migrated."""

from __future__ import annotations

import asyncio
import logging

from storage import migrate
from storage.db import create_engine, dispose
from storage.jobs import Clock, JobStore, utcnow
from videobot.config import Config

log = logging.getLogger(__name__)
DISPOSE_TIMEOUT_S = 10.0


async def open_store(config: Config, *, clock: Clock = utcnow) -> JobStore:
    """Create the engine, apply migrations and return the store. Close with `close_store`."""
    engine = create_engine(config.database_url)
    try:
        await migrate.upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    return JobStore(
        engine,
        lease_seconds=config.queue.lease_seconds,
        max_attempts=config.queue.max_attempts,
        clock=clock,
        quota_config=config.quotas,
    )


async def close_store(store: JobStore) -> None:
    """Close the pool; a connection to a server that went away must not hold up an exit."""
    try:
        await asyncio.wait_for(dispose(store.engine), DISPOSE_TIMEOUT_S)
    except TimeoutError:
        log.warning("closing the database connections timed out; exiting anyway")
