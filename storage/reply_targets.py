"""Saving where a job's replies went (the status message's id), many at once.

An adapter saves the id of every acknowledgement it posts. In a burst those writes queue for
the database's one writer behind the submissions; `ReplyTargetSaver` folds all the saves that
arrive while one is being written into the next single transaction (group commit), so that a
burst of N commands costs N submissions plus a few writes, not 2N.
"""

from __future__ import annotations

import asyncio
from typing import Any

from storage.jobs import JobStore


class ReplyTargetSaver:
    """`save` returns once the values are in the database; saves made meanwhile share one
    transaction."""

    def __init__(self, store: JobStore) -> None:
        self.store = store
        self._pending: list[tuple[int, dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def save(self, job_id: int, **values: Any) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((job_id, values, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name="reply-target-saver")
        await asyncio.shield(done)

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
