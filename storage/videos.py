"""Jobs as the HTTP API sees them, "videos": listed a page at a time behind a cursor, read
with their queue positions, and deleted (cancelled as `/cancel` does, the clip removed,
hidden from then on)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, update

from storage.cancels import Cancels
from storage.context import StoreContext
from storage.db import read_transaction, write_transaction
from storage.errors import JobAlreadyFinished, JobNotFound
from storage.fairness import positions_query
from storage.job_rows import job_query, job_record, read_job
from storage.models import Clip, Job, JobInput, JobKind, JobStatus, User
from storage.records import JobRecord
from videobot.users import UserRef


@dataclass(frozen=True)
class Page:
    """One page of a listing; `has_more` when another follows the last job."""

    jobs: list[JobRecord]
    has_more: bool


class Videos:
    """The API's reads and deletes, beside the job table it shares a context with."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self.engine = context.engine

    async def get(self, job_id: int, owner: UserRef | None) -> JobRecord:
        """A job that is not deleted, of `owner` (None: anyone's); `JobNotFound` otherwise,
        the same for another user's job as for none (its existence is not revealed)."""
        async with read_transaction(self.engine) as conn:
            job = await read_job(conn, job_id)
        if job is None or job.deleted_at is not None or job.describes or (
                owner is not None and job.user.key != owner.key):
            raise JobNotFound(job_id)
        return job

    async def page(self, owner: UserRef | None, *, after: int | None, limit: int,
                   newest_first: bool) -> Page:
        """Up to `limit` jobs of `owner` (None: everyone's) after the job `after` in the
        order asked, deleted ones left out."""
        query = job_query().where(Job.deleted_at.is_(None), Job.kind == JobKind.VIDEO)
        if owner is not None:
            query = query.where(User.platform == owner.platform,
                                User.platform_user_id == owner.platform_user_id)
        if after is not None:
            query = query.where(Job.id < after if newest_first else Job.id > after)
        query = query.order_by(Job.id.desc() if newest_first else Job.id).limit(limit + 1)
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        jobs = [job_record(row) for row in rows]
        return Page(jobs[:limit], len(jobs) > limit)

    async def positions(self, job_ids: Collection[int]) -> dict[int, int]:
        """The queue position of each waiting job of `job_ids` (one statement for all)."""
        if not job_ids:
            return {}
        async with read_transaction(self.engine) as conn:
            rows = await conn.execute(positions_query(), {"job_ids": list(job_ids)})
            return {int(job_id): int(position) for job_id, position in rows}

    async def delete(self, job_id: int, owner: UserRef | None) -> None:
        """Hide the job from the API and remove its clip and input image; then cancel it if it
        is waiting or rendering, as `/cancel` does (a waiting job is refunded). Deleted first,
        so that its end sends no webhook."""
        job = await self.get(job_id, owner)
        now = self.context.clock()
        async with write_transaction(self.engine) as conn:
            # Files only: a clip or image kept in the database has a bare name as its path.
            files = [path for row in await conn.execute(
                select(Clip.video_path, Clip.poster_path).where(
                    Clip.job_id == job_id, Clip.video_data.is_(None))
            ) for path in row]
            files += (await conn.execute(
                select(JobInput.path).where(JobInput.job_id == job_id, JobInput.data.is_(None),
                                            JobInput.size_bytes > 0))).scalars().all()
            await conn.execute(delete(Clip).where(Clip.job_id == job_id))
            await conn.execute(delete(JobInput).where(JobInput.job_id == job_id))
            await conn.execute(update(Job).where(Job.id == job_id).values(deleted_at=now))
        await asyncio.to_thread(_remove, files)
        if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            try:
                await Cancels(self.context).request(job_id, None)
            except JobAlreadyFinished:
                pass  # it ended meanwhile


def _remove(paths: list[str]) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)
