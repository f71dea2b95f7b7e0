"""Submitting a job: every limit checked, the credits charged and the job inserted in one
transaction, with the queue position and the credits left for its acknowledgement.

Submissions arriving together share a transaction (SQLite's one writer) and one count of the
queue positions (`GroupCommit`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import Connection, Integer, Select, bindparam, func, insert, literal, select
from sqlalchemy.engine import Row

from storage import outbox, quotas
from storage.context import StoreContext
from storage.db import read_transaction, run_write
from storage.errors import OutOfCredits, QueueFull, TooManyQueued, TooSoon, UserBanned
from storage.fairness import positions_query
from storage.group_commit import GroupCommit
from storage.inputs import StoredInput, insert_input
from storage.job_rows import ACTIVE, job_record
from storage.models import Ban, Job, JobKind, JobStatus, User, UTCDateTime
from storage.records import ApiOrigin, JobRecord
from storage.users import NO_TIER, Tier, identity, upsert_user
from storage.wakeup import JOBS
from videobot.params import RenderRequest
from videobot.users import UserRef


@dataclass(frozen=True)
class Submitted:
    """A job just queued, with what its acknowledgement tells: where it waits (1 for the next
    claim) and the owner's credits left once it is charged."""

    job: JobRecord
    position: int
    credits_left: float


#: A submission's own rows, written in its savepoint: the job, its owner, their credits before.
_Inserted = tuple[Any, Row[Any], quotas.Balance]
#: ... and the job's queue position, counted once for the batch it was committed in.
_Queued = tuple[_Inserted, int]


class Submissions:
    """The bot's way into the queue: limits, charges, the job row."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        # The workers are woken once per commit, however many jobs it queued.
        self._group: GroupCommit[_Inserted, _Queued] = GroupCommit(
            context.engine, _with_positions,
            after_commit=partial(context.signals.notify, JOBS))

    async def enqueue(
        self,
        user: UserRef,
        request: RenderRequest,
        *,
        notes: Sequence[str] = (),
        reply_target: dict[str, Any] | None = None,
        max_queued_per_user: int,
        cost: float = 0.0,
        tier: Tier = NO_TIER,
    ) -> JobRecord:
        """Queue a job for `user`, refusing with `TooManyQueued` in the same transaction."""
        submitted = await self.submit(user, request, notes=notes, reply_target=reply_target,
                                      max_queued_per_user=max_queued_per_user, cost=cost,
                                      tier=tier)
        return submitted.job

    async def submit(
        self,
        user: UserRef,
        request: RenderRequest,
        *,
        notes: Sequence[str] = (),
        reply_target: dict[str, Any] | None = None,
        max_queued_per_user: int,
        cost: float = 0.0,
        tier: Tier | None = NO_TIER,
        api: ApiOrigin | None = None,
        input_image: StoredInput | None = None,
        describes: int | None = None,
        extends: int | None = None,
    ) -> Submitted:
        """`enqueue`, returning with the job its queue position and the credits left, from the
        one transaction (a burst of commands then costs one round of the write lock each, of a
        few statements). The job's `cost` in credits is charged in that transaction; every
        limit is checked there too. The user's `tier` (name, priority) is recorded with it:
        it sets their allowance and their place among users the round-robin serves equally
        (None keeps the one recorded). `api`: the job comes through the HTTP API;
        `input_image`: an image sent with it, recorded with it. `describes`: the job is a
        describe job, captioning that job's clip (`request` is the clip's, for the preset
        whose worker captions it). `extends`: the job whose clip it continues (/extend)."""
        now = self.context.clock()

        def insert_and_charge(conn: Connection) -> _Inserted:
            owner = upsert_user(conn, user, now, tier)
            credits = self._check_limits(conn, owner.id, now, max_queued_per_user, cost)
            row = conn.execute(_INSERT_JOB, {
                **self._job_values(owner.id, user, request, now, api=api),
                "notes": list(notes), "reply_target": reply_target or {},
                "kind": JobKind.VIDEO if describes is None else JobKind.DESCRIBE,
                "source_job_id": describes, "extends_job_id": extends,
            }).mappings().one()
            if cost > 0:
                quotas.charge(conn, job_id=row["id"], user_id=owner.id, credits=cost, now=now)
            if input_image is not None:
                insert_input(conn, row["id"], input_image, now)
            return row, owner, credits

        (row, owner, credits), position = await self._group.run(insert_and_charge)
        job = job_record({**row, "user_platform": user.platform,
                          "platform_user_id": user.platform_user_id,
                          "display_name": owner.display_name, "video_path": None,
                          "cost": cost})
        return Submitted(job, int(position), credits.after(cost).left)

    async def warm_up(self) -> None:
        """Open the writer's connection and compile the submission's statements, so that the
        first `/video` after a start does not pay for them (a burst queues behind it). On
        SQLite the writes run once for a made-up user, in a transaction that is rolled back
        (PostgreSQL would still spend a job number of its sequence on them)."""
        def compile_and_roll_back(conn: Connection) -> None:
            config, now = self.context.quotas, self.context.clock()
            interval, limit = config.min_interval_seconds, config.max_queue_length
            conn.execute(_limits_query(bool(interval), bool(limit)),
                         {"user_id": -1, "since": now}).all()
            conn.execute(positions_query(), {"job_ids": [-1]}).all()
            if conn.dialect.name != "sqlite":
                return
            for tier in (NO_TIER, None):  # a chat's submission records a tier, the API's not
                owner = upsert_user(conn, _WARM_UP_USER, now, tier)
            row = conn.execute(_INSERT_JOB, {
                **self._job_values(owner.id, _WARM_UP_USER, _WARM_UP_REQUEST, now, api=None),
                "notes": [], "reply_target": {}, "kind": JobKind.VIDEO, "source_job_id": None,
                "extends_job_id": None}).mappings().one()
            quotas.charge(conn, job_id=row["id"], user_id=owner.id, credits=1.0, now=now)
            raise _RolledBack

        with contextlib.suppress(_RolledBack):
            await run_write(self.context.engine, compile_and_roll_back)

    async def quota(self, user: UserRef, tier: str | None = None) -> quotas.QuotaState:
        """A user's allowance, usage and when credits come back. `tier`: the name of the tier
        a submission of theirs would count in now ("" for none), which may differ from that
        of their last submission (made in another chat, or before a role changed); None: the
        last submission's."""
        now, config = self.context.clock(), self.context.quotas
        async with read_transaction(self.context.engine) as conn:
            user_id = await conn.scalar(select(User.id).where(*identity(user)))
            if user_id is None:
                default = await conn.run_sync(quotas.default_credits, config)
                credits = quotas.allowance(default, tier or "", config)
                return quotas.QuotaState(credits, 0.0, config.window_hours,
                                         config.daily_reset, None)
            return await conn.run_sync(quotas.quota_state, user_id, config, now, tier=tier)

    def _job_values(self, user_id: int, user: UserRef, request: RenderRequest, now: datetime,
                    *, api: ApiOrigin | None) -> dict[str, Any]:
        """The new job row's columns but those of its kind, notes and reply target."""
        return {
            "user_id": user_id, "platform": outbox.API_FRONT_DOOR if api else user.platform,
            "status": JobStatus.QUEUED, **request.to_dict(), "attempts": 0,
            "max_attempts": self.context.max_attempts, "progress_step": 0,
            "progress_total": request.steps, "cancel_requested": False, "created_at": now,
            "api_key_id": api.api_key_id if api else None,
            "remixed_from_id": api.remixed_from if api else None, "deleted_at": None,
            "result_text": None,
        }

    def _check_limits(self, conn: Connection, user_id: int, now: datetime,
                      max_queued_per_user: int, cost: float) -> quotas.Balance:
        """Refuse a submission that breaks a limit, naming it and when it frees up; else the
        user's credits before this job. One statement reads every limit."""
        config = self.context.quotas
        interval, limit = config.min_interval_seconds, config.max_queue_length
        since = quotas.window_start(config, config.window_hours, now)
        row = conn.execute(_limits_query(bool(interval), bool(limit)),
                           {"user_id": user_id, "since": since}).one()
        if row.ban is not None:
            raise UserBanned(row.ban)
        if row.active >= max_queued_per_user:
            raise TooManyQueued(max_queued_per_user)
        if interval and row.last_created is not None:
            waited = (now - row.last_created).total_seconds()
            if waited < interval:
                raise TooSoon(interval, interval - waited)
        if limit and row.queued >= limit:
            raise QueueFull(limit)
        credits = quotas.balance(conn, row, user_id=user_id, quotas=config, now=now)
        if cost > credits.left + 1e-9:
            state = quotas.quota_state(conn, user_id, config, now, needed=cost)
            raise OutOfCredits(cost, state)
        return credits


_INSERT_JOB = insert(Job).returning(*Job.__table__.c)
#: Whom `warm_up`'s rolled-back submission is for, and what it asks.
_WARM_UP_USER = UserRef("warm-up", "warm-up")
_WARM_UP_REQUEST = RenderRequest(prompt="warm-up", negative_prompt="", frames=1, fps=1,
                                 width=16, height=16, steps=1, guidance=0.0, seed=0,
                                 preset="warm-up")


class _RolledBack(Exception):
    """Ends `warm_up`'s transaction, undoing what it wrote."""


def _with_positions(conn: Connection, inserted: Sequence[_Inserted]) -> list[_Queued]:
    """The queue position of each job just inserted, from one statement for them all: the
    position once the whole batch is in (jobs queued together may go before one another)."""
    rows = conn.execute(positions_query(), {"job_ids": [row["id"] for row, _, _ in inserted]})
    positions = {job_id: int(position) for job_id, position in rows}
    return [(submission, positions[submission[0]["id"]]) for submission in inserted]


#: `ACTIVE` as bound values of their own: a plain list would be an "expanding" parameter,
#: whose statement SQLAlchemy renders again at every execution.
_ACTIVE_STATUSES = [literal(status, Job.status.type) for status in ACTIVE]


@cache
def _limits_query(interval: bool, queue_limit: bool) -> Select[Any]:
    """Every limit a submission of `:user_id` checks, and the credits they spent since
    `:since` (the start of the configured window), in one row."""
    user_id = bindparam("user_id", type_=Integer)
    mine = Job.user_id == user_id
    columns = [
        select(Ban.reason).where(Ban.user_id == user_id).scalar_subquery().label("ban"),
        select(func.count()).select_from(Job).where(mine, Job.status.in_(_ACTIVE_STATUSES))
        .scalar_subquery().label("active"),
        *quotas.balance_columns(user_id, bindparam("since", type_=UTCDateTime())),
    ]
    if interval:
        columns.append(select(func.max(Job.created_at)).where(mine)
                       .scalar_subquery().label("last_created"))
    if queue_limit:
        columns.append(select(func.count()).select_from(Job)
                       .where(Job.status == JobStatus.QUEUED).scalar_subquery().label("queued"))
    return select(*columns)
