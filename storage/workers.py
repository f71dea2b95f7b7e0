"""The registry of generator processes: who is serving, where, and on which job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import run_read, upsert, write_transaction
from storage.jobs import Clock
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
    #: The preset whose model is loaded ("" before one is).
    loaded_preset: str = ""
    #: The device's memory in use and in all (bytes); None where the device reports none.
    memory: DeviceMemory | None = None


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
    STOPPED = "stopped"

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

    async def forget_stopped(self, older_than: datetime) -> int:
        """Drop stopped or silent workers last heard of before `older_than`."""
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(delete(Worker).where(Worker.heartbeat_at < older_than))
        return int(result.rowcount or 0)

    async def all(self) -> list[WorkerRecord]:
        # One thread job on SQLite: the bot reads this as a burst of commands begins.
        rows = await run_read(self.engine, _all_rows)
        return [
            WorkerRecord(
                id=r.id, host=r.host, pid=r.pid, device=r.device, presets=tuple(r.presets),
                version=r.version, status=r.status, current_job_id=r.current_job_id,
                started_at=r.started_at, heartbeat_at=r.heartbeat_at,
                loaded_preset=r.loaded_preset, memory=_memory(r),
            )
            for r in rows
        ]


def _all_rows(conn: Connection) -> list[Row[Any]]:
    return list(conn.execute(select(Worker).order_by(Worker.host, Worker.id)).all())


def _memory(row: Any) -> DeviceMemory | None:
    if row.memory_used_bytes is None or row.memory_total_bytes is None:
        return None
    return DeviceMemory(int(row.memory_used_bytes), int(row.memory_total_bytes))
