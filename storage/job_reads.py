"""Reading jobs: one by id, a user's newest, the active queue in its fair order, queue
positions, and a clip's bytes when they travel in the database."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, select

from storage.context import StoreContext
from storage.db import read_transaction
from storage.errors import JobNotFound
from storage.fairness import fair_queue, positions_query
from storage.job_rows import ACTIVE, job_query, job_record, read_job
from storage.models import Clip, Job, JobStatus
from storage.records import JobRecord
from storage.users import identity
from videobot.users import UserRef


class JobReads:
    """The job table's reads, for the bot, the API and the shell."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context

    async def get(self, job_id: int) -> JobRecord | None:
        async with read_transaction(self.context.engine) as conn:
            return await read_job(conn, job_id)

    async def require(self, job_id: int) -> JobRecord:
        """`get`, raising `JobNotFound` when there is no such job."""
        job = await self.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    async def jobs_of(self, user: UserRef, *, active_only: bool = False, limit: int = 10,
                      kind: str | None = None) -> list[JobRecord]:
        """A user's newest jobs first (of `kind` only, when given)."""
        query = job_query().where(*identity(user))
        if active_only:
            query = query.where(Job.status.in_(ACTIVE))
        if kind is not None:
            query = query.where(Job.kind == kind)
        return await self._records(query.order_by(Job.id.desc()).limit(limit))

    async def active_jobs(self, platforms: Collection[str] | None = None) -> list[JobRecord]:
        """Queued and running jobs in queue order: running first, then the waiting jobs in the
        order fair scheduling will claim them."""
        query = job_query().where(Job.status.in_(ACTIVE))
        if platforms is not None:
            query = query.where(Job.platform.in_(list(platforms)))
        async with read_transaction(self.context.engine) as conn:
            rows = (await conn.execute(query.order_by(Job.started_at, Job.id))).mappings().all()
            order = {job_id: index for index, job_id in enumerate(await fair_queue(conn))}
        records = [job_record(row) for row in rows]
        running = [job for job in records if job.status == JobStatus.RUNNING]
        waiting = [job for job in records if job.status == JobStatus.QUEUED]
        return running + sorted(waiting, key=lambda job: order.get(job.id, len(order)))

    async def queue_position(self, job_id: int) -> int | None:
        """1 for the next job to be claimed; None when the job is not waiting."""
        async with read_transaction(self.context.engine) as conn:
            rows = (await conn.execute(positions_query(), {"job_ids": [job_id]})).all()
        return int(rows[0].position) if rows else None

    async def clip_data(self, job_id: int) -> tuple[bytes, bytes] | None:
        """The MP4 and poster bytes of a clip stored in the database, else None."""
        async with read_transaction(self.context.engine) as conn:
            row = (
                await conn.execute(
                    select(Clip.video_data, Clip.poster_data).where(Clip.job_id == job_id)
                )
            ).first()
        if row is None or row.video_data is None or row.poster_data is None:
            return None
        return bytes(row.video_data), bytes(row.poster_data)

    async def _records(self, query: Select[Any]) -> list[JobRecord]:
        async with read_transaction(self.context.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [job_record(row) for row in rows]
