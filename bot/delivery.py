"""The delivery loop: progress to the chats while jobs run, results once they finish.

Delivery is at-least-once and idempotent per job: a job is marked delivered only after its
adapter posted it, and `mark_delivered` records it once; after a restart, whatever finished
and was not delivered is delivered then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from bot.adapters.base import ChatAdapter
from bot.core import replies
from storage.jobs import JobStore
from storage.records import JobRecord
from storage.wakeup import EVENTS

log = logging.getLogger(__name__)

RETRY_BASE_S = 1.0
RETRY_MAX_S = 60.0
EXPIRE_EVERY_S = 5.0


class DeliveryLoop:
    """Watches the job table for the platforms it has adapters for."""

    def __init__(self, *, store: JobStore, adapters: Mapping[str, ChatAdapter],
                 poll_interval: float = 0.5) -> None:
        self.store = store
        self.adapters = dict(adapters)
        self.poll_interval = poll_interval
        self._shown: dict[int, tuple[str, int | None, int]] = {}
        self._retry_at: dict[int, float] = {}
        self._failures: dict[int, int] = {}
        self._last_expiry = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set, waking early on the events signal."""
        async with self.store.signals.listener(EVENTS) as wakeup:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("delivery tick failed; trying again")
                await wakeup.wait(self.poll_interval)

    async def tick(self) -> None:
        """One pass: expire dead leases, show progress, deliver what finished."""
        if time.monotonic() - self._last_expiry > EXPIRE_EVERY_S:
            self._last_expiry = time.monotonic()
            await self.store.expire_leases()
        await self._show_progress()
        for job in await self.store.undelivered(list(self.adapters)):
            await self._deliver(job)

    async def _show_progress(self) -> None:
        now = self.store.clock()
        active = await self.store.active_jobs(list(self.adapters))
        for job in active:
            position = await self.store.queue_position(job.id)
            key = (job.status, position, job.progress_step)
            if self._shown.get(job.id) == key:
                continue
            self._shown[job.id] = key
            text = replies.progress(job, position, now)
            try:
                await self.adapters[job.user.platform].show_progress(job, text)
            except Exception:
                log.exception("progress update for job %s failed", job.id)
        live = {job.id for job in active}
        self._shown = {k: v for k, v in self._shown.items() if k in live}

    async def _deliver(self, job: JobRecord) -> None:
        if time.monotonic() < self._retry_at.get(job.id, 0.0):
            return
        try:
            await self.adapters[job.user.platform].deliver(job)
        except Exception:
            failures = self._failures.get(job.id, 0) + 1
            self._failures[job.id] = failures
            delay = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (failures - 1))
            self._retry_at[job.id] = time.monotonic() + delay
            log.exception("delivering job %s failed (try %s); again in %.0f s",
                          job.id, failures, delay)
            return
        self._retry_at.pop(job.id, None)
        self._failures.pop(job.id, None)
        await self.store.mark_delivered(job.id)
