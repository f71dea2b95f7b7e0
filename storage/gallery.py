"""Finished jobs as the dashboard's gallery shows them: newest first, a page at a time,
filtered by user, preset and outcome; deleted jobs left out, as the API leaves them out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, select

from storage.context import StoreContext
from storage.db import read_transaction
from storage.job_rows import job_query, job_record
from storage.models import Job, JobKind, JobStatus, User
from storage.videos import Page
from videobot.users import UserRef

_Select = TypeVar("_Select", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class GalleryFilter:
    """What the gallery is narrowed to; empty fields do not narrow it."""

    user: UserRef | None = None
    preset: str = ""
    #: One of `JobStatus.FINAL`, or "" for every finished job.
    status: str = ""


@dataclass(frozen=True)
class GalleryChoices:
    """The values the filters offer: who and which presets have finished jobs to show."""

    users: list[UserRef]
    presets: list[str]


class Gallery:
    """The gallery's reads, beside the job table it shares a context with."""

    def __init__(self, context: StoreContext) -> None:
        self.engine = context.engine

    async def page(self, owner: UserRef | None, chosen: GalleryFilter, *,
                   before: int | None = None, limit: int = 24) -> Page:
        """Up to `limit` finished jobs of `owner` (None: everyone's) older than job
        `before`, newest first, narrowed by `chosen`."""
        query = _finished(job_query(), owner)
        if chosen.user is not None:
            query = query.where(*_identity(chosen.user))
        if chosen.preset:
            query = query.where(Job.preset == chosen.preset)
        if chosen.status:
            query = query.where(Job.status == chosen.status)
        if before is not None:
            query = query.where(Job.id < before)
        query = query.order_by(Job.id.desc()).limit(limit + 1)
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        jobs = [job_record(row) for row in rows]
        return Page(jobs[:limit], len(jobs) > limit)

    async def choices(self, owner: UserRef | None) -> GalleryChoices:
        """The users and presets of the finished jobs `owner` may see."""
        users = (select(User.platform, User.platform_user_id).distinct()
                 .select_from(Job).join(User, User.id == Job.user_id))
        presets = select(Job.preset).distinct().join(User, User.id == Job.user_id)
        async with read_transaction(self.engine) as conn:
            found = [UserRef(row.platform, row.platform_user_id) for row in await conn.execute(
                _finished(users, owner).order_by(User.platform, User.platform_user_id))]
            names = [str(name) for name in (await conn.execute(
                _finished(presets, owner).order_by(Job.preset))).scalars()]
        return GalleryChoices(found, names)


def _finished(query: _Select, owner: UserRef | None) -> _Select:
    query = query.where(Job.status.in_(JobStatus.FINAL), Job.deleted_at.is_(None),
                        Job.kind == JobKind.VIDEO)
    return query.where(*_identity(owner)) if owner is not None else query


def _identity(user: UserRef) -> tuple[Any, ...]:
    return (User.platform == user.platform, User.platform_user_id == user.platform_user_id)
