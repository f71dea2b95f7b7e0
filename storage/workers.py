"""The registry of generator processes: who is serving, where, and on which job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.context import Clock
from storage.db import run_read, upsert, write_transaction
from storage.models import Worker


@dataclass(frozen=True)
class WorkerRecord:
    """A registered worker as `/admin workers` shows it."""

    id: str
    host: str
    pid: int
    device: str
    presets: tuple[str, ...]
    version: str
    status: str
    current_job_id: int | None
    started_at: datetime
    heartbeat_at: datetime
    #: What keeps it from serving ("" when nothing does), and since when.
    problem: str = ""
    problem_since: datetime | None = None
    #: The preset whose model is loaded ("" before one is).
    loaded_preset: str = ""
    #: The device's memory in use and in all (bytes); None where the device reports none.
    memory: DeviceMemory | None = None

    def state(self, now: datetime, lease: timedelta) -> str:
        """What the worker is, as far as the registry can tell: `gone` (it exited and said
        so), `lost` (silent for longer than a lease: killed, or cut off from the database),
        else what it last reported (starting, ready, busy)."""
        if self.status in WorkerRegistry.GONE_STATUSES:
            return WorkerRegistry.GONE
        if now - self.heartbeat_at > lease:
            return WorkerRegistry.LOST
        return self.status


@dataclass(frozen=True)
class DeviceMemory:
    """A device's memory as its worker reported it: bytes in use (by every process on the
    device) and in all."""

    used_bytes: int
    total_bytes: int


class WorkerRegistry:
    """Workers register at start, beat while alive (idle or busy), and sign off at exit."""

    STARTING = "starting"
    READY = "ready"
    BUSY = "busy"
    #: Written by a worker that exits cleanly.
    GONE = "gone"
    #: Never written: a worker whose heartbeat is older than a lease (see `state`).
    LOST = "lost"
    #: What rows of a gone worker say ("stopped" before the states had these names).
    GONE_STATUSES = frozenset({GONE, "stopped"})

    def __init__(self, engine: AsyncEngine, *, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    async def register(self, *, worker_id: str, host: str, pid: int, device: str,
                       presets: Sequence[str], version: str) -> None:
        now = self.clock()
        values = {"host": host, "pid": pid, "device": device, "presets": list(presets),
                  "version": version, "status": self.STARTING, "current_job_id": None,
                  "started_at": now, "heartbeat_at": now}
        async with write_transaction(self.engine) as conn:
            await upsert(conn, Worker, {"id": worker_id}, values)

    async def beat(self, worker_id: str, *, status: str, current_job_id: int | None,
                   loaded_preset: str | None = None,
                   memory: DeviceMemory | None = None) -> None:
        """Record that the worker lives, what it is doing, and on which job; with
        `loaded_preset`, the model it holds and its device's memory (`memory`)."""
        values: dict[str, Any] = {"status": status, "current_job_id": current_job_id,
                                  "heartbeat_at": self.clock()}
        if loaded_preset is not None:
            values |= {"loaded_preset": loaded_preset,
                       "memory_used_bytes": memory.used_bytes if memory else None,
                       "memory_total_bytes": memory.total_bytes if memory else None}
        async with write_transaction(self.engine) as conn:
            await conn.execute(update(Worker).where(Worker.id == worker_id).values(**values))

    async def set_problem(self, worker_id: str, problem: str) -> None:
        """Record what keeps the worker from serving ("": nothing any more), for the admins;
        the moment it began is kept while the same problem lasts."""
        since = self.clock() if problem else None
        async with write_transaction(self.engine) as conn:
            await conn.execute(
                update(Worker).where(Worker.id == worker_id, Worker.problem != problem)
                .values(problem=problem, problem_since=since)
            )

    async def prune(self, *, gone_for: timedelta, silent_for: timedelta) -> int:
        """Forget workers that exited more than `gone_for` ago, and any silent for longer
        than `silent_for` (lost ones); returns how many rows went."""
        now = self.clock()
        gone = Worker.status.in_(self.GONE_STATUSES) & (Worker.heartbeat_at < now - gone_for)
        silent = Worker.heartbeat_at < now - silent_for
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(delete(Worker).where(or_(gone, silent)))
        return int(result.rowcount or 0)

    async def all(self) -> list[WorkerRecord]:
        # One thread job on SQLite: the bot reads this as a burst of commands begins.
        rows = await run_read(self.engine, _all_rows)
        return [
            WorkerRecord(
                id=r.id, host=r.host, pid=r.pid, device=r.device, presets=tuple(r.presets),
                version=r.version, status=r.status, current_job_id=r.current_job_id,
                started_at=r.started_at, heartbeat_at=r.heartbeat_at, problem=r.problem,
                problem_since=r.problem_since, loaded_preset=r.loaded_preset, memory=_memory(r),
            )
            for r in rows
        ]


def _all_rows(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(Worker).order_by(Worker.host, Worker.id)).all())


def _memory(row: Any) -> DeviceMemory | None:
    if row.memory_used_bytes is None or row.memory_total_bytes is None:
        return None
    return DeviceMemory(int(row.memory_used_bytes), int(row.memory_total_bytes))
