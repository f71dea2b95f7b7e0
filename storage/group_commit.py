"""Group commit: writes that arrive while one is being committed share the next transaction.

On SQLite there is one writer at a time, and a transaction's fixed costs (the thread handoff,
BEGIN IMMEDIATE, COMMIT) are a good part of a short write. `GroupCommit.run(work)` queues
`work`; a single runner takes everything queued and runs it in one transaction, each piece in
its own savepoint, so that one piece's refusal (an exception) undoes only that piece and
reaches only its caller. On other databases each piece is its own transaction, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import run_write

T = TypeVar("T")

Work = Callable[[Connection], Any]


class GroupCommit:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def run(self, work: Callable[[Connection], T]) -> T:
        """The result of `work(connection)`, committed (or its exception)."""
        if self.engine.dialect.name != "sqlite":
            return await run_write(self.engine, work)
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._pending.append((work, done))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run_all(), name="group-commit")
        return await asyncio.shield(done)

    async def _run_all(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                outcomes = await run_write(self.engine, partial(_each, batch=batch))
            except Exception as exc:  # the transaction itself failed: every piece did
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), (ok, value) in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if ok:
                    done.set_result(value)
                else:
                    done.set_exception(value)


def _each(conn: Connection, *, batch: list[tuple[Work, asyncio.Future[Any]]]
          ) -> list[tuple[bool, Any]]:
    """Run each piece in a savepoint: (True, result) or (False, the exception it raised)."""
    outcomes: list[tuple[bool, Any]] = []
    for work, _ in batch:
        try:
            with conn.begin_nested():
                outcomes.append((True, work(conn)))
        except Exception as exc:
            outcomes.append((False, exc))
    return outcomes
