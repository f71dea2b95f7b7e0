"""The Workers page (admins): each generator process's host, device, loaded model, current
job, last heartbeat, the memory its device reports, and its state: ready, rendering,
starting, lost (silent for three heartbeats, by the same rule that decides which presets are
served) or gone (signed off)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.core.serving import SILENT_HEARTBEATS
from bot.web.dashboard.site import Site
from storage.workers import WorkerRecord, WorkerRegistry

GIB = 1024**3
_STATES = {WorkerRegistry.BUSY: "rendering", WorkerRegistry.READY: "ready",
           WorkerRegistry.STARTING: "starting", WorkerRegistry.STOPPED: "gone"}


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


def worker_state(worker: WorkerRecord, now: datetime, silence: timedelta) -> str:
    """ready, rendering, starting, lost or gone."""
    if worker.status == WorkerRegistry.STOPPED:
        return "gone"
    if now - worker.heartbeat_at > silence:
        return "lost"
    return _STATES.get(worker.status, worker.status)


class WorkersPage:
    """`/workers`."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.registry = WorkerRegistry(site.store.engine, clock=site.store.clock)
        self.silence = timedelta(seconds=site.config.queue.heartbeat_seconds * SILENT_HEARTBEATS)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/workers", self.page)

    async def page(self, request: web.Request) -> web.Response:
        self.site.admin(request)
        now = self.site.store.clock()
        rows = [WorkerRow(w, worker_state(w, now, self.silence),
                          max(0.0, (now - w.heartbeat_at).total_seconds()))
                for w in await self.registry.all()]
        return self.site.render(request, "workers.html", title="Workers", rows=rows, gib=GIB)
