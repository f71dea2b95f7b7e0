"""The generator worker loop: claim, render under a heartbeat lease, encode, finish (fenced).

One model stays resident (`ResidentBackend`), loaded and warmed up before the first claim.
Rendering and encoding run in a thread; the event loop keeps the lease alive, writes progress,
watches for cancels and stops a render that runs past its preset's time limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from generator.backends.base import GenerationFailed, GenerationStopped
from generator.backends.loader import ResidentBackend
from generator.encode import encode_clip
from storage.db import DATABASE_UNAVAILABLE, is_unavailable
from storage.errors import LeaseLost
from storage.jobs import JobStore
from storage.records import ClaimedJob, ClipRecord
from storage.wakeup import JOBS, Listener
from videobot.config import Config
from videobot.limits import LimitExceeded, check_request
from videobot.params import RenderRequest

log = logging.getLogger(__name__)

#: The one sentence a user sees when rendering breaks for a reason we did not foresee; the
#: traceback goes to the worker's log.
RENDER_FAILED = "the model failed while rendering this clip; the operator can find why in the log"
PROGRESS_INTERVAL_S = 0.2


@dataclass
class RenderState:
    """What the render thread and the event loop share about the job in hand."""

    step: int = 0
    total: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    cancel_requested: bool = False
    lease_lost: bool = False
    timed_out: bool = False

    def on_step(self, step: int, total: int) -> None:
        self.step, self.total = step, total

    def time_out(self) -> None:
        """The render ran past its time limit: stop it at its next step."""
        self.timed_out = True
        self.stop.set()


class Worker:
    """One generator process's loop. `run(burst=True)` drains the queue and returns."""

    def __init__(
        self,
        *,
        store: JobStore,
        config: Config,
        backends: ResidentBackend,
        worker_id: str,
        clips_dir: Path,
    ) -> None:
        self.store = store
        self.config = config
        self.backends = backends
        self.worker_id = worker_id
        self.clips_dir = clips_dir
        self.clips_in_database = config.storage.clips_in_database(config.database_url)
        self.stopping = asyncio.Event()
        self.current: RenderState | None = None
        self.current_job_id: int | None = None
        self._wakeup: Listener | None = None
        self.served = config.worker.served_presets(config)

    def claimable_presets(self) -> tuple[str, ...]:
        """The presets whose jobs this worker takes now: all it serves if it may switch
        models, else only its resident one."""
        return self.config.worker.claimable(self.config, self.backends.preset)

    def _affinity(self) -> dict[str, Any]:
        """How a worker that may switch models favours the one it has loaded (see
        `JobStore.claim_next_job`); nothing for a worker that keeps one model."""
        loaded = self.backends.preset
        if not self.config.worker.switch_presets or loaded is None:
            return {}
        return {"loaded": loaded,
                "switch_after": timedelta(seconds=self.config.worker.switch_after_seconds)}

    async def prepare(self) -> None:
        """Load the first served preset's model, and with `worker.warm_up` render one step at
        its default size, so that no lease runs while the model loads and the first job
        does not pay for compilation."""
        preset = self.config.presets[self.served[0]]
        backend = await asyncio.to_thread(self.backends.get, preset)
        if not self.config.worker.warm_up:
            return
        started = time.monotonic()
        request = RenderRequest(
            prompt="warm-up", negative_prompt=preset.negative_prompt, frames=preset.frames,
            fps=preset.fps, width=preset.width, height=preset.height, steps=1,
            guidance=preset.guidance, seed=0, preset=preset.name,
        )
        await asyncio.to_thread(backend.generate, request, lambda _s, _t: None, lambda: False)
        log.info("preset %s warmed up in %.1f s", preset.name, time.monotonic() - started)

    def request_stop(self) -> None:
        """Stop claiming; the job in hand finishes (see `abandon_current` for the hurry)."""
        self.stopping.set()
        if self._wakeup is not None:
            self._wakeup.poke()

    def abandon_current(self) -> None:
        """Interrupt the job in hand so that it is released back to the queue."""
        if self.current is not None:
            self.current.stop.set()

    async def run(self, *, burst: bool = False) -> int:
        """Process jobs until stopped (or, in burst mode, until the queue is empty); return
        how many jobs this worker finished."""
        done = 0
        poll = self.config.queue.poll_interval_seconds
        async with self.store.signals.listener(JOBS) as wakeup:
            self._wakeup = wakeup
            while not self.stopping.is_set():
                try:
                    job = await self.store.claim_next_job(
                        self.worker_id, self.claimable_presets(), **self._affinity())
                except DATABASE_UNAVAILABLE as exc:
                    if not is_unavailable(exc):
                        raise
                    log.warning("claiming failed (database unreachable?); retrying",
                                exc_info=True)
                    await wakeup.wait(poll)
                    continue
                if job is None:
                    if burst:
                        break
                    await wakeup.wait(poll)
                    continue
                await self.process(job)
                done += 1
        return done

    async def process(self, job: ClaimedJob) -> None:
        """Render one claimed job and record its outcome, fenced by its attempt."""
        log.info("job %s attempt %s: claimed by %s", job.id, job.attempt, self.worker_id)
        state = RenderState(total=job.request.steps)
        self.current, self.current_job_id = state, job.id
        rendered = asyncio.Event()
        heartbeat = asyncio.create_task(self._keep_lease(job, state, rendered))
        try:
            outcome = await self._render_and_store(job, state)
        finally:
            # Told to stop, not cancelled: a task cancelled inside a SQLite transaction can
            # leave its connection holding the write lock, and every writer then waits.
            rendered.set()
            await asyncio.gather(heartbeat, return_exceptions=True)
            self.current, self.current_job_id = None, None
        await self._record_or_drop(job, state, outcome)

    async def _render_and_store(self, job: ClaimedJob, state: RenderState) -> Outcome:
        preset = self.config.presets.get(job.request.preset)
        if preset is None:
            return Failed(f"the preset {job.request.preset!r} is no longer configured")
        try:
            check_request(job.request, preset, self.config.limits)
        except LimitExceeded as exc:
            return Failed(str(exc))
        started = time.monotonic()
        limit = asyncio.get_running_loop().call_later(preset.time_limit_seconds,
                                                      state.time_out)
        try:
            clip = await asyncio.to_thread(self._render_blocking, job, state, preset.name)
        except GenerationStopped:
            if state.timed_out:
                return Failed(f"rendering took longer than the {preset.time_limit_seconds:g} s "
                              f"limit of the preset {preset.name}; try fewer frames or steps")
            return Stopped()
        except GenerationFailed as exc:
            return Failed(exc.reason)
        except Exception:
            log.exception("job %s attempt %s: rendering failed", job.id, job.attempt)
            return Failed(RENDER_FAILED)
        finally:
            limit.cancel()
        return Rendered(clip, time.monotonic() - started)

    def _render_blocking(self, job: ClaimedJob, state: RenderState, preset: str) -> ClipRecord:
        backend = self.backends.get(self.config.presets[preset])
        frames = backend.generate(job.request, state.on_step, state.stop.is_set)
        if state.stop.is_set():
            raise GenerationStopped
        # The attempt is in the name: a stale attempt can never overwrite the current one's.
        stem = self.clips_dir / f"job-{job.id}-a{job.attempt}"
        self.clips_dir.mkdir(parents=True, exist_ok=True)
        encoded = encode_clip(frames, job.request.fps, stem.with_suffix(".mp4"),
                              stem.with_suffix(".jpg"))
        return ClipRecord(
            video_path=str(encoded.video_path), poster_path=str(encoded.poster_path),
            width=encoded.width, height=encoded.height, frames=encoded.frames,
            fps=encoded.fps, duration_s=encoded.duration_s, size_bytes=encoded.size_bytes,
            render_seconds=0.0, in_database=self.clips_in_database,
        )

    async def _keep_lease(self, job: ClaimedJob, state: RenderState,
                          rendered: asyncio.Event) -> None:
        """Renew the lease every heartbeat, and write progress as it moves, until `rendered`
        is set (then the finishing write takes over)."""
        heartbeat = self.config.queue.heartbeat_seconds
        written_step = -1
        last_renewal = time.monotonic()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(rendered.wait(), PROGRESS_INTERVAL_S)
            if rendered.is_set():
                return
            moved = state.step != written_step
            if not moved and time.monotonic() - last_renewal < heartbeat:
                continue
            step = state.step
            try:
                cancel = await self.store.renew_lease(job.id, job.attempt, step=step,
                                                      total=state.total)
            except LeaseLost:
                log.warning("job %s attempt %s: lease lost; stopping", job.id, job.attempt)
                state.lease_lost = True
                state.stop.set()
                return
            except DATABASE_UNAVAILABLE as exc:
                if not is_unavailable(exc):
                    raise
                # The render goes on; if the database stays away past the lease, another
                # worker may take the job and the fence will refuse this one's result.
                log.warning("job %s: heartbeat failed; retrying", job.id, exc_info=True)
                continue
            written_step, last_renewal = step, time.monotonic()
            if cancel and not state.cancel_requested:
                log.info("job %s: cancel requested", job.id)
                state.cancel_requested = True
                state.stop.set()

    async def _record(self, job: ClaimedJob, state: RenderState, outcome: Outcome) -> None:
        """Write the outcome, retrying while the database is unreachable; past the lease the
        job belongs to the queue again, and the fence refuses a late write anyway."""
        deadline = time.monotonic() + self.store.lease.total_seconds()
        delay = 0.5
        while True:
            try:
                await self._write_outcome(job, state, outcome)
                return
            except DATABASE_UNAVAILABLE as exc:
                if not is_unavailable(exc):
                    raise
                if time.monotonic() + delay > deadline:
                    log.exception("job %s attempt %s: could not record the outcome; the job "
                                  "returns to the queue when its lease expires", job.id,
                                  job.attempt)
                    raise LeaseLost from None
                log.warning("job %s: recording the outcome failed; retrying in %.1f s",
                            job.id, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _record_or_drop(self, job: ClaimedJob, state: RenderState,
                              outcome: Outcome) -> None:
        try:
            await self._record(job, state, outcome)
        except LeaseLost:
            log.warning("job %s attempt %s: a newer attempt owns the job; result dropped",
                        job.id, job.attempt)
            if isinstance(outcome, Rendered):
                _remove_files(outcome.clip)

    async def _write_outcome(self, job: ClaimedJob, state: RenderState, outcome: Outcome) -> None:
        if isinstance(outcome, Rendered):
            await self._store_clip(job, outcome)
            log.info("job %s: done in %.2f s", job.id, outcome.seconds)
        elif isinstance(outcome, Failed):
            await self.store.finish_failed(job.id, job.attempt, outcome.reason)
            log.info("job %s: failed: %s", job.id, outcome.reason)
        elif state.lease_lost:
            raise LeaseLost
        elif state.cancel_requested:
            await self.store.finish_cancelled(job.id, job.attempt)
            log.info("job %s: cancelled", job.id)
        else:
            await self.store.release(job.id, job.attempt)
            log.info("job %s: released back to the queue (worker stopping)", job.id)


    async def _store_clip(self, job: ClaimedJob, outcome: Rendered) -> None:
        """Record the clip in the job's fenced finishing transaction; with clips in the
        database the files' bytes go in that same transaction and the local files go."""
        clip = replace(outcome.clip, render_seconds=outcome.seconds)
        if not clip.in_database:
            await self.store.finish_succeeded(job.id, job.attempt, clip)
            return
        video, poster = Path(clip.video_path), Path(clip.poster_path)
        data = await asyncio.to_thread(lambda: (video.read_bytes(), poster.read_bytes()))
        named = replace(clip, video_path=video.name, poster_path=poster.name)
        await self.store.finish_succeeded(job.id, job.attempt, named, video_data=data[0],
                                          poster_data=data[1])
        _remove_files(clip)


@dataclass(frozen=True)
class Rendered:
    clip: ClipRecord
    seconds: float


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Stopped:
    pass


Outcome = Rendered | Failed | Stopped


def _remove_files(clip: ClipRecord) -> None:
    for path in (clip.video_path, clip.poster_path):
        Path(path).unlink(missing_ok=True)
