"""Reroll, Same seed and Vary: a finished job's request queued again for its owner (or an
admin), with a new seed, the same one, or the same one and a new prompt.

Every rerun carries the job's picture: the bytes stored with it, checked and stored with the
new job as any picture sent is. A job whose picture retention removed is refused with a reply
that says so (a text-only render is not what was asked for). A rerun of an extension is its
source extended again (`Extensions`), with the extension's prompt or the new one.
"""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

from bot.core import replies
from bot.core.errors import CommandError
from bot.core.extending import Extensions, owned_job
from bot.core.parsing import VideoOptions
from bot.core.requests import rerun_options
from storage.inputs import job_image
from storage.records import ApiOrigin, JobRecord
from storage.store import Store
from videobot.users import UserRef

#: What submitting returns (`Core.Submission`).
S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)


class SubmitAgain(Protocol[S_co]):
    """`Core.submit_video`, as a rerun calls it."""

    async def __call__(self, user: UserRef, options: VideoOptions, *,
                       reply_target: dict[str, Any] | None = None,
                       image: bytes | None = None,
                       api: ApiOrigin | None = None) -> S_co:
        ...


class Reruns(Generic[S]):
    """Queues a job again through the one way into the queue (`submit`, or `extensions` for
    an extension), with its picture."""

    def __init__(self, *, store: Store, submit: SubmitAgain[S],
                 extensions: Extensions[S]) -> None:
        self.store = store
        self.submit = submit
        self.extensions = extensions

    async def source(self, user: UserRef, job_id: int, *, admin: bool) -> JobRecord:
        """Job `job_id` if `user` may queue it again (its owner, or an `admin`) and it can be
        (its picture, if it had one, still stored); else `CommandError` or `JobNotFound`."""
        job = await owned_job(self.store, user, job_id, admin=admin)
        await self._picture(job)
        return job

    async def again(self, user: UserRef, job_id: int, *, new_seed: bool = False,
                    prompt: str | None = None, admin: bool = False,
                    target: dict[str, Any] | None = None, api: ApiOrigin | None = None) -> S:
        """Queue job `job_id` again: a new seed (Reroll) or its own (Same seed), and its
        prompt or `prompt` (Vary and the API's remix; "" is refused). `api`: asked through the
        web front door (the key that asked, and the video remixed)."""
        if prompt is not None and not prompt.strip():
            raise CommandError(replies.VARY_EMPTY_PROMPT)
        job = await owned_job(self.store, user, job_id, admin=admin)
        target = target or {}
        if job.extends is not None:  # the source extended again
            return await self.extensions.again(user, job, job.extends, new_seed=new_seed,
                                               target=target, prompt=prompt or "", api=api)
        return await self.submit(user, rerun_options(job, new_seed=new_seed, prompt=prompt),
                                 reply_target=target, image=await self._picture(job), api=api)

    async def _picture(self, job: JobRecord) -> bytes | None:
        """The picture stored with `job` (None: it was sent without one); `CommandError`
        when retention (or a hand) removed it."""
        image = await job_image(self.store.engine, job.id)
        if image is None:
            return None
        if image.png is None:
            raise CommandError(replies.picture_gone(job.id))
        return image.png
