"""The console's previews: while a clip renders, the latest preview of it (a JPEG the worker
stored every few steps) is written into the data folder's clips folder, one file per step
shown, and its path printed under the progress line, at most one every `PREVIEW_EVERY_S`
per job so that a fast render does not flood the terminal or the disk. Retention's sweep of
the clips folder removes the files with the clips."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.core import replies
from storage.models import JobStatus
from storage.previews import PreviewStore
from storage.records import JobRecord, PreviewRecord

#: The fewest seconds between two preview lines of one job.
PREVIEW_EVERY_S = 3.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Shown:
    attempt: int
    step: int
    at: float


class ConsolePreviews:
    """Turns a rendering job's newest preview into a file and a line, throttled per job."""

    def __init__(self, previews: PreviewStore, *, folder: Path,
                 every_s: float = PREVIEW_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.previews = previews
        self.folder = folder
        self.every_s = every_s
        self.clock = clock
        self._shown: dict[int, _Shown] = {}
        self._write_failed = False

    async def line_for(self, job: JobRecord) -> str | None:
        """The line naming the file of `job`'s newest preview, or None: not rendering, no
        preview yet, none newer than the last shown, or the last shown too recently."""
        last = self._shown.get(job.id)
        now = self.clock()
        if job.status != JobStatus.RUNNING or (last is not None and now - last.at < self.every_s):
            return None
        latest = await self.previews.latest(job.id)
        if latest is None or (last is not None and (latest.attempt, latest.step) == (
                last.attempt, last.step)):
            return None
        path = await self._write(latest)
        if path is None:
            return None
        # From when it was written: the next line comes `every_s` after this one at least.
        self._shown[job.id] = _Shown(latest.attempt, latest.step, self.clock())
        return replies.console_preview(job.id, latest.step, latest.total, str(path))

    def forget(self, job_id: int) -> None:
        """The job is over: nothing more to show of it."""
        self._shown.pop(job_id, None)

    async def _write(self, latest: PreviewRecord) -> Path | None:
        path = self.folder / f"job-{latest.job_id}-a{latest.attempt}-step{latest.step}-preview.jpg"
        try:
            await asyncio.to_thread(_write_atomically, path, latest.jpeg)
        except OSError as exc:
            # A full or read-only disk: the preview is a nicety, the progress goes on.
            if not self._write_failed:
                log.warning("previews cannot be written to %s: %s", self.folder, exc)
            self._write_failed = True
            return None
        return path


def _write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file, so that a viewer opening it never sees half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.part")
    try:
        scratch.write_bytes(data)
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)
