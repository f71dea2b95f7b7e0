"""What every room of the store shares: the engine, the clock, the wake-up signals, and the
queue's settings the rooms need (the lease, the attempts, the quotas)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.wakeup import Signals
from videobot.config import QuotasConfig

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StoreContext:
    """One database, as every room of the store uses it. Made once per process (by
    `storage.connect.open_store`, or `StoreContext.on` over an engine already made)."""

    engine: AsyncEngine
    signals: Signals
    clock: Clock = utcnow
    #: How long a claimed job is a worker's before another may take it.
    lease: timedelta = timedelta(seconds=30)
    #: How many claims a job gets before it fails for good.
    max_attempts: int = 3
    quotas: QuotasConfig = field(default_factory=QuotasConfig)

    @classmethod
    def on(cls, engine: AsyncEngine, *, lease_seconds: float, max_attempts: int,
           clock: Clock = utcnow, quota_config: QuotasConfig | None = None) -> StoreContext:
        """The context of `engine` with these queue settings."""
        return cls(engine=engine, signals=Signals(engine), clock=clock,
                   lease=timedelta(seconds=lease_seconds), max_attempts=max_attempts,
                   quotas=quota_config or QuotasConfig())
