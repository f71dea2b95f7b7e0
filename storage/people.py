"""The users as the dashboard's Users page lists them: each with their credits (counted by
the same rule as `/quota`), tier, ban, and how much they used the bot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, func, or_, select

from storage import quotas
from storage.context import StoreContext
from storage.db import run_read
from storage.models import Ban, Job, QuotaOverride, User
from videobot.users import UserRef


@dataclass(frozen=True)
class BanRecord:
    """Why and by whom a user is banned."""

    reason: str
    banned_by: str
    banned_at: datetime


@dataclass(frozen=True)
class Person:
    """One user: identity, tier, credits, ban and activity."""

    user: UserRef
    username: str
    tier: str
    quota: quotas.QuotaState
    #: An admin gave them an allowance of their own (`/admin quota set`).
    own_allowance: bool
    ban: BanRecord | None
    jobs: int
    last_job_at: datetime | None


class People:
    """Reads users with their figures, beside the job table it shares a context with."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context

    async def listing(self, *, search: str = "", limit: int = 100) -> list[Person]:
        """Users whose `<platform>:<id>`, name or username contains `search` (all when
        empty), those seen most recently first, at most `limit`."""
        read = partial(_people, search=search.strip().lower(), limit=limit,
                       config=self.context.quotas, now=self.context.clock())
        return await run_read(self.context.engine, read)


def _people(conn: Connection, *, search: str, limit: int, config: Any,
            now: datetime) -> list[Person]:
    jobs = (select(Job.user_id, func.count().label("jobs"),
                   func.max(Job.created_at).label("last_job_at"))
            .group_by(Job.user_id).subquery())
    query = (select(User.id, User.platform, User.platform_user_id, User.display_name,
                    User.username, User.tier, Ban.reason, Ban.banned_by, Ban.banned_at,
                    QuotaOverride.user_id.label("override"), jobs.c.jobs, jobs.c.last_job_at)
             .outerjoin(Ban, Ban.user_id == User.id)
             .outerjoin(QuotaOverride, QuotaOverride.user_id == User.id)
             .outerjoin(jobs, jobs.c.user_id == User.id)
             .order_by(func.coalesce(jobs.c.last_job_at, User.created_at).desc(), User.id.desc())
             .limit(limit))
    if search:
        pattern = f"%{search}%"
        key = User.platform + ":" + User.platform_user_id
        query = query.where(or_(func.lower(key).like(pattern),
                                func.lower(User.display_name).like(pattern),
                                User.username.like(pattern)))
    return [_person(conn, row, config, now) for row in conn.execute(query).all()]


def _person(conn: Connection, row: Any, config: Any, now: datetime) -> Person:
    ban = BanRecord(row.reason, row.banned_by, row.banned_at) if row.banned_by else None
    return Person(
        user=UserRef(row.platform, row.platform_user_id, row.display_name),
        username=row.username, tier=row.tier,
        quota=quotas.quota_state(conn, row.id, config, now),
        own_allowance=row.override is not None, ban=ban, jobs=int(row.jobs or 0),
        last_job_at=row.last_job_at)
