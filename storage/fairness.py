"""Fair scheduling: the next job goes to the user with the fewest running jobs, then the one
served least recently, then the oldest job. The claim orders by these keys in SQL; queue
positions replay the same choice in Python, so that what users are told matches what the
workers do."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Job, JobStatus, UTCDateTime

NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def running_of_owner() -> ColumnElement[Any]:
    """The number of jobs the candidate job's owner has rendering now."""
    other = aliased(Job)
    return (
        select(func.count()).select_from(other)
        .where(other.user_id == Job.user_id, other.status == JobStatus.RUNNING)
        .scalar_subquery()
    )


def owner_last_served() -> ColumnElement[Any]:
    """When the candidate job's owner last had a job start (never: the epoch)."""
    other = aliased(Job)
    return func.coalesce(
        select(func.max(other.started_at)).where(other.user_id == Job.user_id)
        .scalar_subquery(),
        literal(NEVER, UTCDateTime()),
    )


def claim_order() -> tuple[Any, ...]:
    return (running_of_owner(), owner_last_served(), Job.created_at, Job.id)


@dataclass(frozen=True)
class Waiting:
    """A queued job as the scheduler sees it."""

    job_id: int
    user_id: int
    created_at: datetime


def fair_order(waiting: Sequence[Waiting], running: dict[int, int],
               last_served: dict[int, datetime]) -> list[int]:
    """The ids of `waiting` in the order successive claims would take them, if nothing
    finished meanwhile."""
    by_user: dict[int, list[Waiting]] = defaultdict(list)
    for job in sorted(waiting, key=lambda j: (j.created_at, j.job_id)):
        by_user[job.user_id].append(job)
    heap = [_key(user, jobs[0], running, last_served, 0) for user, jobs in by_user.items()]
    heapq.heapify(heap)
    order: list[int] = []
    served = 0
    while heap:
        *_rest, user = heapq.heappop(heap)
        jobs = by_user[user]
        order.append(jobs.pop(0).job_id)
        running[user] = running.get(user, 0) + 1
        served += 1
        if jobs:
            heapq.heappush(heap, _key(user, jobs[0], running, last_served, served))
    return order


def _key(user: int, head: Waiting, running: dict[int, int],
         last_served: dict[int, datetime], served: int) -> tuple[Any, ...]:
    # A user served in this replay was served after every real start: (1, n) > (0, time).
    served_at = (1, served) if served else (0, last_served.get(user, NEVER))
    return (running.get(user, 0), served_at, head.created_at, head.job_id, user)
