"""The generator worker loop: claim, render under a heartbeat lease, then finish (encode,
store, record: fenced) while the next job renders.

One model stays resident (`ResidentBackend`), loaded and warmed up before the first claim.
Jobs go through two stages: the render, on a thread that keeps the device busy, and the
finish (`Finisher`: encode on the CPU's cores, store, record), on another. Job N is finished
while job N+1 renders, so the device never waits on the CPU; at most one rendered clip waits
for the finish stage, which keeps memory bounded. Each job's lease is kept alive from its
claim until its outcome is recorded, so a crash at any point leaves every job in hand to be
claimed again. The event loop renews the leases, writes progress and previews, watches for
cancels and stops a render that runs past its preset's time limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from generator.backends.base import (
    Frames,
    GenerationFailed,
    GenerationStopped,
    renders_previews,
)
from generator.backends.loader import ResidentBackend
from generator.clip_folder import ClipFolder
from generator.describing import captioning_presets, describe_claimed
from generator.extending import read_source, render_extension
from generator.finishing import (
    RENDER_FAILED,
    STORAGE_FAILED,
    Encoder,
    Failed,
    Finisher,
    Outcome,
    Rendered,
    Stopped,
    encode,
)
from generator.job_image import decode_job_image, read_job_image
from generator.lease import LeaseKeeper, RenderState
from storage.db import DATABASE_UNAVAILABLE, is_unavailable
from storage.inputs import JobImage
from storage.models import JobKind
from storage.previews import PreviewStore
from storage.records import ClaimedJob
from storage.store import Store
from storage.wakeup import JOBS, Listener
from storage.workers import WorkerRegistry
from videobot.config import Config, PresetConfig
from videobot.image_presets import image_mode
from videobot.limits import LimitExceeded, check_request
from videobot.request_builder import request_from_preset

log = logging.getLogger(__name__)

__all__ = ["RENDER_FAILED", "STORAGE_FAILED", "RenderState", "Worker"]


class Worker:
    """One generator process's loop. `run(burst=True)` drains the queue and returns."""

    def __init__(
        self,
        *,
        store: Store,
        config: Config,
        backends: ResidentBackend,
        worker_id: str,
        clips_dir: Path,
        encoder: Encoder = encode,
    ) -> None:
        self.store = store
        self.config = config
        self.backends = backends
        self.worker_id = worker_id
        self.clips_dir = clips_dir
        self.clips_in_database = config.storage.clips_in_database(config.database_url)
        self.stopping = asyncio.Event()
        #: The job rendering now, and its render's state.
        self.current: RenderState | None = None
        self._rendering_job_id: int | None = None
        #: The job being finished (encoded, stored) meanwhile.
        self._finishing: asyncio.Task[None] | None = None
        self._finishing_job_id: int | None = None
        self._wakeup: Listener | None = None
        self._retry = False
        self.served = config.worker.served_presets(config)
        registry = WorkerRegistry(store.engine, clock=store.clock)
        self.clip_folder = ClipFolder(clips_dir, registry=registry, worker_id=worker_id)
        self.previews = PreviewStore(store.context, folder=clips_dir,
                                     in_database=self.clips_in_database)
        self.finisher = Finisher(store, folder=self.clip_folder,
                                 clips_in_database=self.clips_in_database, encoder=encoder)

    @property
    def current_job_id(self) -> int | None:
        """The job this worker works on: the one rendering, else the one finishing."""
        return self._rendering_job_id or self._finishing_job_id

    def claimable_presets(self) -> tuple[str, ...]:
        """The presets whose jobs this worker takes now: all it serves if it may switch
        models, else only its resident one."""
        return self.config.worker.claimable(self.config, self.backends.preset)

    def describing_presets(self) -> tuple[str, ...]:
        """The presets whose describe jobs this worker takes: those it takes that caption."""
        return captioning_presets(self.config, self.claimable_presets())

    def _affinity(self) -> dict[str, Any]:
        """How a worker that may switch models favours the one it has loaded (see
        `Store.claim_next_job`); nothing for a worker that keeps one model."""
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
        request = request_from_preset(preset, "warm-up", {"steps": 1, "seed": 0})
        # An image-to-video model warms up on a plain grey picture.
        extra = ({"image": np.full((preset.height, preset.width, 3), 128, np.uint8)}
                 if image_mode(preset) == "required" else {})
        await asyncio.to_thread(backend.generate, request, lambda _s, _t: None, lambda: False,
                                **extra)
        log.info("preset %s warmed up in %.1f s", preset.name, time.monotonic() - started)

    def request_stop(self) -> None:
        """Stop claiming; the jobs in hand finish (see `abandon_current` for the hurry)."""
        self.stopping.set()
        if self._wakeup is not None:
            self._wakeup.poke()

    def abandon_current(self) -> None:
        """Interrupt the render in hand so that its job is released back to the queue (a
        job already rendered is still encoded and stored: that takes seconds at most)."""
        if self.current is not None:
            self.current.stop.set()

    async def run(self, *, burst: bool = False) -> int:
        """Process jobs until stopped (or, in burst mode, until the queue is empty); return
        how many jobs this worker took."""
        taken = 0
        async with self.store.signals.listener(JOBS) as wakeup:
            self._wakeup = wakeup
            try:
                while not self.stopping.is_set():
                    job = await self._next_job(wakeup, burst)
                    if job is not None:
                        await self.process(job)
                        taken += 1
                    elif burst and not self._retry:
                        break
            finally:
                await self.finish_pending()
        return taken

    async def _next_job(self, wakeup: Listener, burst: bool) -> ClaimedJob | None:
        """Claim the next job; None after waiting a poll interval (at most) when there is
        none, when the database is unreachable (then `_retry` is set), or while the clips
        folder cannot be written (then nothing is claimed at all)."""
        poll = self.config.queue.poll_interval_seconds
        self._retry = False
        if not await self.clip_folder.ready():
            if not burst:
                await wakeup.wait(poll)
            return None
        try:
            job = await self.store.leases.claim_next_job(
                self.worker_id, self.claimable_presets(), describes=self.describing_presets(),
                **self._affinity())
        except DATABASE_UNAVAILABLE as exc:
            if not is_unavailable(exc):
                raise
            log.warning("claiming failed (database unreachable?); retrying", exc_info=True)
            self._retry = True
            await wakeup.wait(poll)
            return None
        if job is None and not burst:
            await wakeup.wait(poll)
        return job

    async def process(self, job: ClaimedJob) -> None:
        """Render one claimed job, then hand it to the finish stage and return: the next job
        renders while this one is encoded. Its lease is kept until its outcome is recorded."""
        log.info("job %s attempt %s: claimed by %s", job.id, job.attempt, self.worker_id)
        if job.kind == JobKind.DESCRIBE:  # a caption, not a render: answered in a moment
            await describe_claimed(self.store, self.config, job, previews=self.previews)
            return
        state = RenderState(total=job.request.steps)
        keeper = LeaseKeeper(self.store, job, state, previews=self.previews,
                             heartbeat_seconds=self.config.queue.heartbeat_seconds)
        keeper.start()
        self.current, self._rendering_job_id = state, job.id
        try:
            outcome = await self._render(job, state)
        except BaseException:
            await keeper.stop()
            raise
        finally:
            self.current, self._rendering_job_id = None, None
        # At most one rendered clip waits: this one, until the job before is finished.
        await self.finish_pending()
        speed = self._x264_preset(job)
        self._finishing_job_id = job.id
        self._finishing = asyncio.create_task(self._finish(job, state, keeper, outcome, speed),
                                              name=f"finish job {job.id}")

    async def _finish(self, job: ClaimedJob, state: RenderState, keeper: LeaseKeeper,
                      outcome: Outcome, speed: str) -> None:
        try:
            await self.finisher.finish(job, state, outcome, speed)
        except Exception:
            log.exception("job %s attempt %s: finishing failed; the job returns to the queue "
                          "when its lease expires", job.id, job.attempt)
        finally:
            await keeper.stop()
            self._finishing_job_id = None

    async def finish_pending(self) -> None:
        """Wait until the job being finished is recorded."""
        if self._finishing is not None:
            await self._finishing
            self._finishing = None

    async def _render(self, job: ClaimedJob, state: RenderState) -> Outcome:
        preset = self.config.presets.get(job.request.preset)
        if preset is None:
            return Failed(f"the preset {job.request.preset!r} is no longer configured")
        try:
            check_request(job.request, preset, self.config.limits)
        except LimitExceeded as exc:
            return Failed(str(exc))
        try:
            image = await read_job_image(self.store.engine, job.id)
            # An extension (/extend) renders on from the clip it extends.
            source = None if job.extends is None else await read_source(self.store,
                                                                         job.extends)
        except GenerationFailed as exc:
            return Failed(exc.reason)
        started = time.monotonic()
        limit = asyncio.get_running_loop().call_later(preset.time_limit_seconds,
                                                      state.time_out)
        try:
            frames = await asyncio.to_thread(self._render_blocking, job, state, preset, image,
                                             source)
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
        seconds = time.monotonic() - started
        log.info("job %s: rendered in %.2f s; encoding", job.id, seconds)
        return Rendered(frames, seconds)

    def _render_blocking(self, job: ClaimedJob, state: RenderState, preset: PresetConfig,
                         image: JobImage | None, source: Frames | None) -> Frames:
        backend = self.backends.get(preset)
        # Only a job sent with a picture passes `image` (a backend may predate pictures).
        extra: dict[str, Any] = {}
        if image is not None:
            extra["image"] = decode_job_image(image, job.request)
        if preset.preview_every_steps and renders_previews(backend):
            extra["on_preview"] = state.on_preview
        if source is not None:
            frames = render_extension(backend, job.request, source, state.on_step,
                                      state.stop.is_set, **extra)
        else:
            frames = backend.generate(job.request, state.on_step, state.stop.is_set, **extra)
        if state.stop.is_set():
            raise GenerationStopped
        return frames

    def _x264_preset(self, job: ClaimedJob) -> str:
        preset = self.config.presets.get(job.request.preset)
        return preset.x264_preset if preset is not None else PresetConfig.x264_preset
