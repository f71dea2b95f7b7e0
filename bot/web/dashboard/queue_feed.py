"""The queue as the dashboard shows it: running jobs, then the waiting ones in the fair order
the workers will claim them, each with its position, progress and an estimate of when it
will be done; read once for every open queue page (at most every `FRESH_S`).

The estimate plays the queue forward: each live worker finishes its job at the rate its
steps have gone so far, then takes the next waiting job, which takes as long as that
preset's jobs took lately (the median over the last day). Without such a figure for a preset,
that job and those behind it have no estimate.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.admin import AdminStore
from storage.models import JobStatus
from storage.previews import PreviewStore
from storage.records import JobRecord
from storage.stats_series import StatsSeries
from storage.store import Store
from storage.workers import WorkerRegistry

FRESH_S = 0.5
TYPICAL_FRESH_S = 60.0
TYPICAL_OVER = timedelta(days=1)


@dataclass(frozen=True)
class QueueRow:
    """One waiting or rendering job as its row shows it."""

    job: JobRecord
    #: 1 for the next job to be claimed; None while rendering.
    position: int | None
    percent: int
    #: Seconds until it is estimated done; None when there is no estimate.
    eta_s: float | None
    #: (attempt, step) of its latest preview while rendering; None when it has none.
    preview: tuple[int, int] | None = None


@dataclass(frozen=True)
class QueueView:
    """The whole queue at one moment."""

    rows: list[QueueRow]
    paused: bool
    workers: int

    def of(self, owner_key: str | None) -> list[QueueRow]:
        """The rows a viewer sees: everyone's (None), or one user's own."""
        return [row for row in self.rows if owner_key is None or row.job.user.key == owner_key]

    @property
    def running(self) -> int:
        return sum(row.job.status == JobStatus.RUNNING for row in self.rows)

    @property
    def waiting(self) -> int:
        return len(self.rows) - self.running


class QueueFeed:
    """Reads the queue for the dashboard, shared by the pages open at once."""

    def __init__(self, store: Store, *, lease_seconds: float,
                 previews: PreviewStore) -> None:
        self.store = store
        self.previews = previews
        self.admin_store = AdminStore(store.context)
        self.series = StatsSeries(store.context)
        self.registry = WorkerRegistry(store.engine, clock=store.clock)
        self.lease = timedelta(seconds=lease_seconds)
        self._view: tuple[float, QueueView] | None = None
        self._typical: tuple[float, dict[str, float]] = (-TYPICAL_FRESH_S, {})
        self._lock = asyncio.Lock()

    async def view(self) -> QueueView:
        """The queue now (read at most every `FRESH_S` for everyone asking)."""
        async with self._lock:
            if self._view is None or time.monotonic() - self._view[0] >= FRESH_S:
                self._view = (time.monotonic(), await self._read())
            return self._view[1]

    async def _read(self) -> QueueView:
        jobs = await self.store.jobs.active_jobs()
        paused = await self.admin_store.paused()
        workers = await self.registry.all()
        now = self.store.clock()
        live = sum(1 for w in workers
                   if w.state(now, self.lease) not in (WorkerRegistry.GONE, WorkerRegistry.LOST))
        etas = estimate(jobs, await self._typical_seconds(), max(1, live), now)
        previews = await self.previews.steps(
            [job.id for job in jobs if job.status == JobStatus.RUNNING])
        rows, waiting = [], 0
        for job in jobs:
            if job.status == JobStatus.QUEUED:
                waiting += 1
            position = waiting if job.status == JobStatus.QUEUED else None
            rows.append(QueueRow(job, position, percent(job), etas.get(job.id),
                                 _current(previews.get(job.id), job)))
        return QueueView(rows, paused, live)

    async def _typical_seconds(self) -> dict[str, float]:
        read_at, typical = self._typical
        if time.monotonic() - read_at >= TYPICAL_FRESH_S:
            typical = await self.series.typical_seconds(self.store.clock() - TYPICAL_OVER)
            self._typical = (time.monotonic(), typical)
        return typical


def _current(preview: tuple[int, int] | None, job: JobRecord) -> tuple[int, int] | None:
    """A preview of the attempt now rendering (one left by an attempt that lost its lease
    shows what is no longer being made)."""
    return preview if preview is not None and preview[0] == job.attempts else None


def percent(job: JobRecord) -> int:
    """How far a job's render is, 0 to 100."""
    if job.status != JobStatus.RUNNING or job.progress_total <= 0:
        return 0
    return min(100, 100 * job.progress_step // job.progress_total)


def estimate(jobs: list[JobRecord], typical: dict[str, float], workers: int,
             now: datetime) -> dict[int, float]:
    """Seconds until each job is done, by job id (running first, then waiting in order)."""
    etas: dict[int, float] = {}
    free_at: list[float] = []  # when each worker is free, seconds from now
    for job in jobs:
        if job.status != JobStatus.RUNNING:
            continue
        left = _left_of(job, typical, now)
        if left is not None:
            etas[job.id] = left
        free_at.append(left if left is not None else typical.get(job.request.preset, 0.0))
    free_at = sorted(free_at)[:workers] + [0.0] * max(0, workers - len(free_at))
    heapq.heapify(free_at)
    for job in jobs:
        if job.status != JobStatus.QUEUED:
            continue
        took = typical.get(job.request.preset)
        if took is None:
            break  # no figure: neither this job nor those behind it can be placed
        done = heapq.heappop(free_at) + took
        etas[job.id] = done
        heapq.heappush(free_at, done)
    return etas


def _left_of(job: JobRecord, typical: dict[str, float], now: datetime) -> float | None:
    """A rendering job's time left: at the pace of its steps so far, else its preset's
    typical time less what it has run."""
    if job.started_at is None:
        return None
    elapsed = (now - job.started_at).total_seconds()
    if job.progress_step > 0:
        return max(0.0, elapsed / job.progress_step * (job.progress_total - job.progress_step))
    took = typical.get(job.request.preset)
    return max(0.0, took - elapsed) if took is not None else None
