"""Group commit: writes that arrive while one is being committed share the next transaction.

On SQLite there is one writer at a time, and a transaction's fixed costs (the thread handoff,
BEGIN IMMEDIATE, COMMIT) are a good part of a short write. `GroupCommit.run(work)` queues
`work`; a single runner takes everything queued and runs it in one transaction, each piece in
its own savepoint, so that one piece's refusal (an exception) undoes only that piece and
reaches only its caller. Then `finish` runs once, in the same transaction, on the results of
the pieces that succeeded: work that costs about the same for one piece as for many (a query
over the whole queue) is done once per batch, and so is `after_commit` (waking the workers),
once the batch is committed. On other databases each piece is its own transaction, finished
alone, as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.batches import Batches, Outcomes
from storage.db import run_write

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: One piece of a batch: a function of the transaction's connection.
Work = Callable[[Connection], T]
#: The results of a batch's successful pieces, in order, to what their callers get.
Finish = Callable[[Connection, Sequence[T]], Sequence[R]]
#: What to do once after a commit that wrote something, before the callers get their results.
AfterCommit = Callable[[], Awaitable[None]]

# A savepoint by name, on the driver's own connection: SQLAlchemy's `begin_nested()` compiles
# its SAVEPOINT and RELEASE statements again for every piece, and even `exec_driver_sql` costs
# several times what SQLite takes to run them, a good part of a short piece's cost.
_SAVEPOINT = "SAVEPOINT group_commit_piece"
_RELEASE = "RELEASE SAVEPOINT group_commit_piece"
_ROLLBACK = "ROLLBACK TO SAVEPOINT group_commit_piece"


class GroupCommit(Generic[T, R]):
    def __init__(self, engine: AsyncEngine, finish: Finish[T, R], *,
                 after_commit: AfterCommit | None = None) -> None:
        self.engine = engine
        self.finish = finish
        self.after_commit = after_commit
        self._batches: Batches[Work[T], R] = Batches(self._commit, name="group-commit")

    async def run(self, work: Work[T]) -> R:
        """`finish` of the result of `work(connection)`, committed (or the exception)."""
        if self.engine.dialect.name != "sqlite":
            result = await run_write(self.engine,
                                     partial(_alone, work=work, finish=self.finish))
            await self._after_commit()
            return result
        return await asyncio.shield(self._batches.add(work))

    async def _commit(self, pieces: list[Work[T]]) -> Outcomes:
        outcomes = await run_write(self.engine,
                                   partial(_each, pieces=pieces, finish=self.finish))
        if any(ok for ok, _ in outcomes):
            await self._after_commit()
        return outcomes

    async def _after_commit(self) -> None:
        if self.after_commit is None:
            return
        try:
            await self.after_commit()
        except Exception:  # what is committed stays committed: its callers get their results
            log.warning("the step after a group commit failed; the commit stands",
                        exc_info=True)


def _alone(conn: Connection, *, work: Work[T], finish: Finish[T, R]) -> R:
    return finish(conn, [work(conn)])[0]


def _each(conn: Connection, *, pieces: list[Work[T]], finish: Finish[T, R]) -> Outcomes:
    """Run each piece in a savepoint, then `finish` the successful ones: for each piece
    (True, its finished result) or (False, the exception it raised)."""
    outcomes: Outcomes = []
    driver = conn.connection.driver_connection
    assert driver is not None
    for work in pieces:
        driver.execute(_SAVEPOINT)
        try:
            result = work(conn)
        except Exception as exc:
            driver.execute(_ROLLBACK)
            driver.execute(_RELEASE)
            outcomes.append((False, exc))
        else:
            driver.execute(_RELEASE)
            outcomes.append((True, result))
    succeeded = [index for index, (ok, _) in enumerate(outcomes) if ok]
    if succeeded:
        finished = finish(conn, [outcomes[index][1] for index in succeeded])
        for index, value in zip(succeeded, finished, strict=True):
            outcomes[index] = (True, value)
    return outcomes
