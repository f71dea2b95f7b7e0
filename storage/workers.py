"""The registry of generator processes: who is serving, where, and on which job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_transaction, upsert, write_transaction
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
    #: What keeps it from serving ("" when nothing does), and since when.
    problem: str = ""
    problem_since: datetime | None = None


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

    async def beat(self, worker_id: str, *, status: str, current_job_id: int | None) -> None:
        """Record that the worker lives, what it is doing, and on which job."""
        async with write_transaction(self.engine) as conn:
            await conn.execute(
                update(Worker).where(Worker.id == worker_id).values(
                    status=status, current_job_id=current_job_id, heartbeat_at=self.clock()
                )
            )

    async def set_problem(self, worker_id: str, problem: str) -> None:
        """Record what keeps the worker from serving ("": nothing any more), for the admins;
        the moment it began is kept while the same problem lasts."""
        since = self.clock() if problem else None
        async with write_transaction(self.engine) as conn:
            await conn.execute(
                update(Worker).where(Worker.id == worker_id, Worker.problem != problem)
                .values(problem=problem, problem_since=since)
            )

    async def forget_stopped(self, older_than: datetime) -> int:
        """Drop stopped or silent workers last heard of before `older_than`."""
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(delete(Worker).where(Worker.heartbeat_at < older_than))
        return int(result.rowcount or 0)

    async def all(self) -> list[WorkerRecord]:
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(select(Worker).order_by(Worker.host, Worker.id))).all()
        return [
            WorkerRecord(
                id=r.id, host=r.host, pid=r.pid, device=r.device, presets=tuple(r.presets),
                version=r.version, status=r.status, current_job_id=r.current_job_id,
                started_at=r.started_at, heartbeat_at=r.heartbeat_at, problem=r.problem,
                problem_since=r.problem_since,
            )
            for r in rows
        ]
