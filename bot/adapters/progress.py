"""How often a chat platform hears about progress: one throttle for every adapter.

A platform limits how often a bot may edit messages: Telegram per chat, Discord per
interaction. The throttle keeps only the latest text of each job and sends at most one edit
per *lane* every `interval` seconds; what a lane is, the adapter says (a Telegram chat, a
Discord job). The send reports how long its lane must then rest: the interval, or longer when
the platform asked to wait (a `RetryAfter`), or a moment when the message to edit is not
posted yet and the text was offered again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Lane = TypeVar("Lane", bound=Hashable)
Item = TypeVar("Item")


class ProgressThrottle(Generic[Lane, Item]):
    """The latest progress `Item` of each job, sent one at a time per lane, a lane's jobs in
    the order they first offered one, each send followed by the rest it asks for."""

    def __init__(self, interval: float, send: Callable[[Item], Awaitable[float]]) -> None:
        """`send`: shows one item; returns how long its lane then rests, in seconds."""
        self.interval = interval
        self._send = send
        self._pending: dict[Lane, dict[int, Item]] = {}
        self._rest_until: dict[Lane, float] = {}
        self._tasks: dict[Lane, asyncio.Task[None]] = {}
        #: The job each lane is sending for right now, and the event set when it is sent.
        self._in_flight: dict[Lane, tuple[int, asyncio.Event]] = {}

    def offer(self, lane: Lane, job_id: int, item: Item) -> None:
        """Send `item` for `job_id` when its lane may; it replaces the job's waiting item."""
        self._pending.setdefault(lane, {})[job_id] = item
        if lane not in self._tasks:
            self._tasks[lane] = asyncio.create_task(self._drain(lane))

    def offer_again(self, lane: Lane, job_id: int, item: Item) -> None:
        """Put back an item that could not be sent (from `send`), unless a newer one waits."""
        self._pending.setdefault(lane, {}).setdefault(job_id, item)

    async def withdraw(self, lane: Lane, job_id: int) -> None:
        """Send nothing more for `job_id`; return once no send of it is under way."""
        self._drop(lane, job_id)
        flight = self._in_flight.get(lane)
        if flight is not None and flight[0] == job_id:
            await flight[1].wait()
            self._drop(lane, job_id)  # the send may have offered it again

    async def close(self) -> None:
        """Stop every lane; what waits is not sent."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drain(self, lane: Lane) -> None:
        """Send the lane's items, resting after each, until it rests with nothing left."""
        try:
            while True:
                delay = self._rest_until.get(lane, 0.0) - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue
                pending = self._pending.get(lane)
                if not pending:
                    return
                job_id = next(iter(pending))
                rest = await self._send_one(lane, job_id, pending.pop(job_id))
                self._rest_until[lane] = time.monotonic() + rest
        finally:
            del self._tasks[lane]
            self._rest_until.pop(lane, None)
            if not self._pending.get(lane):
                self._pending.pop(lane, None)

    async def _send_one(self, lane: Lane, job_id: int, item: Item) -> float:
        sent = asyncio.Event()
        self._in_flight[lane] = (job_id, sent)
        try:
            return await self._send(item)
        except Exception:
            # A platform's expected refusals are the adapter's to handle; anything else is
            # logged, and the lane goes on with its next job.
            log.exception("a progress update of job %s failed", job_id)
            return self.interval
        finally:
            del self._in_flight[lane]
            sent.set()

    def _drop(self, lane: Lane, job_id: int) -> None:
        pending = self._pending.get(lane)
        if pending is not None:
            pending.pop(job_id, None)
