"""The Workers page (admins): each generator process's host, device, loaded model, current
job, last heartbeat, the memory its device reports, and its state: ready, rendering,
starting, lost (silent for longer than a lease, as `/admin workers` says) or gone (signed
off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.web.dashboard.site import Site
from storage.workers import WorkerRecord, WorkerRegistry

GIB = 1024**3
_STATES = {WorkerRegistry.BUSY: "rendering", WorkerRegistry.READY: "ready",
           WorkerRegistry.STARTING: "starting", WorkerRegistry.GONE: "gone",
           WorkerRegistry.LOST: "lost"}


@dataclass(frozen=True)
class WorkerRow:
    """A worker as its row shows it."""

    worker: WorkerRecord
    state: str
    heartbeat_age_s: float

    @property
    def memory_percent(self) -> int | None:
        memory = self.worker.memory
        if memory is None or memory.total_bytes <= 0:
            return None
        return round(100 * memory.used_bytes / memory.total_bytes)


def worker_state(worker: WorkerRecord, now: datetime, lease: timedelta) -> str:
    """ready, rendering, starting, lost or gone."""
    state = worker.state(now, lease)
    return _STATES.get(state, state)


class WorkersPage:
    """`/workers`."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.registry = WorkerRegistry(site.store.engine, clock=site.store.clock)
        self.lease = timedelta(seconds=site.config.queue.lease_seconds)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/workers", self.page)

    async def page(self, request: web.Request) -> web.Response:
        self.site.admin(request)
        now = self.site.store.clock()
        rows = [WorkerRow(w, worker_state(w, now, self.lease),
                          max(0.0, (now - w.heartbeat_at).total_seconds()))
                for w in await self.registry.all()]
        return self.site.render(request, "workers.html", title="Workers", rows=rows, gib=GIB)
