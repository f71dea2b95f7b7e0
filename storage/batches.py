"""Batches: what is added while one batch is being handled goes into the next one.

A single runner task hands each batch to `handle` and gives every item its own outcome, so
that callers wait for their item alone. `GroupCommit` (submissions sharing a transaction) and
`ReplyTargetSaver` (status message ids saved together) are both made of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
R = TypeVar("R")

#: Each item's outcome, in order: (True, its result) or (False, the exception it raised).
Outcomes = list[tuple[bool, Any]]


class Batches(Generic[Item, R]):
    def __init__(self, handle: Callable[[list[Item]], Awaitable[Outcomes]], *, name: str) -> None:
        """`handle(items)`: the outcome of each item; raising fails every item of the batch."""
        self._handle = handle
        self._name = name
        self._pending: list[tuple[Item, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    def add(self, item: Item) -> asyncio.Future[R]:
        """Queue `item` for the next batch; the future gets its outcome."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run(), name=self._name)
        return done

    async def drain(self) -> None:
        """Wait until every item added so far has its outcome."""
        while self._runner is not None and not self._runner.done():
            await asyncio.shield(self._runner)

    async def _run(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                outcomes = await self._handle([item for item, _ in batch])
            except Exception as exc:  # the batch as a whole failed: every item did
                outcomes = [(False, exc)] * len(batch)
            for (_, done), (ok, value) in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if ok:
                    done.set_result(value)
                else:
                    done.set_exception(value)
