"""Previews of rendering jobs: the latest one of each job, replaced as the render moves on.

A worker saves a preview every few steps (a preset's `preview_every_steps`), fenced by its
attempt like its progress: an attempt that lost its lease cannot overwrite the newer one's.
The JPEG is a file beside the clips (`job-<id>-a<attempt>-preview.jpg`) or, when clips
travel through the database (PostgreSQL by default), bytes in the `previews` row, so that
readers on other hosts need no shared folder. Retention (`storage.retention`) deletes a
preview an hour after its job finished.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

from sqlalchemy import select

from storage.context import StoreContext
from storage.db import insert_of, read_transaction, write_transaction
from storage.errors import LeaseLost
from storage.models import Job, JobStatus, Preview
from storage.records import PreviewImage, PreviewRecord
from storage.wakeup import EVENTS
from videobot.config import Config


class PreviewStore:
    """Saves and reads previews; `folder` holds their files when `in_database` is false."""

    def __init__(self, context: StoreContext, *, folder: Path, in_database: bool) -> None:
        self.context = context
        self.folder = folder
        self.in_database = in_database

    @classmethod
    def of(cls, context: StoreContext, config: Config) -> PreviewStore:
        """The previews where `config`'s workers put them: beside the clips in the data
        folder, or in the database when clips travel through it."""
        return cls(context, folder=config.data_dir / "clips",
                   in_database=config.storage.clips_in_database(config.database_url))

    async def save(self, job_id: int, attempt: int, preview: PreviewImage) -> None:
        """Replace the job's preview; `LeaseLost` when `attempt` no longer holds the job."""
        path = None
        if not self.in_database:
            path = self.folder / f"job-{job_id}-a{attempt}-preview.jpg"
            await asyncio.to_thread(_write_atomically, path, preview.jpeg)
        try:
            await self._upsert(job_id, attempt, preview, path)
        except LeaseLost:
            if path is not None:
                path.unlink(missing_ok=True)
            raise
        await self.context.signals.notify(EVENTS)

    async def latest(self, job_id: int) -> PreviewRecord | None:
        """The job's latest preview with the step it shows, or None (none yet, or gone)."""
        async with read_transaction(self.context.engine) as conn:
            row = (await conn.execute(
                select(Preview.__table__).where(Preview.job_id == job_id)
            )).mappings().first()
        if row is None:
            return None
        jpeg = row["image"]
        if jpeg is None and row["path"]:
            jpeg = await asyncio.to_thread(_read_or_none, Path(row["path"]))
        if jpeg is None:
            return None
        return PreviewRecord(job_id=job_id, attempt=row["attempt"], step=row["step"],
                             total=row["total"], width=row["width"], height=row["height"],
                             frames=row["frames"], jpeg=bytes(jpeg),
                             updated_at=row["updated_at"])

    async def steps(self, job_ids: list[int]) -> dict[int, tuple[int, int]]:
        """(attempt, step) of the latest preview of each of `job_ids` that has one, without
        reading the images: what tells a page that a newer preview is there to show."""
        if not job_ids:
            return {}
        query = select(Preview.job_id, Preview.attempt, Preview.step).where(
            Preview.job_id.in_(job_ids))
        async with read_transaction(self.context.engine) as conn:
            found = (await conn.execute(query)).all()
        return {row.job_id: (row.attempt, row.step) for row in found}

    async def _upsert(self, job_id: int, attempt: int, preview: PreviewImage,
                      path: Path | None) -> None:
        values = {"attempt": attempt, "step": preview.step, "total": preview.total,
                  "width": preview.width, "height": preview.height, "frames": preview.frames,
                  "path": str(path) if path is not None else None,
                  "image": preview.jpeg if path is None else None,
                  "updated_at": self.context.clock()}
        holder = (select(Job.id)
                  .where(Job.id == job_id, Job.attempts == attempt,
                         Job.status == JobStatus.RUNNING)
                  .with_for_update())
        async with write_transaction(self.context.engine) as conn:
            if await conn.scalar(holder) is None:
                raise LeaseLost(job_id, attempt)
            upsert = insert_of(conn.dialect.name)(Preview).values(job_id=job_id, **values)
            await conn.execute(upsert.on_conflict_do_update(index_elements=["job_id"],
                                                            set_=values))


def _write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file beside it, so that readers see the
    old preview or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        scratch.write_bytes(data)
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
