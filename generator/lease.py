"""A claimed job's lease, kept from its claim until its outcome is recorded: renewed every
heartbeat, carrying the render's progress (and previews) as they move, and turning a cancel
or a lost lease into a stop of the render."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field

from generator.backends.base import Frames
from generator.previews import preview_image
from storage.db import DATABASE_UNAVAILABLE, is_unavailable
from storage.errors import LeaseLost
from storage.previews import PreviewStore
from storage.records import ClaimedJob
from storage.store import Store

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.2


@dataclass
class RenderState:
    """What the render thread and the event loop share about one job."""

    step: int = 0
    total: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    cancel_requested: bool = False
    lease_lost: bool = False
    timed_out: bool = False
    #: The newest preview not saved yet: (step, total, frames), set by the render thread.
    preview: tuple[int, int, Frames] | None = None

    def on_step(self, step: int, total: int) -> None:
        self.step, self.total = step, total

    def on_preview(self, step: int, total: int, frames: Frames) -> None:
        # One assignment: the event loop reads a whole preview or the one before.
        self.preview = (step, total, frames)

    def take_preview(self) -> tuple[int, int, Frames] | None:
        preview, self.preview = self.preview, None
        return preview

    def time_out(self) -> None:
        """The render ran past its time limit: stop it at its next step."""
        self.timed_out = True
        self.stop.set()


class LeaseKeeper:
    """Keeps one job's lease until `stop()`: renews it every heartbeat, writes progress and
    previews as they come, and stops the render on a cancel or a lost lease."""

    def __init__(self, store: Store, job: ClaimedJob, state: RenderState, *,
                 heartbeat_seconds: float, previews: PreviewStore) -> None:
        self._store = store
        self._job = job
        self._state = state
        self._heartbeat = heartbeat_seconds
        self._previews = previews
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._preview_failed = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"lease of job {self._job.id}")

    async def stop(self) -> None:
        """Stop renewing (the finishing write takes over). Told to stop, not cancelled: a
        task cancelled inside a SQLite transaction can leave its connection holding the
        write lock, and every writer then waits."""
        self._done.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        written_step = -1
        last_renewal = time.monotonic()
        while not self._done.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), PROGRESS_INTERVAL_S)
            if self._done.is_set():
                return
            step = self._state.step
            if step != written_step or time.monotonic() - last_renewal >= self._heartbeat:
                if not await self._renew(step):
                    return
                written_step, last_renewal = step, time.monotonic()
            await self._save_preview()

    async def _renew(self, step: int) -> bool:
        """Renew the lease with the progress; False once the lease is lost."""
        job, state = self._job, self._state
        try:
            cancel = await self._store.leases.renew_lease(job.id, job.attempt, step=step,
                                                          total=state.total)
        except LeaseLost:
            self._lose_lease()
            return False
        except DATABASE_UNAVAILABLE as exc:
            if not is_unavailable(exc):
                raise
            # The render goes on; if the database stays away past the lease, another
            # worker may take the job and the fence will refuse this one's result.
            log.warning("job %s: heartbeat failed; retrying", job.id, exc_info=True)
            return True
        if cancel and not state.cancel_requested:
            log.info("job %s: cancel requested", job.id)
            state.cancel_requested = True
            state.stop.set()
        return True

    async def _save_preview(self) -> None:
        pending = self._state.take_preview()
        if pending is None:
            return
        image = await asyncio.to_thread(preview_image, *pending)
        try:
            await self._previews.save(self._job.id, self._job.attempt, image)
        except LeaseLost:
            self._lose_lease()
        except DATABASE_UNAVAILABLE as exc:
            if not is_unavailable(exc):
                raise
            log.warning("job %s: a preview could not be saved (database unreachable)",
                        self._job.id)
        except OSError as exc:
            # A full or read-only disk: the preview is a nicety, the render goes on.
            if not self._preview_failed:
                log.warning("job %s: previews cannot be saved: %s", self._job.id, exc)
            self._preview_failed = True

    def _lose_lease(self) -> None:
        log.warning("job %s attempt %s: lease lost; stopping", self._job.id, self._job.attempt)
        self._state.lease_lost = True
        self._state.stop.set()
