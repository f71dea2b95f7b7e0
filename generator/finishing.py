"""The second stage of a job: encode its rendered frames (on a CPU thread, while the model
renders the next job), store the clip and record the outcome in the job's fenced finishing
transaction, retrying while the database is unreachable."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from generator.backends.base import Frames
from generator.clip_folder import ClipFolder, is_storage_error, sweep_earlier_attempts
from generator.lease import RenderState
from storage.db import DATABASE_UNAVAILABLE, is_unavailable
from storage.errors import LeaseLost
from storage.records import ClaimedJob
from storage.store import Store
from videobot.media.clip import EncodedClip
from videobot.media.encode import encode_clip

log = logging.getLogger(__name__)

#: The one sentence a user sees when rendering breaks for a reason we did not foresee; the
#: traceback goes to the worker's log.
RENDER_FAILED = "the model failed while rendering this clip; the operator can find why in the log"
#: What a user sees when the clip was made but the server's disk would not take it.
STORAGE_FAILED = ("the clip was rendered, but the server could not store it (its disk is full "
                  "or cannot be written); the admins have been told; try again later")

#: Frames at `fps` to an MP4 and its poster, with an x264 speed preset (the worker's encoder;
#: tests give a slower one to see the stages overlap).
Encoder = Callable[[Frames, int, Path, Path, str], EncodedClip]


def encode(frames: Frames, fps: int, video: Path, poster: Path, speed: str) -> EncodedClip:
    """The worker's encoder: `encode_clip` with the preset's x264 speed."""
    return encode_clip(frames, fps, video, poster, speed=speed)


@dataclass(frozen=True)
class Rendered:
    """Frames the model finished, waiting to be encoded."""

    frames: Frames
    seconds: float


@dataclass(frozen=True)
class Encoded:
    clip: EncodedClip
    seconds: float


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Stopped:
    pass


Outcome = Rendered | Failed | Stopped


class Finisher:
    """Encodes, stores and records the outcome of one job at a time."""

    def __init__(self, store: Store, *, folder: ClipFolder, clips_in_database: bool,
                 encoder: Encoder = encode) -> None:
        self.store = store
        self.folder = folder
        self.clips_in_database = clips_in_database
        self.encoder = encoder

    async def finish(self, job: ClaimedJob, state: RenderState, outcome: Outcome,
                     speed: str) -> None:
        """Record `outcome` (encoding it first if it is a render); never raises for the job's
        own failures, which become its recorded outcome."""
        recorded: Encoded | Failed | Stopped
        if isinstance(outcome, Rendered):
            recorded = await self._encode(job, outcome, speed)
        else:
            recorded = outcome
        await self._record_or_drop(job, state, recorded)

    async def _encode(self, job: ClaimedJob, rendered: Rendered,
                      speed: str) -> Encoded | Failed | Stopped:
        if self.folder.blocked:
            log.info("job %s: handed back to the queue (the clips folder cannot be written)",
                     job.id)
            return Stopped()
        started = time.monotonic()
        try:
            clip = await asyncio.to_thread(self._encode_blocking, job, rendered.frames, speed)
        except OSError as exc:
            if not is_storage_error(exc):
                log.exception("job %s attempt %s: storing the clip failed", job.id, job.attempt)
                return Failed(RENDER_FAILED)
            await self.folder.failed(exc)
            log.warning("job %s: the clip could not be stored: %s", job.id, exc)
            return Failed(STORAGE_FAILED)
        except Exception:
            log.exception("job %s attempt %s: encoding failed", job.id, job.attempt)
            return Failed(RENDER_FAILED)
        encoding = time.monotonic() - started
        log.info("job %s: encoded in %.2f s", job.id, encoding)
        # The worker's own time on the clip, as it always was: render and encode.
        return Encoded(clip, rendered.seconds + encoding)

    def _encode_blocking(self, job: ClaimedJob, frames: Frames, speed: str) -> EncodedClip:
        # The attempt is in the name: a stale attempt can never overwrite the current one's.
        stem = self.folder.path / f"job-{job.id}-a{job.attempt}"
        self.folder.path.mkdir(parents=True, exist_ok=True)
        if job.attempt > 1:
            sweep_earlier_attempts(self.folder.path, job.id, job.attempt)
        encoded = self.encoder(frames, job.request.fps, stem.with_suffix(".mp4"),
                               stem.with_suffix(".jpg"), speed)
        return replace(encoded, in_database=self.clips_in_database)

    async def _record_or_drop(self, job: ClaimedJob, state: RenderState,
                              outcome: Encoded | Failed | Stopped) -> None:
        try:
            await self._record(job, state, outcome)
        except LeaseLost:
            log.warning("job %s attempt %s: a newer attempt owns the job; result dropped",
                        job.id, job.attempt)
            if isinstance(outcome, Encoded):
                _remove_files(outcome.clip)

    async def _record(self, job: ClaimedJob, state: RenderState,
                      outcome: Encoded | Failed | Stopped) -> None:
        """Write the outcome, retrying while the database is unreachable; past the lease the
        job belongs to the queue again, and the fence refuses a late write anyway."""
        deadline = time.monotonic() + self.store.context.lease.total_seconds()
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

    async def _write_outcome(self, job: ClaimedJob, state: RenderState,
                             outcome: Encoded | Failed | Stopped) -> None:
        if isinstance(outcome, Encoded):
            await self._store_clip(job, outcome)
            log.info("job %s: done in %.2f s", job.id, outcome.seconds)
        elif isinstance(outcome, Failed):
            await self.store.leases.finish_failed(job.id, job.attempt, outcome.reason)
            log.info("job %s: failed: %s", job.id, outcome.reason)
        elif state.lease_lost:
            raise LeaseLost
        elif state.cancel_requested:
            await self.store.leases.finish_cancelled(job.id, job.attempt)
            log.info("job %s: cancelled", job.id)
        else:
            await self.store.leases.release(job.id, job.attempt)
            log.info("job %s: released back to the queue", job.id)

    async def _store_clip(self, job: ClaimedJob, outcome: Encoded) -> None:
        """Record the clip in the job's fenced finishing transaction; with clips in the
        database the files' bytes go in that same transaction and the local files go."""
        clip = replace(outcome.clip, render_seconds=outcome.seconds)
        if not clip.in_database:
            await self.store.leases.finish_succeeded(job.id, job.attempt, clip)
            return
        video, poster = clip.video_path, clip.poster_path
        data = await asyncio.to_thread(lambda: (video.read_bytes(), poster.read_bytes()))
        named = replace(clip, video_path=Path(video.name), poster_path=Path(poster.name))
        await self.store.leases.finish_succeeded(job.id, job.attempt, named, video_data=data[0],
                                                 poster_data=data[1])
        _remove_files(clip)


def _remove_files(clip: EncodedClip) -> None:
    for path in (clip.video_path, clip.poster_path):
        path.unlink(missing_ok=True)
