"""SQLite under contention: several processes claiming, heartbeating and finishing at once
never see "database is locked" (WAL, a busy timeout and BEGIN IMMEDIATE for every write).
`bench/queue.py` runs the same load for 30 s and prints the rates."""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage import migrate
from storage.db import create_engine
from tests.queue_load import enqueue, run_workers


def test_four_processes_on_sqlite_see_no_lock_errors(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'contended.db'}"

    async def prepare() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        await enqueue(url, 200)

    asyncio.run(prepare())
    result, _elapsed = run_workers(url, 4, seconds=8, refill=True)
    assert result.errors == []
    assert result.finished >= 50
