"""The delivery loop: progress to the chats while jobs run, results once they finish.

Delivery is at-least-once and idempotent per job: a job is marked delivered only after its
adapter posted it, and `mark_delivered` records it once; after a restart, whatever finished
and was not delivered is delivered then. A job the adapter posted is written to the bot's
journal (`bot.posted`) at once, with the platform's answer, before the job table records it:
a clip posted while the database could not record it (a crash, a writer holding the lock) is
not posted again, in this run or the next; only the record is retried.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from bot.adapters.base import ChatAdapter
from bot.core import replies
from bot.posted import POSTED, POSTING, PostedJournal
from storage.models import JobStatus
from storage.records import JobRecord
from storage.store import Store
from storage.wakeup import EVENTS
from videobot.config import PresetConfig
from videobot.options import counts_steps

log = logging.getLogger(__name__)

RETRY_BASE_S = 1.0
RETRY_MAX_S = 60.0


class DeliveryLoop:
    """Watches the job table for the platforms it has adapters for."""

    def __init__(self, *, store: Store, adapters: Mapping[str, ChatAdapter],
                 clips_dir: Path, poll_interval: float = 0.5,
                 presets: Mapping[str, PresetConfig] | None = None,
                 journal: PostedJournal | None = None) -> None:
        """`presets`: the configured ones, for how each model's progress is told; `journal`:
        the one the adapters record their answers in (none: in memory)."""
        self.store = store
        self.presets = presets or {}
        self.clips_dir = clips_dir
        self.adapters = dict(adapters)
        self.poll_interval = poll_interval
        self.journal = journal if journal is not None else PostedJournal(None)
        self._shown: dict[int, tuple[str, int | None, int]] = {}
        self._retry_at: dict[int, float] = {}
        self._failures: dict[int, int] = {}
        self._journal_trimmed = False

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set, waking early on the events signal."""
        async with self.store.signals.listener(EVENTS) as wakeup:
            while not stop.is_set():
                try:
                    await self.tick()
                except Exception:
                    log.exception("delivery tick failed; trying again")
                await wakeup.wait(self.poll_interval)

    async def tick(self) -> None:
        """One pass: show progress, deliver what finished."""
        await self._show_progress()
        undelivered = await self.store.deliveries.undelivered(list(self.adapters))
        if not self._journal_trimmed:  # entries of jobs delivered before a crash
            await self.journal.retain({job.id for job in undelivered})
            self._journal_trimmed = True
        for job in undelivered:
            await self._deliver(job)

    async def _show_progress(self) -> None:
        now = self.store.clock()
        active = await self.store.jobs.active_jobs()  # every platform: positions count them all
        positions = queue_positions(active)
        mine = [job for job in active if job.front_door in self.adapters]
        for job in mine:
            position = positions.get(job.id)
            key = (job.status, position, job.progress_step)
            if self._shown.get(job.id) == key:
                continue
            self._shown[job.id] = key
            text = replies.progress(job, position, now,
                                    counts_steps=counts_steps(self.presets, job.request.preset))
            try:
                await self.adapters[job.front_door].show_progress(job, text)
            except Exception:
                log.exception("progress update for job %s failed", job.id)
        live = {job.id for job in mine}
        self._shown = {k: v for k, v in self._shown.items() if k in live}

    async def _deliver(self, job: JobRecord) -> None:
        if not self.journal.get(job.id).get(POSTED) and not await self._post(job):
            return
        answer = {key: value for key, value in self.journal.get(job.id).items()
                  if key not in (POSTED, POSTING)}
        await self.store.deliveries.mark_delivered(job.id, answer)
        await self.journal.forget(job.id)

    async def _post(self, job: JobRecord) -> bool:
        """Post the job's result to its chat (True), or schedule a retry with backoff."""
        if time.monotonic() < self._retry_at.get(job.id, 0.0):
            return False
        try:
            await self.adapters[job.front_door].deliver(await self._with_local_clip(job))
        except Exception:
            failures = self._failures.get(job.id, 0) + 1
            self._failures[job.id] = failures
            delay = min(RETRY_MAX_S, RETRY_BASE_S * 2 ** (failures - 1))
            self._retry_at[job.id] = time.monotonic() + delay
            log.exception("delivering job %s failed (try %s); again in %.0f s",
                          job.id, failures, delay)
            return False
        self._retry_at.pop(job.id, None)
        self._failures.pop(job.id, None)
        await self.journal.record(job.id, **{POSTED: True})
        return True

    async def _with_local_clip(self, job: JobRecord) -> JobRecord:
        """The job with its clip as files on this host: a clip stored in the database (by a
        worker on another host) is written to `clips_dir` first."""
        clip = job.clip
        if clip is None or not clip.in_database:
            return job
        video = self.clips_dir / clip.video_path.name
        poster = self.clips_dir / clip.poster_path.name
        if not (video.exists() and poster.exists()):
            data = await self.store.jobs.clip_data(job.id)
            if data is None:
                raise ClipMissing(f"job {job.id}: the clip's data is no longer stored")
            await asyncio.to_thread(_write_files, {video: data[0], poster: data[1]})
        return replace(job, clip=replace(clip, video_path=video, poster_path=poster))


def queue_positions(active: list[JobRecord]) -> dict[int, int]:
    """Queue positions (1 = next) of the waiting jobs in `active`, which is in queue order."""
    waiting = [job.id for job in active if job.status == JobStatus.QUEUED]
    return {job_id: index for index, job_id in enumerate(waiting, start=1)}


class ClipMissing(Exception):
    """A finished job's clip is gone from the database (retention dropped it)."""


def _write_files(contents: dict[Path, bytes]) -> None:
    """Write each file under a temporary name, then move it into place."""
    for path, data in contents.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.part")
        scratch.write_bytes(data)
        os.replace(scratch, path)
