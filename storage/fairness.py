"""Fair scheduling: the next job goes to the user with the fewest running jobs, then the one
served least recently, then the one of the higher tier priority, then the oldest job. The
claim orders by these keys in SQL; `fair_order` replays the same choice in Python, and queue
positions count it in SQL (`positions_query`, checked against the replay), so that what users
are told matches what the workers do."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, func, literal, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from storage.models import Job, JobStatus, User, UTCDateTime

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


def owner_priority() -> ColumnElement[Any]:
    """The priority of the candidate job's owner's tier (higher goes first)."""
    return select(User.priority).where(User.id == Job.user_id).scalar_subquery()


def claim_order() -> tuple[Any, ...]:
    return (running_of_owner(), owner_last_served(), -owner_priority(), Job.created_at, Job.id)


@dataclass(frozen=True)
class Waiting:
    """A queued job as the scheduler sees it."""

    job_id: int
    user_id: int
    created_at: datetime


def fair_order(waiting: Sequence[Waiting], running: dict[int, int],
               last_served: dict[int, datetime],
               priority: dict[int, int] | None = None) -> list[int]:
    """The ids of `waiting` in the order successive claims would take them, if nothing
    finished meanwhile. `priority`: each user's tier priority (default 0)."""
    priority = priority or {}
    by_user: dict[int, list[Waiting]] = defaultdict(list)
    for job in sorted(waiting, key=lambda j: (j.created_at, j.job_id)):
        by_user[job.user_id].append(job)
    heap = [_key(user, jobs[0], running, last_served, priority, 0)
            for user, jobs in by_user.items()]
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
            heapq.heappush(heap, _key(user, jobs[0], running, last_served, priority, served))
    return order


async def fair_queue(conn: AsyncConnection) -> list[int]:
    """The waiting jobs' ids in the order fair scheduling will claim them (`fair_order` of
    the queue as it is now)."""
    waiting = [
        Waiting(row.id, row.user_id, row.created_at)
        for row in await conn.execute(
            select(Job.id, Job.user_id, Job.created_at)
            .where(Job.status == JobStatus.QUEUED, Job.cancel_requested.is_(False))
        )
    ]
    running = await conn.execute(
        select(Job.user_id, func.count()).where(Job.status == JobStatus.RUNNING)
        .group_by(Job.user_id)
    )
    served = await conn.execute(
        select(Job.user_id, func.max(Job.started_at)).where(Job.started_at.is_not(None))
        .group_by(Job.user_id)
    )
    priority = await conn.execute(
        select(User.id, User.priority).where(User.priority != 0,
                                             User.id.in_({job.user_id for job in waiting}))
    )
    return fair_order(waiting, {u: int(n) for u, n in running},
                      {u: at for u, at in served if at is not None},
                      {u: int(p) for u, p in priority})


def _key(user: int, head: Waiting, running: dict[int, int], last_served: dict[int, datetime],
         priority: dict[int, int], served: int) -> tuple[Any, ...]:
    # A user served in this replay was served after every real start: (1, n) > (0, time).
    served_at = (1, served) if served else (0, last_served.get(user, NEVER))
    return (running.get(user, 0), served_at, -priority.get(user, 0), head.created_at,
            head.job_id, user)


@cache
def positions_query() -> Select[Any]:
    """(job id, queue position) of each waiting job of `:job_ids` (1 for the next claim); a job
    that is not waiting has no row. `fair_order`'s answer, counted in one statement instead of
    replayed: the work of the statement is mostly the whole queue's, so a batch of jobs costs
    about what one does.

    The replay serves in rounds: the `m`-th waiting job (from 0) of a user with `r` jobs
    rendering is served in round `r + m`. Within a round, jobs go by `m`, then by when their
    owner was last served, then by the owner's first waiting job. So the `k`-th waiting job of
    user `u` comes after `k` jobs of `u` and, of each other user `v` with `q` waiting jobs,
    after `min(q, max(0, r_u + k - r_v + t))`, where the tie `t` is 1 when `v`'s job of that
    round goes first: `(-r_v, last served, first job)` sorts before `u`'s.
    """
    turns = select(
        Job.id, Job.user_id, Job.created_at,
        func.row_number().over(partition_by=Job.user_id, order_by=(Job.created_at, Job.id))
        .label("turn"),
        func.count().over(partition_by=Job.user_id).label("waiting"),
    ).where(Job.status == JobStatus.QUEUED, Job.cancel_requested.is_(False)).cte("turns")
    other = aliased(Job)
    heads = select(
        turns.c.user_id, turns.c.waiting, turns.c.created_at, turns.c.id,
        select(func.count()).select_from(other)
        .where(other.user_id == turns.c.user_id, other.status == JobStatus.RUNNING)
        .scalar_subquery().label("running"),
        func.coalesce(
            select(func.max(other.started_at)).where(other.user_id == turns.c.user_id)
            .scalar_subquery(),
            literal(NEVER, UTCDateTime()),
        ).label("served"),
        select(User.priority).where(User.id == turns.c.user_id)
        .scalar_subquery().label("priority"),
    ).where(turns.c.turn == 1).cte("heads")
    me = (
        select(heads, turns.c.id.label("job_id"), (turns.c.turn - 1).label("ahead"))
        .join_from(turns, heads, heads.c.user_id == turns.c.user_id)
        .where(turns.c.id.in_(bindparam("job_ids", expanding=True)))
        .cte("me")
        .prefix_with("MATERIALIZED")  # else SQLite looks the job up again for every user
    )
    # (-r_v, b_v, -p_v, c_v) < (-r_u, b_u, -p_u, c_u) without the minus signs:
    # (r_u, b_v, p_u, c_v) < (r_v, b_u, p_v, c_u).
    goes_first = tuple_(
        me.c.running, heads.c.served, me.c.priority, heads.c.created_at, heads.c.id,
    ) < tuple_(heads.c.running, me.c.served, heads.c.priority, me.c.created_at, me.c.id)
    rounds = me.c.running + me.c.ahead - heads.c.running + case((goes_first, 1), else_=0)
    pairs = (select(me.c.job_id, heads.c.waiting, rounds.label("rounds"))
             .select_from(heads).join(me, true())
             # OFFSET 0 keeps the database from merging this query into the next, which
             # would work out `rounds` three times for every (job, user) pair.
             .offset(0).subquery("pairs"))
    ahead = case((pairs.c.rounds <= 0, 0), (pairs.c.rounds >= pairs.c.waiting, pairs.c.waiting),
                 else_=pairs.c.rounds)
    return (select(pairs.c.job_id, (1 + func.sum(ahead)).label("position"))
            .group_by(pairs.c.job_id))
