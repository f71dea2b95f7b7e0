"""Which presets the running workers take: a job for a preset that none of them takes would
wait forever, so the bot refuses it and says which presets are served."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from storage.store import Store
from storage.workers import WorkerRecord, WorkerRegistry
from videobot.config import Config

#: How long one look at the registry is trusted (a burst of commands reads it once).
CACHE_SECONDS = 2.0
#: A worker silent for this many heartbeats is not counted as running.
SILENT_HEARTBEATS = 3


class ServedPresets:
    """The presets of the workers that are alive now, read from the registry."""

    def __init__(self, store: Store, *, heartbeat_seconds: float,
                 local: frozenset[str] | None = None) -> None:
        self.store = store
        self.silence = timedelta(seconds=heartbeat_seconds * SILENT_HEARTBEATS)
        #: What the workers this process starts will take, until one has registered.
        self.local = local
        self._cached: tuple[float, frozenset[str] | None] = (-CACHE_SECONDS, None)
        #: The read under way: commands arriving meanwhile wait for it instead of each
        #: reading the registry (a burst of commands would otherwise read it once each).
        self._reading: asyncio.Future[frozenset[str] | None] | None = None

    async def presets(self) -> frozenset[str] | None:
        """The presets live workers take; while none is alive, those the local workers will
        take (they are starting), or None when none runs here (jobs wait for one)."""
        read_at, presets = self._cached
        if time.monotonic() - read_at >= CACHE_SECONDS:
            if self._reading is None:
                self._reading = asyncio.ensure_future(self._read())
            presets = await asyncio.shield(self._reading)
        return presets if presets is not None else self.local

    async def _read(self) -> frozenset[str] | None:
        try:
            registry = WorkerRegistry(self.store.engine, clock=self.store.clock)
            presets = served_by(await registry.all(), self.store.clock(), self.silence)
            self._cached = (time.monotonic(), presets)
            return presets
        finally:
            self._reading = None


def local_worker_presets(config: Config) -> frozenset[str]:
    """The presets the workers `videobot run` starts will take, before they load a model."""
    return frozenset(config.worker.claimable(config))


def served_by(workers: list[WorkerRecord], now: datetime,
              silence: timedelta) -> frozenset[str] | None:
    alive = [w for w in workers
             if w.status not in WorkerRegistry.GONE_STATUSES and now - w.heartbeat_at <= silence]
    if not alive:
        return None
    return frozenset(preset for worker in alive for preset in worker.presets)
