"""The job a command names (`/status 12`, `/cancel #12`), or the user's latest one."""

from __future__ import annotations

from bot.core import replies
from bot.core.errors import CommandError
from storage.records import JobRecord
from storage.store import Store
from videobot.users import UserRef


async def job_named(store: Store, user: UserRef, args: str, command: str, *,
                    active_only: bool, kind: str | None = None) -> JobRecord:
    """The job `args` names (`12` or `#12`), which must be `user`'s, or the user's latest one
    (of `kind`; `active_only`: waiting or rendering); `CommandError` with the reason."""
    text = args.strip().removeprefix("#")
    if text:
        if not text.isdecimal() or len(text) > 18:
            raise CommandError(
                f"{args.strip()!r} is not a job number; write e.g. /{command} 12"
            )
        job = await store.jobs.require(int(text))
        if job.user.key != user.key:
            raise CommandError(f"job #{job.id} belongs to someone else")
        return job
    jobs = await store.jobs.jobs_of(user, active_only=active_only, limit=1, kind=kind)
    if not jobs:
        if active_only:
            raise CommandError("you have no waiting or rendering job to cancel")
        raise CommandError(replies.NO_JOBS)
    return jobs[0]
