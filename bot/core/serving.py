"""Which presets the running workers take: a job for a preset that none of them takes would
wait forever, so the bot refuses it and says which presets are served."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from storage.jobs import JobStore
from storage.workers import WorkerRecord, WorkerRegistry

#: How long one look at the registry is trusted (a burst of commands reads it once).
CACHE_SECONDS = 2.0
#: A worker silent for this many heartbeats is not counted as running.
SILENT_HEARTBEATS = 3


class ServedPresets:
    """The presets of the workers that are alive now, read from the registry."""

    def __init__(self, store: JobStore, *, heartbeat_seconds: float) -> None:
        self.store = store
        self.silence = timedelta(seconds=heartbeat_seconds * SILENT_HEARTBEATS)
        self._cached: tuple[float, frozenset[str] | None] = (-CACHE_SECONDS, None)

    async def presets(self) -> frozenset[str] | None:
        """The presets live workers take, or None when no worker is alive (one may be
        starting, or run elsewhere later: jobs wait for it)."""
        read_at, presets = self._cached
        if time.monotonic() - read_at >= CACHE_SECONDS:
            registry = WorkerRegistry(self.store.engine, clock=self.store.clock)
            presets = served_by(await registry.all(), self.store.clock(), self.silence)
            self._cached = (time.monotonic(), presets)
        return presets


def served_by(workers: list[WorkerRecord], now: datetime,
              silence: timedelta) -> frozenset[str] | None:
    alive = [w for w in workers
             if w.status != WorkerRegistry.STOPPED and now - w.heartbeat_at <= silence]
    if not alive:
        return None
    return frozenset(preset for worker in alive for preset in worker.presets)
