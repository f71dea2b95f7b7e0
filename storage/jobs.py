"""The job store: every SQL statement of the job lifecycle.

queued -> running -> succeeded | failed | cancelled, then delivered. A claim is one atomic
statement; every write a worker makes afterwards is fenced by (job id, attempt) and raises
`LeaseLost` when a newer attempt owns the job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import outbox, quotas
from storage.db import insert_of, read_transaction, run_write, write_transaction
from storage.errors import (
    JobAlreadyFinished,
    JobNotFound,
    LeaseLost,
    NotJobOwner,
    OutOfCredits,
    QueueFull,
    TooManyQueued,
    TooSoon,
    UserBanned,
)
from storage.fairness import (
    Waiting,
    claim_order,
    fair_order,
    positions_query,
    running_of_owner,
)
from storage.group_commit import GroupCommit
from storage.inputs import StoredInput, insert_input
from storage.models import Ban, Charge, Clip, Job, JobStatus, User, UTCDateTime
from storage.records import ApiOrigin, ClaimedJob, JobRecord
from storage.settings import is_paused
from storage.wakeup import EVENTS, JOBS, Signals
from videobot.config import QuotasConfig
from videobot.media.clip import EncodedClip
from videobot.params import RenderRequest
from videobot.users import UserRef

Clock = Callable[[], datetime]

EXHAUSTED_ERROR = (
    "the worker rendering this job stopped before finishing on every attempt, so it was given up"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


#: A quota tier as the job store records it: (name, priority); ("", 0) for none.
Tier = tuple[str, int]
NO_TIER: Tier = ("", 0)


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


def _with_positions(conn: Connection, inserted: Sequence[_Inserted]) -> list[_Queued]:
    """The queue position of each job just inserted, from one statement for them all: the
    position once the whole batch is in (jobs queued together may go before one another)."""
    rows = conn.execute(positions_query(), {"job_ids": [row["id"] for row, _, _ in inserted]})
    positions = {job_id: int(position) for job_id, position in rows}
    return [(submission, positions[submission[0]["id"]]) for submission in inserted]


class JobStore:
    """The job table, for the bot (enqueue, cancel, deliver) and the workers (claim, lease,
    finish)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        lease_seconds: float,
        max_attempts: int,
        clock: Clock = utcnow,
        quota_config: QuotasConfig | None = None,
    ) -> None:
        self.engine = engine
        self.quotas = quota_config or QuotasConfig()
        self.signals = Signals(engine)
        #: Submissions arriving together share a transaction (SQLite's one writer), and one
        #: count of the queue positions.
        self._submissions: GroupCommit[_Inserted, _Queued] = GroupCommit(engine, _with_positions)
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.clock = clock

    # -- the bot's side ---------------------------------------------------------------------

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
    ) -> Submitted:
        """`enqueue`, returning with the job its queue position and the credits left, from the
        one transaction (a burst of commands then costs one round of the write lock each, of a
        few statements). The job's `cost` in credits is charged in that transaction; every
        limit is checked there too. The user's `tier` (name, priority) is recorded with it:
        it sets their allowance and their place among users the round-robin serves equally
        (None keeps the one recorded). `api`: the job comes through the HTTP API;
        `input_image`: an image sent with it, recorded with it."""
        now = self.clock()

        def insert_and_charge(conn: Connection) -> _Inserted:
            owner = _upsert_user(conn, user, now, tier)
            credits = self._check_limits(conn, owner.id, now, max_queued_per_user, cost)
            row = conn.execute(_INSERT_JOB, {
                "user_id": owner.id, "platform": outbox.API_FRONT_DOOR if api else user.platform,
                "status": JobStatus.QUEUED, **request.to_dict(), "notes": list(notes),
                "reply_target": reply_target or {}, "attempts": 0,
                "max_attempts": self.max_attempts, "progress_step": 0,
                "progress_total": request.steps, "cancel_requested": False, "created_at": now,
                "api_key_id": api.api_key_id if api else None,
                "remixed_from_id": api.remixed_from if api else None, "deleted_at": None,
            }).mappings().one()
            if cost > 0:
                quotas.charge(conn, job_id=row["id"], user_id=owner.id, credits=cost, now=now)
            if input_image is not None:
                insert_input(conn, row["id"], input_image, now)
            return row, owner, credits

        (row, owner, credits), position = await self._submissions.run(insert_and_charge)
        await self.signals.notify(JOBS)
        job = _record({**row, "user_platform": user.platform,
                       "platform_user_id": user.platform_user_id,
                       "display_name": owner.display_name, "video_path": None, "cost": cost})
        return Submitted(job, int(position), credits.after(cost).left)

    async def warm_up(self) -> None:
        """Open the writer's connection and compile the submission's queries, so that the
        first `/video` after a start does not pay for them (a burst queues behind it)."""
        def read(conn: Connection) -> None:
            interval, limit = self.quotas.min_interval_seconds, self.quotas.max_queue_length
            conn.execute(_limits_query(bool(interval), bool(limit)),
                         {"user_id": -1, "since": self.clock()}).all()
            conn.execute(positions_query(), {"job_ids": [-1]}).all()

        await run_write(self.engine, read)

    def _check_limits(self, conn: Connection, user_id: int, now: datetime,
                      max_queued_per_user: int, cost: float) -> quotas.Balance:
        """Refuse a submission that breaks a limit, naming it and when it frees up; else the
        user's credits before this job. One statement reads every limit."""
        interval, limit = self.quotas.min_interval_seconds, self.quotas.max_queue_length
        since = quotas.window_start(self.quotas, self.quotas.window_hours, now)
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
        credits = quotas.balance(conn, row, user_id=user_id, quotas=self.quotas, now=now)
        if cost > credits.left + 1e-9:
            state = quotas.quota_state(conn, user_id, self.quotas, now, needed=cost)
            raise OutOfCredits(_out_of_credits(cost, state))
        return credits

    async def quota(self, user: UserRef, tier: str | None = None) -> quotas.QuotaState:
        """A user's allowance, usage and when credits come back. `tier`: the name of the tier
        a submission of theirs would count in now ("" for none), which may differ from that
        of their last submission (made in another chat, or before a role changed); None: the
        last submission's."""
        now = self.clock()
        async with read_transaction(self.engine) as conn:
            user_id = await conn.scalar(select(User.id).where(*_identity(user)))
            if user_id is None:
                default = await conn.run_sync(quotas.default_credits, self.quotas)
                credits = quotas.allowance(default, tier or "", self.quotas)
                return quotas.QuotaState(credits, 0.0, self.quotas.window_hours,
                                         self.quotas.daily_reset, None)
            return await conn.run_sync(quotas.quota_state, user_id, self.quotas, now,
                                       tier=tier)

    async def get(self, job_id: int) -> JobRecord | None:
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(_job_query().where(Job.id == job_id))).mappings().all()
        return _record(rows[0]) if rows else None

    async def require(self, job_id: int) -> JobRecord:
        job = await self.get(job_id)
        if job is None:
            raise JobNotFound(f"there is no job #{job_id}")
        return job

    async def jobs_of(self, user: UserRef, *, active_only: bool = False,
                      limit: int = 10) -> list[JobRecord]:
        """A user's newest jobs first."""
        query = _job_query().where(
            User.platform == user.platform, User.platform_user_id == user.platform_user_id
        )
        if active_only:
            query = query.where(Job.status.in_(_ACTIVE))
        return await self._records(query.order_by(Job.id.desc()).limit(limit))

    async def active_jobs(self, platforms: Collection[str] | None = None) -> list[JobRecord]:
        """Queued and running jobs in queue order: running first, then the waiting jobs in the
        order fair scheduling will claim them."""
        query = _job_query().where(Job.status.in_(_ACTIVE))
        if platforms is not None:
            query = query.where(Job.platform.in_(list(platforms)))
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(query.order_by(Job.started_at, Job.id))).mappings().all()
            order = {job_id: index for index, job_id in enumerate(await _fair_queue(conn))}
        records = [_record(row) for row in rows]
        running = [job for job in records if job.status == JobStatus.RUNNING]
        waiting = [job for job in records if job.status == JobStatus.QUEUED]
        return running + sorted(waiting, key=lambda job: order.get(job.id, len(order)))

    async def queue_position(self, job_id: int) -> int | None:
        """1 for the next job to be claimed; None when the job is not waiting."""
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(positions_query(), {"job_ids": [job_id]})).all()
        return int(rows[0].position) if rows else None

    async def request_cancel(self, job_id: int, user: UserRef | None) -> JobRecord:
        """Cancel a queued job at once, or ask the worker to stop a running one. `user=None`
        skips the ownership check (admins and the shell)."""
        now = self.clock()
        async with write_transaction(self.engine) as conn:
            locked = _job_query().where(Job.id == job_id).with_for_update(of=Job)
            rows = (await conn.execute(locked)).mappings().all()
            if not rows:
                raise JobNotFound(f"there is no job #{job_id}")
            job = _record(rows[0])
            if user is not None and job.user.key != user.key:
                raise NotJobOwner(f"job #{job_id} belongs to someone else")
            if job.is_final:
                raise JobAlreadyFinished(f"job #{job_id} has already finished ({job.status})")
            if job.status == JobStatus.QUEUED:
                values: dict[str, Any] = {"status": JobStatus.CANCELLED, "finished_at": now,
                                          "cancel_requested": True}
                await quotas.refund(conn, [job_id], now)
            else:
                values = {"cancel_requested": True}
            await conn.execute(update(Job).where(Job.id == job_id).values(**values))
            if job.status == JobStatus.QUEUED:
                await outbox.record_ended(conn, [job_id], now)
        await self.signals.notify(EVENTS)
        return await self.require(job_id)

    async def update_reply_target(self, job_id: int, **values: Any) -> None:
        """Merge `values` (numbers and strings) into where the job's replies go (e.g. the id of
        the status message an adapter posted), so that a restarted bot can still edit it. One
        statement: the merge happens in the database."""
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(_reply_target_merge(conn.dialect.name),
                                        {"job_id": job_id, "patch": json.dumps(values)})
        if result.rowcount != 1:
            raise JobNotFound(f"there is no job #{job_id}")

    async def update_reply_targets(self, patches: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """`update_reply_target` for many jobs in one transaction and one statement (run for
        each patch, in order); a job that is gone is skipped."""
        if not patches:
            return

        def merge(conn: Connection) -> None:
            conn.execute(_reply_target_merge(conn.dialect.name), [
                {"job_id": job_id, "patch": json.dumps(values)} for job_id, values in patches
            ])

        await run_write(self.engine, merge)

    async def undelivered(self, platforms: Collection[str]) -> list[JobRecord]:
        """Finished jobs whose result has not reached the chat yet, oldest first."""
        query = _job_query().where(
            Job.status.in_(JobStatus.FINAL),
            Job.delivered_at.is_(None),
            Job.platform.in_(list(platforms)),
        )
        return await self._records(query.order_by(Job.finished_at, Job.id))

    async def mark_delivered(self, job_id: int,
                             reply_target: Mapping[str, Any] | None = None) -> bool:
        """Record delivery, with `reply_target` values (the posted message's id) merged into
        the job's, in one short transaction; False when it was already recorded (so nobody
        posts twice)."""
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                update(Job)
                .where(Job.id == job_id, Job.delivered_at.is_(None),
                       Job.status.in_(JobStatus.FINAL))
                .values(delivered_at=self.clock())
            )
            if result.rowcount == 1 and reply_target:
                await conn.execute(_reply_target_merge(conn.dialect.name),
                                   {"job_id": job_id, "patch": json.dumps(dict(reply_target))})
        return result.rowcount == 1

    async def clip_data(self, job_id: int) -> tuple[bytes, bytes] | None:
        """The MP4 and poster bytes of a clip stored in the database, else None."""
        async with read_transaction(self.engine) as conn:
            row = (
                await conn.execute(
                    select(Clip.video_data, Clip.poster_data).where(Clip.job_id == job_id)
                )
            ).first()
        if row is None or row.video_data is None or row.poster_data is None:
            return None
        return bytes(row.video_data), bytes(row.poster_data)

    async def expire_leases(self) -> int:
        """End the running jobs whose lease ran out and that may not be tried again."""
        async with write_transaction(self.engine) as conn:
            return await self._expire_leases(conn, self.clock())

    # -- the worker's side ------------------------------------------------------------------

    async def claim_next_job(
        self, worker_id: str, presets: Collection[str] | None = None, *,
        loaded: str | None = None, switch_after: timedelta | None = None,
    ) -> ClaimedJob | None:
        """Atomically take the next claimable job (queued, or running with an expired lease)
        of `presets` (None: any). A worker with the preset `loaded` in memory, which may load
        another, passes `switch_after`: the loaded preset's jobs then go first, and a job for
        another preset only once it has waited that long (then it takes its turn among them),
        so that a mixed queue does not make the worker swap models for every job."""
        now = self.clock()
        order = claim_order()
        if loaded is not None and switch_after is not None:
            not_yet = and_(Job.preset != loaded, Job.created_at > now - switch_after)
            order = (case((not_yet, 1), else_=0), *order)
        candidates = (
            select(Job.id).where(_claimable(now)).order_by(*order).limit(1)
        )
        if presets is not None:
            candidates = candidates.where(Job.preset.in_(list(presets)))
        if self.quotas.max_running_per_user:
            candidates = candidates.where(running_of_owner() < self.quotas.max_running_per_user)
        if self.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(of=Job, skip_locked=True)
        next_job = candidates.cte("next_job")
        claim = (
            update(Job)
            .add_cte(next_job)
            .where(Job.id.in_(select(next_job.c.id)))
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                worker_id=worker_id,
                lease_expires_at=now + self.lease,
                heartbeat_at=now,
                started_at=func.coalesce(Job.started_at, now),
                progress_step=0,
            )
            .returning(Job.id, Job.attempts, *_REQUEST_COLUMNS)
        )
        async with write_transaction(self.engine) as conn:
            await self._expire_leases(conn, now)
            paused = await is_paused(conn)
            row = None if paused else (await conn.execute(claim)).mappings().first()
        if row is None:
            return None
        return ClaimedJob(row["id"], row["attempts"], _request(row), now + self.lease)

    async def renew_lease(
        self, job_id: int, attempt: int, *, step: int | None = None, total: int | None = None
    ) -> bool:
        """Heartbeat (and progress): extend the lease. Returns whether a cancel was asked."""
        now = self.clock()
        values: dict[str, Any] = {"lease_expires_at": now + self.lease, "heartbeat_at": now}
        if step is not None:
            values["progress_step"] = step
        if total is not None:
            values["progress_total"] = total
        async with write_transaction(self.engine) as conn:
            cancel = await conn.scalar(
                _fenced(job_id, attempt).values(**values).returning(Job.cancel_requested)
            )
        if cancel is None:
            raise LeaseLost(f"job #{job_id} attempt {attempt} lost its lease")
        if step is not None:
            await self.signals.notify(EVENTS)
        return bool(cancel)

    async def finish_succeeded(self, job_id: int, attempt: int, clip: EncodedClip, *,
                               video_data: bytes | None = None,
                               poster_data: bytes | None = None) -> None:
        """Store the clip (its paths, or its bytes when given) and mark the job succeeded, in
        one fenced transaction: a crash in between leaves neither."""
        now = self.clock()
        columns = _clip_columns(clip)
        async with write_transaction(self.engine) as conn:
            await self._finish(conn, job_id, attempt, status=JobStatus.SUCCEEDED, now=now,
                               progress_step=Job.progress_total,
                               render_seconds=clip.render_seconds)
            await conn.execute(
                insert(Clip).values(
                    job_id=job_id, attempt=attempt, created_at=now, video_data=video_data,
                    poster_data=poster_data, **columns,
                )
            )
        await self.signals.notify(EVENTS)

    async def finish_failed(self, job_id: int, attempt: int, error: str) -> None:
        """Mark the job failed with a message for the user."""
        now = self.clock()
        async with write_transaction(self.engine) as conn:
            await self._finish(conn, job_id, attempt, status=JobStatus.FAILED, now=now,
                               error=error)
            await quotas.refund(conn, [job_id], now)
        await self.signals.notify(EVENTS)

    async def finish_cancelled(self, job_id: int, attempt: int) -> None:
        """Mark a job cancelled mid-render; refunded only if `refund_cancel_mid_render`."""
        now = self.clock()
        async with write_transaction(self.engine) as conn:
            await self._finish(conn, job_id, attempt, status=JobStatus.CANCELLED, now=now)
            if self.quotas.refund_cancel_mid_render:
                await quotas.refund(conn, [job_id], now)
        await self.signals.notify(EVENTS)

    async def release(self, job_id: int, attempt: int) -> None:
        """Give a job back to the queue untouched (a worker shutting down); the attempt does
        not count."""
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                _fenced(job_id, attempt).values(
                    status=JobStatus.QUEUED, attempts=Job.attempts - 1, worker_id=None,
                    lease_expires_at=None, progress_step=0,
                )
            )
        if result.rowcount != 1:
            raise LeaseLost(f"job #{job_id} attempt {attempt} lost its lease")
        await self.signals.notify(JOBS)

    async def _finish(self, conn: AsyncConnection, job_id: int, attempt: int, *, status: str,
                      now: datetime, error: str | None = None, **values: Any) -> None:
        result = await conn.execute(
            _fenced(job_id, attempt).values(
                status=status, finished_at=now, lease_expires_at=None, error=error, **values
            )
        )
        if result.rowcount != 1:
            raise LeaseLost(f"job #{job_id} attempt {attempt} lost its lease")
        await outbox.record_ended(conn, [job_id], now)

    async def _expire_leases(self, conn: AsyncConnection, now: datetime) -> int:
        """End the running jobs whose lease ran out: cancelled ones (a cancel was asked) and
        exhausted ones (no attempt left, failed and refunded)."""
        expired = and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
        cancelled = (await conn.execute(
            update(Job).where(expired, Job.cancel_requested.is_(True))
            .values(status=JobStatus.CANCELLED, finished_at=now, lease_expires_at=None)
            .returning(Job.id)
        )).scalars().all()
        exhausted = (await conn.execute(
            update(Job).where(expired, Job.attempts >= Job.max_attempts)
            .values(status=JobStatus.FAILED, finished_at=now, lease_expires_at=None,
                    error=EXHAUSTED_ERROR)
            .returning(Job.id)
        )).scalars().all()
        refunded = list(exhausted)
        if self.quotas.refund_cancel_mid_render:
            refunded += cancelled
        await quotas.refund(conn, refunded, now)
        await outbox.record_ended(conn, [*cancelled, *exhausted], now)
        return len(cancelled) + len(exhausted)

    async def _records(self, query: Select[Any]) -> list[JobRecord]:
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_record(row) for row in rows]


_ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
_REQUEST_COLUMNS = (
    Job.prompt, Job.negative_prompt, Job.frames, Job.fps, Job.width, Job.height, Job.steps,
    Job.guidance, Job.seed, Job.preset,
)
_CLIP_COLUMNS = (
    Clip.video_path, Clip.poster_path, Clip.width.label("clip_width"),
    Clip.height.label("clip_height"), Clip.frames.label("clip_frames"),
    Clip.fps.label("clip_fps"), Clip.duration_s, Clip.size_bytes,
    Clip.render_seconds.label("clip_render_seconds"),
    Clip.video_data.is_not(None).label("in_database"),
    Charge.credits.label("cost"), Charge.refunded_at.is_not(None).label("refunded"),
)


def _claimable(now: datetime) -> Any:
    queued = and_(Job.status == JobStatus.QUEUED, Job.cancel_requested.is_(False))
    lease_expired = and_(
        Job.status == JobStatus.RUNNING,
        Job.lease_expires_at < now,
        Job.attempts < Job.max_attempts,
        Job.cancel_requested.is_(False),
    )
    return or_(queued, lease_expired)


_INSERT_JOB = insert(Job).returning(*Job.__table__.c)


@cache
def _limits_query(interval: bool, queue_limit: bool) -> Select[Any]:
    """Every limit a submission of `:user_id` checks, and the credits they spent since
    `:since` (the start of the configured window), in one row."""
    user_id = bindparam("user_id", type_=Integer)
    mine = Job.user_id == user_id
    columns = [
        select(Ban.reason).where(Ban.user_id == user_id).scalar_subquery().label("ban"),
        select(func.count()).select_from(Job).where(mine, Job.status.in_(_ACTIVE))
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


@cache
def _reply_target_merge(dialect: str) -> Update:
    """Job `:job_id`'s reply target with the JSON object `:patch` merged in."""
    patch = bindparam("patch", type_=String())
    if dialect == "postgresql":
        merged: Any = cast(cast(Job.reply_target, JSONB).op("||")(cast(patch, JSONB)), JSON)
    else:
        merged = func.json_patch(Job.reply_target, patch)
    return update(Job).where(Job.id == bindparam("job_id")).values(reply_target=merged)


async def _fair_queue(conn: AsyncConnection) -> list[int]:
    """The waiting jobs' ids in the order fair scheduling will claim them."""
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


def _out_of_credits(cost: float, state: quotas.QuotaState) -> str:
    when = state.next_credit_at
    back = (f"; enough come back at {when:%Y-%m-%d %H:%M} UTC" if when is not None
            and cost <= state.credits else "")
    too_big = "; that is more than your whole allowance" if cost > state.credits else ""
    return (f"this clip costs {cost:g} credits and you have {state.left:g} left of "
            f"{state.credits:g} per {_window_words(state)}{too_big}{back}")


def _window_words(state: quotas.QuotaState) -> str:
    return "day" if state.daily_reset else f"{state.window_hours:g} h"


def _fenced(job_id: int, attempt: int) -> Any:
    return update(Job).where(
        Job.id == job_id, Job.attempts == attempt, Job.status == JobStatus.RUNNING
    )


async def ensure_user(conn: AsyncConnection, user: UserRef, now: datetime) -> int:
    """The user's row id, inserting the row if needed, and locked for this transaction so
    that concurrent submissions of one user are counted one after the other (SQLite's
    BEGIN IMMEDIATE already serialises them)."""
    return (await conn.run_sync(_upsert_user, user, now)).id


def _upsert_user(conn: Connection, user: UserRef, now: datetime,
                 tier: Tier | None = None) -> Row[Any]:
    """`ensure_user` in one statement: (id, display name), the names updated when given, and
    the tier set when given (a submission; an admin naming a user leaves it)."""
    name, priority = tier if tier is not None else NO_TIER
    return conn.execute(_user_upsert(conn.dialect.name, with_tier=tier is not None), {
        "platform": user.platform, "platform_user_id": user.platform_user_id,
        "display_name": user.display_name, "username": user.username.lower(),
        "tier": name, "priority": priority, "created_at": now,
    }).one()


@cache
def _user_upsert(dialect: str, *, with_tier: bool) -> Any:
    new = insert_of(dialect)(User)
    # Updating the row (its names, else nothing) also locks it, on PostgreSQL.
    values: dict[str, Any] = {
        column: case((getattr(new.excluded, column) == "", getattr(User, column)),
                     else_=getattr(new.excluded, column))
        for column in ("display_name", "username")
    }
    if with_tier:
        values |= {"tier": new.excluded.tier, "priority": new.excluded.priority}
    return new.on_conflict_do_update(
        index_elements=["platform", "platform_user_id"], set_=values,
    ).returning(User.id, User.display_name)



def _identity(user: UserRef) -> tuple[Any, ...]:
    return (User.platform == user.platform, User.platform_user_id == user.platform_user_id)


def _job_query() -> Select[Any]:
    return (
        select(Job.__table__, User.platform.label("user_platform"), User.platform_user_id,
               User.display_name, *_CLIP_COLUMNS)
        .join(User, User.id == Job.user_id)
        .outerjoin(Clip, Clip.job_id == Job.id)
        .outerjoin(Charge, Charge.job_id == Job.id)
    )


def _request(row: Mapping[Any, Any]) -> RenderRequest:
    return RenderRequest(
        prompt=row["prompt"], negative_prompt=row["negative_prompt"], frames=row["frames"],
        fps=row["fps"], width=row["width"], height=row["height"], steps=row["steps"],
        guidance=row["guidance"], seed=row["seed"], preset=row["preset"],
    )


def _clip_columns(clip: EncodedClip) -> dict[str, Any]:
    """The clip's row: its paths as text (a clip in the database has its files' names)."""
    return {"video_path": str(clip.video_path), "poster_path": str(clip.poster_path),
            "width": clip.width, "height": clip.height, "frames": clip.frames, "fps": clip.fps,
            "duration_s": clip.duration_s, "size_bytes": clip.size_bytes,
            "render_seconds": clip.render_seconds}


def _record(row: Mapping[Any, Any]) -> JobRecord:
    clip = None
    if row["video_path"] is not None:
        clip = EncodedClip(
            video_path=Path(row["video_path"]), poster_path=Path(row["poster_path"]),
            width=row["clip_width"], height=row["clip_height"], frames=row["clip_frames"],
            fps=row["clip_fps"], duration_s=row["duration_s"], size_bytes=row["size_bytes"],
            render_seconds=row["clip_render_seconds"], in_database=bool(row["in_database"]),
        )
    return JobRecord(
        id=row["id"],
        user=UserRef(row["user_platform"], row["platform_user_id"], row["display_name"]),
        status=row["status"],
        request=_request(row),
        notes=tuple(row["notes"] or ()),
        reply_target=dict(row["reply_target"] or {}),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        worker_id=row["worker_id"],
        progress_step=row["progress_step"],
        progress_total=row["progress_total"],
        cancel_requested=row["cancel_requested"],
        error=row["error"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        delivered_at=row["delivered_at"],
        heartbeat_at=row["heartbeat_at"],
        clip=clip,
        cost=row["cost"] or 0.0,
        refunded=bool(row.get("refunded")),
        front_door=row["platform"],
        api_key_id=row["api_key_id"],
        remixed_from=row["remixed_from_id"],
        deleted_at=row["deleted_at"],
    )


#: For the store's neighbours (the API's listing): the query of job records and its reader.
job_query = _job_query
job_record = _record
