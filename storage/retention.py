"""Retention: old clips and posters are deleted (rows and files), and the images sent with
requests (files and bytes; each row stays, marked removed), and previews once their job has
been over for an hour, so that the disk and the database stay bounded however long the bot
runs."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, update

from storage.context import StoreContext
from storage.db import write_transaction
from storage.inputs import REMOVED_SIZE
from storage.models import Clip, Job, JobInput, JobStatus, Preview

#: How long a finished job's last preview stays (a chat may still show it meanwhile).
KEEP_PREVIEWS_AFTER_FINISH = timedelta(hours=1)


@dataclass(frozen=True)
class PruneReport:
    clip_rows: int
    files: int
    data_dropped: int
    input_rows: int = 0
    previews: int = 0


async def prune_clips(context: StoreContext, *, keep_days: float, drop_delivered_hours: float,
                      clips_dir: Path) -> PruneReport:
    """Delete clips and input images older than `keep_days` (0: keep) with their files, drop
    the database copy of delivered clips after `drop_delivered_hours` (0: keep), delete the
    previews of jobs finished over an hour ago, and remove files in `clips_dir` older than
    `keep_days` (leftovers of abandoned attempts, delivery copies, older attempts' previews)."""
    now = context.clock()
    rows = files = dropped = inputs = 0
    previews = await _prune_previews(context, now - KEEP_PREVIEWS_AFTER_FINISH)
    async with write_transaction(context.engine) as conn:
        if keep_days > 0:
            cutoff = now - timedelta(days=keep_days)
            old = (await conn.execute(
                select(Clip.id, Clip.video_path, Clip.poster_path).where(Clip.created_at < cutoff)
            )).all()
            await conn.execute(delete(Clip).where(Clip.id.in_([r.id for r in old])))
            rows = len(old)
            doomed = [Path(p) for r in old for p in (r.video_path, r.poster_path)]
            old_inputs = (await conn.execute(
                select(JobInput.id, JobInput.path, JobInput.data.is_(None).label("file"))
                .where(JobInput.created_at < cutoff, JobInput.size_bytes > 0)
            )).all()
            # The row stays, emptied (`REMOVED_SIZE`): a rerun of its job then says the
            # picture is gone rather than quietly rendering from the text alone.
            await conn.execute(update(JobInput).where(
                JobInput.id.in_([r.id for r in old_inputs])).values(
                data=None, size_bytes=REMOVED_SIZE))
            inputs = len(old_inputs)
            doomed += [Path(r.path) for r in old_inputs if r.file]
        else:
            doomed = []
        if drop_delivered_hours > 0:
            delivered_before = now - timedelta(hours=drop_delivered_hours)
            delivered = select(Job.id).where(Job.delivered_at < delivered_before)
            result = await conn.execute(
                update(Clip)
                .where(Clip.job_id.in_(delivered), Clip.video_data.is_not(None))
                .values(video_data=None, poster_data=None)
            )
            dropped = int(result.rowcount or 0)
    for path in doomed:
        full = path if path.is_absolute() else clips_dir / path
        if full.exists():
            full.unlink()
            files += 1
    if keep_days > 0:
        files += _remove_older_files(clips_dir, (now - timedelta(days=keep_days)).timestamp())
    return PruneReport(rows, files, dropped, inputs, previews)


async def _prune_previews(context: StoreContext, finished_before: datetime) -> int:
    """Delete the previews (rows and files) of jobs that finished before `finished_before`."""
    over = select(Job.id).where(Job.status.in_(JobStatus.FINAL),
                                Job.finished_at < finished_before)
    async with write_transaction(context.engine) as conn:
        gone = (await conn.execute(
            delete(Preview).where(Preview.job_id.in_(over)).returning(Preview.path)
        )).scalars().all()
    await asyncio.to_thread(_unlink_all, [Path(path) for path in gone if path])
    return len(gone)


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _remove_older_files(folder: Path, cutoff: float) -> int:
    if not folder.is_dir():
        return 0
    removed = 0
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
