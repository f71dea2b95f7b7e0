"""Describe jobs in the worker: read the source job's clip (its file, or its bytes from the
database, so that a worker on another host can answer), caption it with the preset's
backend's captioner, and finish the job with the text, fenced like a clip."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable, Iterable
from functools import partial

from sqlalchemy.exc import DBAPIError

from generator.lease import LeaseKeeper, RenderState
from storage.errors import LeaseLost
from storage.previews import PreviewStore
from storage.records import ClaimedJob
from storage.store import Store
from videobot.captioning import describing_presets
from videobot.config import Config
from videobot.media.frames import Frames, read_frames

log = logging.getLogger(__name__)

#: A captioner: a clip's frames (T, H, W, 3) to a sentence.
Captioner = Callable[[Frames], str]

#: The one sentence a user sees when captioning breaks for a reason we did not foresee; the
#: traceback goes to the worker's log.
DESCRIBE_FAILED = "the captioner failed on this clip; the operator can find why in the log"


#: The log line of a describe job the database failed: another attempt takes it up.
LEFT_TO_THE_LEASE = ("job %s attempt %s: the database failed while describing; the job "
                     "returns to the queue when its lease expires")


class CannotDescribe(Exception):
    """Why a describe job cannot be answered, in words for its user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _demo_captioner(frames: Frames) -> str:
    # Imported when first used: loading torch is the worker's business, not its import's.
    from generator.backends.demo.captioner import describe

    return describe(frames)


#: The captioner of each backend that has one (videobot.captioning names these backends).
CAPTIONERS: dict[str, Captioner] = {"demo": _demo_captioner}


def captioning_presets(config: Config, presets: Iterable[str]) -> tuple[str, ...]:
    """Those of `presets` whose describe jobs this worker can answer."""
    return tuple(name for name in describing_presets(config, presets)
                 if config.presets[name].backend in CAPTIONERS)


async def describe_claimed(store: Store, config: Config, job: ClaimedJob, *,
                           previews: PreviewStore) -> None:
    """Answer a claimed describe job under its lease: its caption, or a failure that says
    why (the credits then come back)."""
    state = RenderState(total=job.request.steps)
    keeper = LeaseKeeper(store, job, state, previews=previews,
                         heartbeat_seconds=config.queue.heartbeat_seconds)
    keeper.start()
    try:
        record = await _outcome(store, config, job)
    except DBAPIError:
        log.exception(LEFT_TO_THE_LEASE, job.id, job.attempt)
        return
    finally:
        await keeper.stop()
    await _record(job, record)


async def _outcome(store: Store, config: Config,
                   job: ClaimedJob) -> Callable[[], Awaitable[None]]:
    """The write that records the job's outcome: its caption, or why there is none."""
    leases = store.leases
    try:
        text = await _caption(store, config, job)
    except CannotDescribe as exc:
        return partial(leases.finish_failed, job.id, job.attempt, exc.reason)
    except DBAPIError:
        raise  # the database, not the clip: not the user's failure
    except Exception:
        log.exception("job %s attempt %s: describing failed", job.id, job.attempt)
        return partial(leases.finish_failed, job.id, job.attempt, DESCRIBE_FAILED)
    log.info("job %s: described job %s", job.id, job.source_job_id)
    return partial(leases.finish_described, job.id, job.attempt, text)


async def _record(job: ClaimedJob, record: Callable[[], Awaitable[None]]) -> None:
    """Record the outcome (fenced: a worker that lost its lease records nothing)."""
    try:
        await record()
    except LeaseLost:
        log.warning("job %s attempt %s: lease lost before the caption was recorded",
                    job.id, job.attempt)
    except DBAPIError:
        log.exception(LEFT_TO_THE_LEASE, job.id, job.attempt)


async def _caption(store: Store, config: Config, job: ClaimedJob) -> str:
    preset = config.presets.get(job.request.preset)
    captioner = CAPTIONERS.get(preset.backend) if preset is not None else None
    if captioner is None:
        raise CannotDescribe(f"the preset {job.request.preset!r} has no captioner here")
    frames = await _source_frames(store, job)
    return await asyncio.to_thread(captioner, frames)


async def _source_frames(store: Store, job: ClaimedJob) -> Frames:
    """The frames of the clip the job describes: from the database when they travel there,
    else from the file."""
    source_id = job.source_job_id
    source = await store.jobs.get(source_id) if source_id is not None else None
    if source is None or source.clip is None:
        raise CannotDescribe(f"job #{source_id} has no clip to describe")
    if source.clip.in_database:
        data = await store.jobs.clip_data(source.id)
        if data is None:
            raise CannotDescribe(f"job #{source.id}'s clip is no longer stored")
        return await asyncio.to_thread(read_frames, io.BytesIO(data[0]))
    try:
        return await asyncio.to_thread(read_frames, source.clip.video_path)
    except FileNotFoundError:
        raise CannotDescribe(f"job #{source.id}'s clip is no longer stored") from None

