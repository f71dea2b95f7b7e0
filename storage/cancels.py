"""Cancelling a job: a waiting one at once (refunded), a rendering one by asking its worker
to stop (the worker records the end)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from storage import outbox, quotas
from storage.context import StoreContext
from storage.db import read_transaction, write_transaction
from storage.errors import JobAlreadyFinished, JobNotFound, NotJobOwner
from storage.job_rows import read_job
from storage.models import Job, JobStatus
from storage.records import JobRecord
from storage.wakeup import EVENTS
from videobot.users import UserRef


class Cancels:
    """Cancels asked by a user, an admin, the shell or the API."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context

    async def request(self, job_id: int, user: UserRef | None) -> JobRecord:
        """Cancel a queued job at once, or ask the worker to stop a running one; the job as
        it is then. `user=None` skips the ownership check (admins and the shell)."""
        now = self.context.clock()
        async with write_transaction(self.context.engine) as conn:
            job = await read_job(conn, job_id, lock=True)
            if job is None:
                raise JobNotFound(job_id)
            if user is not None and job.user.key != user.key:
                raise NotJobOwner(job_id)
            if job.is_final:
                raise JobAlreadyFinished(job_id, job.status)
            if job.status == JobStatus.QUEUED:
                values: dict[str, Any] = {"status": JobStatus.CANCELLED, "finished_at": now,
                                          "cancel_requested": True}
                await quotas.refund(conn, [job_id], now)
            else:
                values = {"cancel_requested": True}
            await conn.execute(update(Job).where(Job.id == job_id).values(**values))
            if job.status == JobStatus.QUEUED:
                await outbox.record_ended(conn, [job_id], now)
        await self.context.signals.notify(EVENTS)
        async with read_transaction(self.context.engine) as conn:
            cancelled = await read_job(conn, job_id)
        if cancelled is None:
            raise JobNotFound(job_id)
        return cancelled
