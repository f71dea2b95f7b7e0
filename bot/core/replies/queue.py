"""The queue, a user's credits and their history, as /queue, /quota and /history tell them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.replies.jobs import what_it_is
from bot.core.replies.words import credits, utc_moment
from storage.models import JobStatus
from storage.quotas import QuotaState
from storage.records import JobRecord

NO_JOBS = "you have no jobs yet; try /video a red ball bouncing"


QUEUE_EMPTY = "The queue is empty."


def queue_listing(jobs: Sequence[JobRecord], viewer_key: str) -> str:
    if not jobs:
        return QUEUE_EMPTY
    running = [j for j in jobs if j.status == JobStatus.RUNNING]
    waiting = [j for j in jobs if j.status == JobStatus.QUEUED]
    lines = [f"{len(running)} rendering, {len(waiting)} waiting."]
    for index, job in enumerate(running + waiting):
        mine = " (yours)" if job.user.key == viewer_key else ""
        where = ("rendering" if job.status == JobStatus.RUNNING
                 else f"position {index - len(running) + 1}")
        lines.append(f"  {where}: job #{job.id}{mine}")
    return "\n".join(lines)


def quota_summary(state: QuotaState, whose: str = "You") -> str:
    """/quota: used, allowance, left, and when credits come back."""
    window = "each day" if state.daily_reset else f"per {state.window_hours:g} h"
    have = "have" if whose == "You" else "has"
    lines = [f"{whose} {have} {credits(state.left)} left: {state.used:g} used of "
             f"{state.credits:g} {window}."]
    if state.next_credit_at is not None:
        lines.append(f"Credits come back from {utc_moment(state.next_credit_at)}.")
    return "\n".join(lines)


def history_listing(jobs: Sequence[JobRecord]) -> str:
    """/history: the user's last jobs, newest first, with status and cost."""
    if not jobs:
        return "You have no jobs yet; try /video a red ball bouncing"
    lines = ["Your last job:" if len(jobs) == 1 else f"Your last {len(jobs)} jobs:"]
    for job in jobs:
        lines.append(f"  #{job.id} {job.status}, {_job_cost(job)}: {what_it_is(job)[:50]}")
    return "\n".join(lines)


def _job_cost(job: JobRecord) -> str:  # `2 credits`, `free`, `1 credit refunded`
    return "free" if not job.cost else credits(job.cost) + (" refunded" if job.refunded else "")
