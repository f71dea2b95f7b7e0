"""What the admin commands answer: quotas, bans, the queue, stats, the audit log, workers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.replies.jobs import what_it_is
from bot.core.replies.words import credits, gib, hours, plural, utc_moment
from storage.admin import AuditRecord, Stats
from storage.records import JobRecord
from storage.workers import WorkerRecord, WorkerRegistry

ADMIN_ONLY = "Sorry: only the bot's admins may do that."


ADMIN_QUOTA_USAGE = ("write /admin quota show|reset <user>, /admin quota set <user> <credits> "
                     "[--window 24h] or /admin quota default <credits>")


QUEUE_PAUSED = "The queue is paused: no new job starts; running jobs finish."


QUEUE_RESUMED = "The queue is running again."


NO_WORKERS = "No worker has registered yet."


def quota_set(user: str, amount: float, window_hours: float | None) -> str:
    window = f" per {window_hours:g} h" if window_hours else ""
    return f"{user} now has {credits(amount)}{window}."


def quota_reset(user: str) -> str:
    return f"{user} is back on the default allowance."


def quota_default_set(amount: float) -> str:
    return f"The default allowance is now {credits(amount)}."


def banned(user: str, cancelled: int) -> str:
    return (f"{user} is banned; {plural(cancelled, 'waiting job')} cancelled and "
            "refunded.")


def unbanned(user: str, was_banned: bool) -> str:
    return f"{user} is no longer banned." if was_banned else f"{user} was not banned."


def admin_queue_listing(jobs: Sequence[JobRecord]) -> str:
    """Every waiting and rendering job with its owner, for admins."""
    if not jobs:
        return "The queue is empty."
    lines = [f"{plural(len(jobs), 'job')} waiting or rendering:"]
    lines += [f"  job #{job.id} {job.status} for {job.user.key}: {what_it_is(job)[:60]}"
              for job in jobs]
    return "\n".join(lines)


def stats_report(stats: Stats, period: timedelta) -> str:
    """/admin stats: jobs by status, credits, render time, top users, failures, waits."""
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(stats.by_status.items()))
    top = ", ".join(f"{user} ({amount:g})" for user, amount in stats.top_users)
    rate = "n/a" if stats.failure_rate is None else f"{100 * stats.failure_rate:.0f}%"
    return "\n".join([
        f"Last {hours(period)}: {statuses or 'no jobs'}.",
        f"Credits used: {stats.credits:g}; render time: {stats.gpu_seconds:g} s.",
        f"Top users: {top or 'none'}.",
        f"Failure rate: {rate}; median wait: {_seconds(stats.median_wait_s)}; "
        f"median render: {_seconds(stats.median_render_s)}.",
        *(f"Worker {worker}: {problem} (since {utc_moment(since)})."
          for worker, problem, since in stats.worker_problems),
    ])


def audit_listing(entries: Sequence[AuditRecord]) -> str:
    """/admin audit: the newest admin actions first."""
    if not entries:
        return "No admin action recorded yet."
    lines = ["The last admin action:" if len(entries) == 1
             else f"The last {len(entries)} admin actions:"]
    for entry in entries:
        target = f" {entry.target}" if entry.target else ""
        detail = f" ({entry.detail})" if entry.detail else ""
        lines.append(f"  {utc_moment(entry.at)} {entry.actor}: {entry.action}{target}{detail}")
    return "\n".join(lines)


def workers_listing(workers: Sequence[WorkerRecord], now: datetime, lease: timedelta) -> str:
    """One line per registered worker: where, on what, doing what (gone, lost), heard when."""
    if not workers:
        return NO_WORKERS
    lines = [f"{plural(len(workers), 'worker')}:"]
    for worker in workers:
        model = f"; model {worker.loaded_preset} loaded" if worker.loaded_preset else ""
        memory = (f"; memory {gib(worker.memory.used_bytes)} of "
                  f"{gib(worker.memory.total_bytes)} GiB" if worker.memory else "")
        lines.append(f"  {worker.host} {worker.device} (pid {worker.pid}, v{worker.version}): "
                     f"{_worker_doing(worker, now, lease)}; presets {', '.join(worker.presets)}"
                     f"{model}{memory}")
    return "\n".join(lines)


def _worker_doing(worker: WorkerRecord, now: datetime, lease: timedelta) -> str:
    age = max(0, round((now - worker.heartbeat_at).total_seconds()))
    state = worker.state(now, lease)
    if state == WorkerRegistry.GONE:
        return f"gone (exited {age} s ago)"
    if state == WorkerRegistry.LOST:
        return f"lost (no heartbeat for {age} s: killed, or cut off from the database)"
    doing = f"rendering job #{worker.current_job_id}" if worker.current_job_id else state
    return f"{doing}; last heartbeat {age} s ago"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"
