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

from storage.jobs import JobStore

log = logging.getLogger(__name__)


class ReplyTargetSaver:
    """`save` returns once the values are in the database; saves made meanwhile share one
    transaction. `save_soon` queues a save without waiting for it (a failure is logged), and
    `flush` waits for every queued save."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._pending: list[tuple[int, dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def save(self, job_id: int, **values: Any) -> None:
        await asyncio.shield(self._queue(job_id, values))

    def save_soon(self, job_id: int, **values: Any) -> None:
        self._queue(job_id, values).add_done_callback(_log_failure)

    async def flush(self) -> None:
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _queue(self, job_id: int, values: dict[str, Any]) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((job_id, values, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="reply-target-saver")
        return done

    async def _write_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self.store.update_reply_targets([(job, values) for job, values, _ in batch])
            except Exception as exc:
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, _, done in batch:
                    if not done.done():
                        done.set_result(None)


def _log_failure(done: asyncio.Future[None]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("saving a status message's id failed (a restarted bot will post a new one)",
                  exc_info=done.exception())
