"""Saving where a job's replies went (the status message's id), many at once.

An adapter saves the id of every acknowledgement it posts. In a burst those writes queue for
the database's one writer behind the submissions; `ReplyTargetSaver` folds all the saves that
arrive while one is being written into the next single transaction (group commit), so that a
burst of N commands costs N submissions plus a few writes, not 2N.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from storage.batches import Batches, Outcomes
from storage.context import StoreContext
from storage.deliveries import Deliveries

log = logging.getLogger(__name__)

#: (job id, the values to merge into its reply target).
_Patch = tuple[int, dict[str, Any]]


class ReplyTargetSaver:
    """`save` returns once the values are in the database; saves made meanwhile share one
    transaction. `save_soon` queues a save without waiting for it (a failure is logged), and
    `flush` waits for every queued save."""

    def __init__(self, context: StoreContext) -> None:
        self.deliveries = Deliveries(context)
        self._batches: Batches[_Patch, None] = Batches(self._write, name="reply-target-saver")

    async def save(self, job_id: int, **values: Any) -> None:
        await asyncio.shield(self._batches.add((job_id, values)))

    def save_soon(self, job_id: int, **values: Any) -> None:
        self._batches.add((job_id, values)).add_done_callback(_log_failure)

    async def flush(self) -> None:
        await self._batches.drain()

    async def _write(self, patches: list[_Patch]) -> Outcomes:
        await self.deliveries.update_reply_targets(patches)
        return [(True, None)] * len(patches)


def _log_failure(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("saving a status message's id failed (a restarted bot will post a new one)",
                  exc_info=done.exception())
