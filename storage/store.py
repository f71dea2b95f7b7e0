"""The store: the rooms of the job table wired over one shared context.

- `submissions`: a job in, with its limits and charges (storage.submissions)
- `cancels`: a job stopped by its owner, an admin or the API (storage.cancels)
- `leases`: the worker's claim, heartbeat and fenced finish (storage.leases)
- `jobs`: reads: one job, a user's, the active queue, positions (storage.job_reads)
- `deliveries`: what the chats have not received, and where replies go (storage.deliveries)

The job table's neighbours (admin, users, API keys, previews, retention, ...) take the
`context` the same way.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from storage.cancels import Cancels
from storage.context import Clock, StoreContext, utcnow
from storage.deliveries import Deliveries
from storage.job_reads import JobReads
from storage.leases import Leases
from storage.submissions import Submissions
from storage.wakeup import Signals
from videobot.config import QuotasConfig


class Store:
    """One database's rooms. Made by `storage.connect.open_store` (or `Store.on`)."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self.submissions = Submissions(context)
        self.cancels = Cancels(context)
        self.leases = Leases(context)
        self.jobs = JobReads(context)
        self.deliveries = Deliveries(context)

    @classmethod
    def on(cls, engine: AsyncEngine, *, lease_seconds: float, max_attempts: int,
           clock: Clock = utcnow, quota_config: QuotasConfig | None = None) -> Store:
        """The store of `engine` with these queue settings (the schema already migrated)."""
        return cls(StoreContext.on(engine, lease_seconds=lease_seconds,
                                   max_attempts=max_attempts, clock=clock,
                                   quota_config=quota_config))

    @property
    def engine(self) -> AsyncEngine:
        return self.context.engine

    @property
    def clock(self) -> Clock:
        return self.context.clock

    @property
    def signals(self) -> Signals:
        return self.context.signals
