"""The statistics over time that the dashboard charts, read from the job table: jobs per hour
by outcome, the wait in the queue, render seconds per clip by preset, and what failed."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from storage.context import StoreContext
from storage.db import read_transaction
from storage.models import Job, JobStatus

#: The outcomes a finished job is counted under, in the order the charts stack them.
OUTCOMES = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)
TOP_FAILURES = 8


@dataclass(frozen=True)
class Spread:
    """How long something took across jobs: how many, the median and the 90th percentile."""

    count: int
    median: float
    p90: float


@dataclass(frozen=True)
class JobSeries:
    """A period cut into equal buckets (`start`, `start + bucket`, ...)."""

    start: datetime
    bucket: timedelta
    #: Per outcome, the jobs that finished in each bucket.
    outcomes: dict[str, list[int]]
    #: The median wait in the queue (seconds) of the jobs that started in each bucket.
    waits: list[float | None]
    #: Render seconds per clip, by preset, over the whole period.
    renders: dict[str, Spread]
    #: The commonest reasons of failed jobs over the period, with how many each.
    failures: list[tuple[str, int]]

    @property
    def buckets(self) -> int:
        """How many buckets the period has."""
        return len(self.waits)


class StatsSeries:
    """Reads the series, beside the job table it shares a context with."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self.engine = context.engine

    async def jobs(self, *, period: timedelta, bucket: timedelta) -> JobSeries:
        """The series of the `period` up to now, in buckets of `bucket`."""
        now = self.context.clock()
        count = max(1, round(period / bucket))
        start = now - bucket * count
        query = select(Job.status, Job.preset, Job.error, Job.created_at, Job.started_at,
                       Job.finished_at, Job.render_seconds).where(
            or_(Job.finished_at >= start, Job.started_at >= start))
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(query)).all()
        return _series(rows, start, bucket, count)

    async def typical_seconds(self, since: datetime) -> dict[str, float]:
        """By preset, the median time a worker spent on a job that succeeded since `since`,
        from its claim to its stored clip: what the next job of that preset may take."""
        query = select(Job.preset, Job.started_at, Job.finished_at).where(
            Job.status == JobStatus.SUCCEEDED, Job.finished_at >= since,
            Job.started_at.is_not(None))
        async with read_transaction(self.engine) as conn:
            rows: Sequence[Any] = (await conn.execute(query)).all()
        spent: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            spent[row.preset].append((row.finished_at - row.started_at).total_seconds())
        return {preset: statistics.median(values) for preset, values in spent.items()}


def _series(rows: Sequence[Any], start: datetime, bucket: timedelta, count: int) -> JobSeries:
    def index(moment: datetime | None) -> int | None:
        if moment is None or moment < start:
            return None
        return min(count - 1, int((moment - start) / bucket))

    outcomes = {outcome: [0] * count for outcome in OUTCOMES}
    waits: list[list[float]] = [[] for _ in range(count)]
    renders: dict[str, list[float]] = defaultdict(list)
    failures: Counter[str] = Counter()
    for row in rows:
        finished = index(row.finished_at)
        if finished is not None and row.status in outcomes:
            outcomes[row.status][finished] += 1
            if row.render_seconds is not None:
                renders[row.preset].append(row.render_seconds)
            if row.status == JobStatus.FAILED:
                failures[row.error or "no reason was recorded"] += 1
        started = index(row.started_at)
        if started is not None:
            waits[started].append((row.started_at - row.created_at).total_seconds())
    return JobSeries(
        start=start, bucket=bucket, outcomes=outcomes,
        waits=[statistics.median(values) if values else None for values in waits],
        renders={preset: spread(values) for preset, values in sorted(renders.items())},
        failures=failures.most_common(TOP_FAILURES),
    )


def spread(values: Sequence[float]) -> Spread:
    """The count, median and 90th percentile (nearest rank) of `values` (not empty)."""
    ordered = sorted(values)
    rank = max(0, -(-9 * len(ordered) // 10) - 1)
    return Spread(len(ordered), statistics.median(ordered), ordered[rank])
