"""Delivery: the finished jobs a chat has not received yet, the mark that they have (once),
and where each job's replies go (its reply target, merged in the database)."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import JSON, Connection, String, Update, bindparam, cast, func, update
from sqlalchemy.dialects.postgresql import JSONB

from storage.context import StoreContext
from storage.db import read_transaction, run_write, write_transaction
from storage.errors import JobNotFound
from storage.job_rows import job_query, job_record
from storage.models import Job, JobStatus
from storage.records import JobRecord


class Deliveries:
    """What the delivery loop and the adapters read and record."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context

    async def undelivered(self, platforms: Collection[str]) -> list[JobRecord]:
        """Finished jobs whose result has not reached the chat yet, oldest first."""
        query = job_query().where(
            Job.status.in_(JobStatus.FINAL),
            Job.delivered_at.is_(None),
            Job.platform.in_(list(platforms)),
        ).order_by(Job.finished_at, Job.id)
        async with read_transaction(self.context.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [job_record(row) for row in rows]

    async def mark_delivered(self, job_id: int,
                             reply_target: Mapping[str, Any] | None = None) -> bool:
        """Record delivery, with `reply_target` values (the posted message's id) merged into
        the job's, in one short transaction; False when it was already recorded (so nobody
        posts twice)."""
        async with write_transaction(self.context.engine) as conn:
            result = await conn.execute(
                update(Job)
                .where(Job.id == job_id, Job.delivered_at.is_(None),
                       Job.status.in_(JobStatus.FINAL))
                .values(delivered_at=self.context.clock())
            )
            if result.rowcount == 1 and reply_target:
                await conn.execute(_reply_target_merge(conn.dialect.name),
                                   {"job_id": job_id, "patch": json.dumps(dict(reply_target))})
        return result.rowcount == 1

    async def update_reply_target(self, job_id: int, **values: Any) -> None:
        """Merge `values` (numbers and strings) into where the job's replies go (e.g. the id of
        the status message an adapter posted), so that a restarted bot can still edit it. One
        statement: the merge happens in the database."""
        async with write_transaction(self.context.engine) as conn:
            result = await conn.execute(_reply_target_merge(conn.dialect.name),
                                        {"job_id": job_id, "patch": json.dumps(values)})
        if result.rowcount != 1:
            raise JobNotFound(job_id)

    async def update_reply_targets(self, patches: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """`update_reply_target` for many jobs in one transaction and one statement (run for
        each patch, in order); a job that is gone is skipped."""
        if not patches:
            return

        def merge(conn: Connection) -> None:
            conn.execute(_reply_target_merge(conn.dialect.name), [
                {"job_id": job_id, "patch": json.dumps(values)} for job_id, values in patches
            ])

        await run_write(self.context.engine, merge)


@cache
def _reply_target_merge(dialect: str) -> Update:
    """Job `:job_id`'s reply target with the JSON object `:patch` merged in."""
    patch = bindparam("patch", type_=String())
    if dialect == "postgresql":
        merged: Any = cast(cast(Job.reply_target, JSONB).op("||")(cast(patch, JSONB)), JSON)
    else:
        merged = func.json_patch(Job.reply_target, patch)
    return update(Job).where(Job.id == bindparam("job_id")).values(reply_target=merged)
