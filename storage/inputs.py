"""Images sent with a request, stored with their job like a clip: a file in the data folder,
or its bytes in the database when clips travel there (workers on other hosts)."""

from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import read_transaction
from storage.models import JobInput

_INSERT = insert(JobInput)
#: The `size_bytes` of an image retention removed: its row stays, saying the job had one.
REMOVED_SIZE = 0


@dataclass(frozen=True)
class StoredInput:
    """An image ready to be recorded with its job: its file written already (`path`), or its
    bytes (`data`, with `path` only a name)."""

    path: str
    width: int
    height: int
    size_bytes: int
    data: bytes | None = None


async def prepare_input(png: bytes, *, width: int, height: int, folder: Path,
                        in_database: bool) -> StoredInput:
    """Write the image's file (before the job's transaction: no file I/O while it holds the
    lock), or keep its bytes for the row."""
    name = f"input-{uuid.uuid4().hex}.png"
    if in_database:
        return StoredInput(name, width, height, len(png), png)
    path = folder / name
    await asyncio.to_thread(_write, path, png)
    return StoredInput(str(path), width, height, len(png))


def discard_input(stored: StoredInput) -> None:
    """Remove the file of an image whose job was refused."""
    if stored.data is None:
        Path(stored.path).unlink(missing_ok=True)


def insert_input(conn: Connection, job_id: int, stored: StoredInput, now: datetime) -> None:
    """Record the image with its job, in the transaction that queues the job."""
    conn.execute(_INSERT, {"job_id": job_id, "path": stored.path, "width": stored.width,
                           "height": stored.height, "size_bytes": stored.size_bytes,
                           "created_at": now, "data": stored.data})


@dataclass(frozen=True)
class JobImage:
    """The image recorded with a job: its PNG, or None when its file is gone (removed by
    retention, or by hand), and the size it was fitted to."""

    png: bytes | None
    width: int
    height: int


async def job_image(engine: AsyncEngine, job_id: int) -> JobImage | None:
    """The image recorded with a job, or None when the job was sent without one."""
    async with read_transaction(engine) as conn:
        row = (await conn.execute(
            select(JobInput.path, JobInput.data, JobInput.width, JobInput.height,
                   JobInput.size_bytes)
            .where(JobInput.job_id == job_id)
        )).first()
    if row is None:
        return None
    if row.size_bytes == REMOVED_SIZE:
        return JobImage(None, row.width, row.height)
    png = bytes(row.data) if row.data is not None else await asyncio.to_thread(
        _read, Path(row.path))
    return JobImage(png, row.width, row.height)


async def input_image(engine: AsyncEngine, job_id: int) -> bytes | None:
    """The PNG stored with a job, or None when it has none (or retention removed it: see
    `job_image` to tell the two apart)."""
    image = await job_image(engine, job_id)
    return image.png if image is not None else None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.part")
    scratch.write_bytes(data)
    os.replace(scratch, path)
