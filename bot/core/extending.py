"""`/extend [job] [prompt]` and the Extend button: which clip is continued, whether it may be,
and the request that continues it.

An extension is a new job with the source's settings (preset, size, fps, seed, steps, ...),
its prompt or a new one, and the preset's own frame count: it is charged as a new clip of
that added length. The worker renders it from the source's last frame and delivers one clip,
the original followed by the continuation (generator/extending.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from bot.core import replies
from bot.core.errors import CommandError
from bot.core.parsing import VideoOptions
from bot.core.requests import build_request
from storage.models import JobStatus
from storage.records import ApiOrigin, JobRecord
from storage.store import Store
from videobot.config import Config
from videobot.extending import can_extend, extended_frames, extending_presets, max_seconds
from videobot.params import RenderRequest
from videobot.users import UserRef

#: How far back `/extend` without a job number looks for the user's latest clip.
LATEST_JOBS = 20


@dataclass(frozen=True)
class ExtendArgs:
    """What `/extend` was given: a job number (None: the latest clip) and a new prompt
    ("": the source's own)."""

    job_id: int | None
    prompt: str


def parse_extend(args: str) -> ExtendArgs:
    """`[job] [prompt]`: a first word that is a number (`12`, `#12`) names the job."""
    first, _, rest = args.strip().partition(" ")
    number = first.removeprefix("#")
    if first.startswith("#") and not number.isdecimal():
        raise CommandError(replies.extend_bad_job(first))
    if number.isdecimal():
        if len(number) > 18:
            raise CommandError(replies.extend_bad_job(first))
        return ExtendArgs(int(number), rest.strip())
    return ExtendArgs(None, args.strip())


async def latest_clip(store: Store, user: UserRef) -> JobRecord:
    """The user's latest job that made a clip."""
    for job in await store.jobs.jobs_of(user, limit=LATEST_JOBS):
        if job.status == JobStatus.SUCCEEDED:
            return job
    raise CommandError(replies.NO_CLIP_TO_EXTEND)


def extension_options(source: JobRecord, prompt: str = "", *, seed: int | None = None,
                      new_seed: bool = False, frames: int | None = None) -> VideoOptions:
    """The source's settings and seed (or `seed`, or with `new_seed` a random one), its
    prompt unless a new one is given, and the preset's frame count (or `frames`: the
    continuation's, which opens on the source's last frame)."""
    options = {**source.request.to_dict()}
    old_prompt = options.pop("prompt")
    options.pop("frames")
    if frames is not None:
        options["frames"] = frames
    if seed is not None:
        options["seed"] = seed
    if new_seed:
        options.pop("seed")
    return VideoOptions(prompt or old_prompt, options)


async def check_extendable(source: JobRecord, request: RenderRequest, config: Config) -> None:
    """Refuse (`CommandError`) to extend a job with no clip (or whose clip is gone), of a
    preset that cannot continue a clip, or whose extension would pass the preset's
    `max_seconds`."""
    clip = source.clip
    if clip is None:
        if source.status == JobStatus.SUCCEEDED:
            raise CommandError(replies.clip_gone(source.id))
        raise CommandError(replies.no_clip_yet(source.id, source.status))
    if not clip.in_database and not await asyncio.to_thread(clip.video_path.is_file):
        raise CommandError(replies.clip_gone(source.id))
    preset = config.preset(request.preset)
    if not can_extend(preset):
        raise CommandError(replies.cannot_extend(
            preset.name, extending_presets(config.presets.values())))
    total = extended_frames(clip.frames, request.frames) / request.fps
    limit = max_seconds(preset)
    if total > limit + 1e-9:
        raise CommandError(replies.extend_too_long(
            source.id, clip.frames / request.fps, (request.frames - 1) / request.fps, limit,
            preset.name))


#: What submitting returns (`Core.Submission`).
S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)


class Submit(Protocol[S_co]):
    """`Core.submit_video`, as an extension calls it."""

    async def __call__(self, user: UserRef, options: VideoOptions, *,
                       reply_target: dict[str, Any] | None = None,
                       api: ApiOrigin | None = None, notes: Sequence[str] = (),
                       extends: int | None = None) -> S_co:
        ...


class Extensions(Generic[S]):
    """Queues extensions through the one way into the queue (`submit`), after their own
    checks."""

    def __init__(self, *, store: Store, config: Config, submit: Submit[S]) -> None:
        self.store = store
        self.config = config
        self.submit = submit

    async def command(self, user: UserRef, args: str, target: dict[str, Any]) -> S:
        """`/extend [job] [prompt]`: the user's own job, or their latest clip."""
        asked = parse_extend(args)
        return await self.typed(user, asked.job_id, asked.prompt, admin=False, target=target)

    async def typed(self, user: UserRef, job_id: int | None, prompt: str, *, admin: bool,
                    target: dict[str, Any]) -> S:
        """Extend job `job_id` (None: the user's latest clip), which `user` owns or, as an
        `admin` (pressing the Extend button), anyone's; `prompt` "": the source's own."""
        if job_id is None:
            source = await latest_clip(self.store, user)
        else:
            source = await owned_job(self.store, user, job_id, admin=admin)
        return await self.queue(user, source, extension_options(source, prompt.strip()), target)

    async def of_length(self, user: UserRef, source: JobRecord, prompt: str, *,
                        frames: int | None, target: dict[str, Any], api: ApiOrigin,
                        notes: Sequence[str] = ()) -> S:
        """The HTTP API's extension: `source` (looked up as the caller may see it) continued
        by a render of `frames` frames (None: the preset's own), with `prompt` ("": the
        source's own); `notes`: what the front door changed, said first."""
        options = extension_options(source, prompt.strip(), frames=frames)
        return await self.queue(user, source, options, target, api=api, notes=notes)

    async def again(self, user: UserRef, extension: JobRecord, source_id: int, *,
                    new_seed: bool, target: dict[str, Any], prompt: str = "",
                    api: ApiOrigin | None = None) -> S:
        """Reroll, Same seed, Vary or an API remix of an extension (of job `source_id`): the
        source extended again by as many frames, with the extension's prompt (or the new
        `prompt`) and a new seed or its own."""
        source = await self.store.jobs.require(source_id)
        options = extension_options(source, prompt or extension.request.prompt,
                                    seed=extension.request.seed, new_seed=new_seed,
                                    frames=extension.request.frames)
        return await self.queue(user, source, options, target, api=api)

    async def queue(self, user: UserRef, source: JobRecord, options: VideoOptions,
                    target: dict[str, Any], *, api: ApiOrigin | None = None,
                    notes: Sequence[str] = ()) -> S:
        """Check and queue the extension of `source` asked by `options`
        (`extension_options`)."""
        request, _ = build_request(options, self.config)
        await check_extendable(source, request, self.config)
        return await self.submit(user, options, reply_target=target, api=api, notes=notes,
                                 extends=source.id)


async def owned_job(store: Store, user: UserRef, job_id: int, *, admin: bool) -> JobRecord:
    """Job `job_id`, if `user` owns it or is an admin; else `CommandError`."""
    job = await store.jobs.require(job_id)
    if not admin and job.user.key != user.key:
        raise CommandError(f"job #{job_id} belongs to someone else")
    return job
