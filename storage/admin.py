"""What admins change and read: per-user quotas, bans, the queue's pause, the audit log and
the statistics. Every change writes its audit row in the same transaction."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import outbox, quotas
from storage.cancels import Cancels
from storage.context import StoreContext
from storage.db import read_transaction, upsert, write_transaction
from storage.models import (
    AuditEntry,
    Ban,
    Charge,
    Clip,
    Job,
    JobStatus,
    QuotaOverride,
    User,
    Worker,
)
from storage.settings import DEFAULT_CREDITS, PAUSED, is_paused, put_setting
from storage.users import ensure_user
from storage.wakeup import EVENTS, JOBS
from storage.workers import WorkerRegistry
from videobot.users import UserRef


@dataclass(frozen=True)
class AuditRecord:
    """One audit row: who did what to whom, when."""

    at: datetime
    actor: str
    action: str
    target: str
    detail: str
    id: int = 0


@dataclass(frozen=True)
class AuditFilter:
    """What an audit listing is narrowed to: an exact action, and words found in the actor,
    the target and anywhere (detail included); empty fields do not narrow it."""

    action: str = ""
    actor: str = ""
    target: str = ""
    text: str = ""

    def conditions(self) -> list[Any]:
        """The WHERE conditions of the filter."""
        found: list[Any] = [AuditEntry.action == self.action] if self.action else []
        for column, words in ((AuditEntry.actor, self.actor), (AuditEntry.target, self.target)):
            if words:
                found.append(func.lower(column).contains(words.lower(), autoescape=True))
        if self.text:
            found.append(or_(*(func.lower(column).contains(self.text.lower(), autoescape=True)
                               for column in (AuditEntry.actor, AuditEntry.action,
                                              AuditEntry.target, AuditEntry.detail))))
        return found


@dataclass(frozen=True)
class Stats:
    """The queue's numbers since a moment."""

    by_status: dict[str, int]
    credits: float
    gpu_seconds: float
    top_users: list[tuple[str, float]]
    failure_rate: float | None
    median_wait_s: float | None
    median_render_s: float | None
    #: (worker id, problem, since) of each live worker that something keeps from serving.
    worker_problems: list[tuple[str, str, datetime]] = field(default_factory=list)


class AdminStore:
    """The admin side of the database, beside the job table it shares a context with."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self.engine = context.engine

    async def set_quota(self, actor: str, user: UserRef, credits: float,
                        window_hours: float | None) -> None:
        now = self.context.clock()
        async with write_transaction(self.engine) as conn:
            user_id = await ensure_user(conn, user, now)
            values = {"credits": credits, "window_hours": window_hours, "set_at": now}
            await upsert(conn, QuotaOverride, {"user_id": user_id}, values)
            window = f" per {window_hours:g} h" if window_hours else ""
            await record(conn, actor, "quota set", user.key, f"{credits:g} credits{window}", now)

    async def reset_quota(self, actor: str, user: UserRef) -> None:
        """Drop a user's override: the default allowance applies again."""
        now = self.context.clock()
        async with write_transaction(self.engine) as conn:
            user_id = await ensure_user(conn, user, now)
            await conn.execute(delete(QuotaOverride).where(QuotaOverride.user_id == user_id))
            await record(conn, actor, "quota reset", user.key, "", now)

    async def set_default_quota(self, actor: str, credits: float) -> None:
        now = self.context.clock()
        async with write_transaction(self.engine) as conn:
            await put_setting(conn, DEFAULT_CREDITS, repr(float(credits)))
            await record(conn, actor, "quota default", "", f"{credits:g} credits", now)

    async def ban(self, actor: str, user: UserRef, reason: str) -> int:
        """Ban `user`, cancelling and refunding their queued jobs; returns how many."""
        now = self.context.clock()
        async with write_transaction(self.engine) as conn:
            user_id = await ensure_user(conn, user, now)
            values = {"reason": reason, "banned_by": actor, "banned_at": now}
            await upsert(conn, Ban, {"user_id": user_id}, values)
            cancelled = (await conn.execute(
                update(Job).where(Job.user_id == user_id, Job.status == JobStatus.QUEUED)
                .values(status=JobStatus.CANCELLED, finished_at=now, cancel_requested=True)
                .returning(Job.id)
            )).scalars().all()
            await quotas.refund(conn, cancelled, now)
            await outbox.record_ended(conn, cancelled, now)
            await record(conn, actor, "ban", user.key, reason, now)
        await self.context.signals.notify(EVENTS)
        return len(cancelled)

    async def unban(self, actor: str, user: UserRef) -> bool:
        """Lift a ban; False when the user was not banned."""
        now = self.context.clock()
        async with write_transaction(self.engine) as conn:
            user_id = await ensure_user(conn, user, now)
            result = await conn.execute(delete(Ban).where(Ban.user_id == user_id))
            await record(conn, actor, "unban", user.key, "", now)
        return bool(result.rowcount)

    async def set_paused(self, actor: str, paused: bool) -> None:
        """Stop or restart claiming; running jobs are not touched."""
        now = self.context.clock()
        async with write_transaction(self.engine) as conn:
            await put_setting(conn, PAUSED, "1" if paused else "0")
            await record(conn, actor, "pause" if paused else "resume", "", "", now)
        if not paused:
            await self.context.signals.notify(JOBS)

    async def cancel(self, actor: str, job_id: int) -> None:
        """Cancel any job (refunded if it had not started)."""
        job = await Cancels(self.context).request(job_id, None)
        async with write_transaction(self.engine) as conn:
            await record(conn, actor, "cancel", job.user.key, f"job #{job_id}",
                         self.context.clock())

    async def record(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        """Write one audit row on its own (e.g. a refused prompt)."""
        async with write_transaction(self.engine) as conn:
            await record(conn, actor, action, target, detail, self.context.clock())

    async def paused(self) -> bool:
        async with read_transaction(self.engine) as conn:
            return await is_paused(conn)

    async def audit(self, limit: int = 20, *, chosen: AuditFilter | None = None,
                    before: int | None = None) -> list[AuditRecord]:
        """The newest audit rows first; `chosen` narrows them, `before` (a row id) pages."""
        query = select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.target,
                       AuditEntry.detail, AuditEntry.id)
        if chosen is not None:
            query = query.where(*chosen.conditions())
        if before is not None:
            query = query.where(AuditEntry.id < before)
        async with read_transaction(self.engine) as conn:
            rows = await conn.execute(query.order_by(AuditEntry.id.desc()).limit(limit))
            return [AuditRecord(*row) for row in rows]

    async def audit_actions(self) -> list[str]:
        """Every action the audit log holds, for a filter to offer."""
        async with read_transaction(self.engine) as conn:
            query = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
            return list((await conn.execute(query)).scalars())

    async def stats(self, since: datetime) -> Stats:
        async with read_transaction(self.engine) as conn:
            jobs = (await conn.execute(
                select(Job.status, Job.created_at, Job.started_at, Job.finished_at,
                       Clip.render_seconds, Charge.credits, Charge.refunded_at,
                       User.platform, User.platform_user_id)
                .join(User, User.id == Job.user_id)
                .outerjoin(Clip, Clip.job_id == Job.id)
                .outerjoin(Charge, Charge.job_id == Job.id)
                .where(Job.created_at >= since)
            )).all()
            credits = await quotas.spent_since(conn, since)
            problems = await _worker_problems(conn, self.context.clock() - 2 * self.context.lease)
        return replace(_stats(jobs, credits), worker_problems=problems)


async def record(conn: AsyncConnection, actor: str, action: str, target: str, detail: str,
                 now: datetime) -> None:
    """Add one audit row inside the caller's transaction."""
    await conn.execute(insert(AuditEntry).values(at=now, actor=actor, action=action,
                                                 target=target, detail=detail))


async def _worker_problems(conn: AsyncConnection,
                           heard_since: datetime) -> list[tuple[str, str, datetime]]:
    """The problems of the workers still running (heard of since `heard_since`)."""
    rows = await conn.execute(
        select(Worker.id, Worker.problem, Worker.problem_since)
        .where(Worker.problem != "", Worker.status.not_in(WorkerRegistry.GONE_STATUSES),
               Worker.heartbeat_at >= heard_since)
        .order_by(Worker.id)
    )
    return [(row.id, row.problem, row.problem_since or heard_since) for row in rows]


def _stats(jobs: Sequence[Any], credits: float) -> Stats:
    by_status = Counter(job.status for job in jobs)
    spent: Counter[str] = Counter()
    for job in jobs:
        if job.credits and job.refunded_at is None:
            spent[f"{job.platform}:{job.platform_user_id}"] += job.credits
    waits = [(j.started_at - j.created_at).total_seconds() for j in jobs if j.started_at]
    renders = [j.render_seconds for j in jobs if j.render_seconds is not None]
    ended = by_status[JobStatus.SUCCEEDED] + by_status[JobStatus.FAILED]
    return Stats(
        by_status=dict(by_status),
        credits=credits,
        gpu_seconds=round(sum(renders), 1),
        top_users=[(user, round(c, 2)) for user, c in spent.most_common(5)],
        failure_rate=by_status[JobStatus.FAILED] / ended if ended else None,
        median_wait_s=statistics.median(waits) if waits else None,
        median_render_s=statistics.median(renders) if renders else None,
    )
