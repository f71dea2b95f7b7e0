"""A job row as the rooms read it: the one query of a job with its owner, clip and charge, and
the reader that turns its rows into `JobRecord`s."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import Charge, Clip, Job, JobStatus, User
from storage.records import JobRecord
from videobot.media.clip import EncodedClip
from videobot.params import RenderRequest
from videobot.users import UserRef

#: The statuses of a job still in the queue's hands.
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
#: The columns a `RenderRequest` is read from.
REQUEST_COLUMNS = (
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


def job_query() -> Select[Any]:
    """Jobs with their owner, clip and charge; `job_record` reads its rows."""
    return (
        select(Job.__table__, User.platform.label("user_platform"), User.platform_user_id,
               User.display_name, *_CLIP_COLUMNS)
        .join(User, User.id == Job.user_id)
        .outerjoin(Clip, Clip.job_id == Job.id)
        .outerjoin(Charge, Charge.job_id == Job.id)
    )


async def read_job(conn: AsyncConnection, job_id: int, *, lock: bool = False) -> JobRecord | None:
    """Job `job_id`, or None; `lock`: its row locked for the transaction (PostgreSQL)."""
    query = job_query().where(Job.id == job_id)
    if lock:
        query = query.with_for_update(of=Job)
    rows = (await conn.execute(query)).mappings().all()
    return job_record(rows[0]) if rows else None


def request_of(row: Mapping[Any, Any]) -> RenderRequest:
    """The request of a row holding `REQUEST_COLUMNS`."""
    return RenderRequest(
        prompt=row["prompt"], negative_prompt=row["negative_prompt"], frames=row["frames"],
        fps=row["fps"], width=row["width"], height=row["height"], steps=row["steps"],
        guidance=row["guidance"], seed=row["seed"], preset=row["preset"],
    )


def job_record(row: Mapping[Any, Any]) -> JobRecord:
    """A row of `job_query` as a record."""
    return JobRecord(
        id=row["id"],
        user=UserRef(row["user_platform"], row["platform_user_id"], row["display_name"]),
        status=row["status"],
        request=request_of(row),
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
        clip=_clip(row),
        cost=row["cost"] or 0.0,
        refunded=bool(row.get("refunded")),
        front_door=row["platform"],
        api_key_id=row["api_key_id"],
        remixed_from=row["remixed_from_id"],
        deleted_at=row["deleted_at"],
        kind=row["kind"],
        source_job_id=row["source_job_id"],
        result_text=row["result_text"],
        extends=row.get("extends_job_id"),
    )


def _clip(row: Mapping[Any, Any]) -> EncodedClip | None:
    if row["video_path"] is None:
        return None
    return EncodedClip(
        video_path=Path(row["video_path"]), poster_path=Path(row["poster_path"]),
        width=row["clip_width"], height=row["clip_height"], frames=row["clip_frames"],
        fps=row["clip_fps"], duration_s=row["duration_s"], size_bytes=row["size_bytes"],
        render_seconds=row["clip_render_seconds"], in_database=bool(row["in_database"]),
    )
