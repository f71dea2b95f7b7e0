"""The worker's side of the queue: the atomic claim, the lease kept by heartbeats, and the
finish, every write fenced by (job id, attempt) so that a worker that lost its lease raises
`LeaseLost` instead of overwriting the newer attempt's work. Leases that ran out are ended
here too (failed and refunded once no attempt is left)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import outbox, quotas
from storage.context import StoreContext
from storage.db import write_transaction
from storage.errors import LeaseLost
from storage.fairness import claim_order, running_of_owner
from storage.job_rows import REQUEST_COLUMNS, request_of
from storage.models import Clip, Job, JobKind, JobStatus
from storage.records import ClaimedJob
from storage.settings import is_paused
from storage.wakeup import EVENTS, JOBS
from videobot.media.clip import EncodedClip

#: The reason stored with a job whose every attempt ran out of its lease.
EXHAUSTED_ERROR = (
    "the worker rendering this job stopped before finishing on every attempt, so it was given up"
)


class Leases:
    """Claims, heartbeats and fenced finishes, for the workers."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context

    async def claim_next_job(
        self, worker_id: str, presets: Collection[str] | None = None, *,
        loaded: str | None = None, switch_after: timedelta | None = None,
        describes: Collection[str] | None = (),
    ) -> ClaimedJob | None:
        """Atomically take the next claimable job (queued, or running with an expired lease):
        a video job of `presets` (None: any), or a describe job of `describes` (the presets
        whose clips this worker can caption; None: any; by default none, so that a worker
        without a captioner never takes one). A worker with the preset `loaded` in memory,
        which may load another, passes `switch_after`: the loaded preset's jobs then go
        first, and a job for another preset only once it has waited that long (then it takes
        its turn among them), so that a mixed queue does not make the worker swap models for
        every job."""
        now, lease = self.context.clock(), self.context.lease
        order = claim_order()
        if loaded is not None and switch_after is not None:
            not_yet = and_(Job.kind == JobKind.VIDEO, Job.preset != loaded,
                           Job.created_at > now - switch_after)
            order = (case((not_yet, 1), else_=0), *order)
        candidates = (select(Job.id).where(_claimable(now), _of_kinds(presets, describes))
                      .order_by(*order).limit(1))
        running_limit = self.context.quotas.max_running_per_user
        if running_limit:
            candidates = candidates.where(running_of_owner() < running_limit)
        if self.context.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(of=Job, skip_locked=True)
        next_job = candidates.cte("next_job")
        claim = (
            update(Job)
            .add_cte(next_job)
            .where(Job.id.in_(select(next_job.c.id)))
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                worker_id=worker_id,
                lease_expires_at=now + lease,
                heartbeat_at=now,
                started_at=func.coalesce(Job.started_at, now),
                progress_step=0,
            )
            .returning(Job.id, Job.attempts, Job.kind, Job.source_job_id, Job.extends_job_id,
                       *REQUEST_COLUMNS)
        )
        async with write_transaction(self.context.engine) as conn:
            await self._expire_leases(conn, now)
            paused = await is_paused(conn)
            row = None if paused else (await conn.execute(claim)).mappings().first()
        if row is None:
            return None
        return ClaimedJob(row["id"], row["attempts"], request_of(row), now + lease,
                          kind=row["kind"], source_job_id=row["source_job_id"],
                          extends=row["extends_job_id"])

    async def renew_lease(
        self, job_id: int, attempt: int, *, step: int | None = None, total: int | None = None
    ) -> bool:
        """Heartbeat (and progress): extend the lease. Returns whether a cancel was asked."""
        now = self.context.clock()
        values: dict[str, Any] = {"lease_expires_at": now + self.context.lease,
                                  "heartbeat_at": now}
        if step is not None:
            values["progress_step"] = step
        if total is not None:
            values["progress_total"] = total
        async with write_transaction(self.context.engine) as conn:
            cancel = await conn.scalar(
                _fenced(job_id, attempt).values(**values).returning(Job.cancel_requested)
            )
        if cancel is None:
            raise LeaseLost(job_id, attempt)
        if step is not None:
            await self.context.signals.notify(EVENTS)
        return bool(cancel)

    async def finish_succeeded(self, job_id: int, attempt: int, clip: EncodedClip, *,
                               video_data: bytes | None = None,
                               poster_data: bytes | None = None) -> None:
        """Store the clip (its paths, or its bytes when given) and mark the job succeeded, in
        one fenced transaction: a crash in between leaves neither."""
        now = self.context.clock()
        columns = _clip_columns(clip)
        async with write_transaction(self.context.engine) as conn:
            await self._finish(conn, job_id, attempt, status=JobStatus.SUCCEEDED, now=now,
                               progress_step=Job.progress_total,
                               render_seconds=clip.render_seconds)
            await conn.execute(
                insert(Clip).values(
                    job_id=job_id, attempt=attempt, created_at=now, video_data=video_data,
                    poster_data=poster_data, **columns,
                )
            )
        await self.context.signals.notify(EVENTS)

    async def finish_described(self, job_id: int, attempt: int, text: str) -> None:
        """Keep a describe job's caption and mark it succeeded, in one fenced write."""
        now = self.context.clock()
        async with write_transaction(self.context.engine) as conn:
            await self._finish(conn, job_id, attempt, status=JobStatus.SUCCEEDED, now=now,
                               progress_step=Job.progress_total, result_text=text)
        await self.context.signals.notify(EVENTS)

    async def finish_failed(self, job_id: int, attempt: int, error: str) -> None:
        """Mark the job failed with a message for the user."""
        now = self.context.clock()
        async with write_transaction(self.context.engine) as conn:
            await self._finish(conn, job_id, attempt, status=JobStatus.FAILED, now=now,
                               error=error)
            await quotas.refund(conn, [job_id], now)
        await self.context.signals.notify(EVENTS)

    async def finish_cancelled(self, job_id: int, attempt: int) -> None:
        """Mark a job cancelled mid-render; refunded only if `refund_cancel_mid_render`."""
        now = self.context.clock()
        async with write_transaction(self.context.engine) as conn:
            await self._finish(conn, job_id, attempt, status=JobStatus.CANCELLED, now=now)
            if self.context.quotas.refund_cancel_mid_render:
                await quotas.refund(conn, [job_id], now)
        await self.context.signals.notify(EVENTS)

    async def release(self, job_id: int, attempt: int) -> None:
        """Give a job back to the queue untouched (a worker shutting down); the attempt does
        not count."""
        async with write_transaction(self.context.engine) as conn:
            result = await conn.execute(
                _fenced(job_id, attempt).values(
                    status=JobStatus.QUEUED, attempts=Job.attempts - 1, worker_id=None,
                    lease_expires_at=None, progress_step=0,
                )
            )
        if result.rowcount != 1:
            raise LeaseLost(job_id, attempt)
        await self.context.signals.notify(JOBS)

    async def expire_leases(self) -> int:
        """End the running jobs whose lease ran out and that may not be tried again."""
        async with write_transaction(self.context.engine) as conn:
            return await self._expire_leases(conn, self.context.clock())

    async def _finish(self, conn: AsyncConnection, job_id: int, attempt: int, *, status: str,
                      now: datetime, error: str | None = None, **values: Any) -> None:
        result = await conn.execute(
            _fenced(job_id, attempt).values(
                status=status, finished_at=now, lease_expires_at=None, error=error, **values
            )
        )
        if result.rowcount != 1:
            raise LeaseLost(job_id, attempt)
        await outbox.record_ended(conn, [job_id], now)

    async def _expire_leases(self, conn: AsyncConnection, now: datetime) -> int:
        """End the running jobs whose lease ran out: cancelled ones (a cancel was asked) and
        exhausted ones (no attempt left, failed and refunded)."""
        expired = and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
        cancelled = (await conn.execute(
            update(Job).where(expired, Job.cancel_requested.is_(True))
            .values(status=JobStatus.CANCELLED, finished_at=now, lease_expires_at=None)
            .returning(Job.id)
        )).scalars().all()
        exhausted = (await conn.execute(
            update(Job).where(expired, Job.attempts >= Job.max_attempts)
            .values(status=JobStatus.FAILED, finished_at=now, lease_expires_at=None,
                    error=EXHAUSTED_ERROR)
            .returning(Job.id)
        )).scalars().all()
        refunded = list(exhausted)
        if self.context.quotas.refund_cancel_mid_render:
            refunded += cancelled
        await quotas.refund(conn, refunded, now)
        await outbox.record_ended(conn, [*cancelled, *exhausted], now)
        return len(cancelled) + len(exhausted)


def _claimable(now: datetime) -> Any:
    queued = and_(Job.status == JobStatus.QUEUED, Job.cancel_requested.is_(False))
    lease_expired = and_(
        Job.status == JobStatus.RUNNING,
        Job.lease_expires_at < now,
        Job.attempts < Job.max_attempts,
        Job.cancel_requested.is_(False),
    )
    return or_(queued, lease_expired)


def _of_kinds(presets: Collection[str] | None, describes: Collection[str] | None) -> Any:
    """Video jobs of `presets` and describe jobs of `describes` (None: any preset)."""
    kinds = []
    for kind, names in ((JobKind.VIDEO, presets), (JobKind.DESCRIBE, describes)):
        if names is None:
            kinds.append(Job.kind == kind)
        elif names:
            kinds.append(and_(Job.kind == kind, Job.preset.in_(list(names))))
    return or_(*kinds) if kinds else false()


def _fenced(job_id: int, attempt: int) -> Any:
    return update(Job).where(
        Job.id == job_id, Job.attempts == attempt, Job.status == JobStatus.RUNNING
    )


def _clip_columns(clip: EncodedClip) -> dict[str, Any]:
    """The clip's row: its paths as text (a clip in the database has its files' names)."""
    return {"video_path": str(clip.video_path), "poster_path": str(clip.poster_path),
            "width": clip.width, "height": clip.height, "frames": clip.frames, "fps": clip.fps,
            "duration_s": clip.duration_s, "size_bytes": clip.size_bytes,
            "render_seconds": clip.render_seconds}
