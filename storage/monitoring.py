"""What `GET /metrics` reports, read from the database at each scrape (every process's work
is there, whichever host it ran on): jobs by state, the queue's length, render seconds by
preset as histogram buckets, live workers, the webhook backlog, credits charged and refunded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, case, func, select

from storage.context import StoreContext
from storage.db import run_read
from storage.models import Charge, Job, JobStatus, WebhookEvent, Worker
from storage.workers import WorkerRegistry

#: The upper bounds (seconds) of the render histogram's buckets; +Inf follows.
RENDER_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


@dataclass(frozen=True)
class RenderHistogram:
    """Render seconds of one preset's clips: cumulative counts per bound of
    `RENDER_BUCKETS` (then all of them), and their sum."""

    buckets: tuple[int, ...]
    count: int
    total_seconds: float


@dataclass(frozen=True)
class MetricsSnapshot:
    """The figures of one scrape."""

    jobs_by_status: dict[str, int]
    queue_length: int
    renders: dict[str, RenderHistogram]
    workers_alive: int
    webhook_backlog: int
    credits_charged: float
    credits_refunded: float


async def metrics_snapshot(context: StoreContext, *, alive_since: datetime) -> MetricsSnapshot:
    """Every figure, read in one transaction. `alive_since`: a worker heard of since then,
    and not signed off, counts as alive."""

    def read(conn: Connection) -> MetricsSnapshot:
        statuses = dict(conn.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        queued = conn.scalar(select(func.count()).select_from(Job).where(
            Job.status == JobStatus.QUEUED, Job.cancel_requested.is_(False)))
        alive = conn.scalar(select(func.count()).select_from(Worker).where(
            Worker.heartbeat_at >= alive_since,
            Worker.status.not_in(WorkerRegistry.GONE_STATUSES)))
        backlog = conn.scalar(select(func.count()).select_from(WebhookEvent).where(
            WebhookEvent.next_attempt_at.is_not(None)))
        charged, refunded = conn.execute(select(
            func.coalesce(func.sum(Charge.credits), 0.0),
            func.coalesce(func.sum(case((Charge.refunded_at.is_not(None), Charge.credits),
                                        else_=0.0)), 0.0))).one()
        return MetricsSnapshot(
            jobs_by_status={status: int(statuses.get(status, 0)) for status in JobStatus.ALL},
            queue_length=int(queued or 0), renders=_renders(conn),
            workers_alive=int(alive or 0), webhook_backlog=int(backlog or 0),
            credits_charged=round(float(charged), 4), credits_refunded=round(float(refunded), 4))

    return await run_read(context.engine, read)


def _renders(conn: Connection) -> dict[str, RenderHistogram]:
    """One statement: per preset, how many clips took at most each bound, the count, the sum."""
    seconds = Job.render_seconds
    columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in RENDER_BUCKETS]
    rows = conn.execute(
        select(Job.preset, func.count(), func.sum(seconds), *columns)
        .where(seconds.is_not(None)).group_by(Job.preset).order_by(Job.preset)).all()
    return {row[0]: RenderHistogram(tuple(int(n or 0) for n in row[3:]), int(row[1]),
                                    float(row[2] or 0.0)) for row in rows}
