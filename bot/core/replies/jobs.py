"""What a user reads about one job: its acknowledgement, progress, status, caption and final
word."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.replies.extending import extends_line
from bot.core.replies.words import credits
from storage.models import JobStatus
from storage.records import JobRecord
from videobot.params import RenderRequest

BAR_WIDTH = 10


def parameters_line(request: RenderRequest) -> str:
    return (
        f"{request.frames} frames, {request.width}x{request.height} @ {request.fps} fps, "
        f"{request.steps} steps, guidance {request.guidance:g}, seed {request.seed}, "
        f"preset {request.preset}"
    )


def acknowledgement(job: JobRecord, position: int | None,
                    credits_left: float | None = None, notice: str = "") -> str:
    lines = [f"Job #{job.id} queued{_position_words(position)}.",
             f"Prompt: {job.request.prompt}",
             parameters_line(job.request), *_extends(job)]
    if credits_left is not None:
        lines.append(f"Cost: {credits(job.cost)}; {credits(credits_left)} left.")
    lines += [f"Note: {note}" for note in job.notes]
    if notice:
        lines.append(notice)
    return "\n".join(lines)


def describe_acknowledgement(job: JobRecord, position: int | None,
                             credits_left: float) -> str:
    """/describe: the describe job queued, and what it cost."""
    return (f"Job #{job.id} queued{_position_words(position)}: describing job "
            f"#{job.source_job_id}.\nCost: {credits(job.cost)}; {credits(credits_left)} left.")


def progress(job: JobRecord, position: int | None, now: datetime, *,
             counts_steps: bool = True) -> str:
    """One line on where a waiting or rendering job is (a model without steps: a bar only)."""
    if job.status == JobStatus.QUEUED:
        return f"Job #{job.id}: waiting{_position_words(position)}."
    if job.describes:
        return f"Job #{job.id}: describing job #{job.source_job_id}…"
    step, total = job.progress_step, max(job.progress_total, 1)
    if step <= 0:
        return f"Job #{job.id}: rendering…"
    percent = int(100 * step / total)
    filled = BAR_WIDTH * step // total
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    steps = f"step {step}/{total} " if counts_steps else ""
    return f"Job #{job.id}: rendering [{bar}] {steps}{percent}%{_eta(job, now)}"


def status(job: JobRecord, position: int | None, now: datetime, *,
           counts_steps: bool = True) -> str:
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        head = progress(job, position, now, counts_steps=counts_steps)
    elif job.status == JobStatus.SUCCEEDED:
        head = f"Job #{job.id}: done" + (" and delivered." if job.delivered_at else ".")
    else:
        head = finished(job)
    if job.describes:
        return f"{head}\n{what_it_is(job)}"
    return f"{head}\nPrompt: {job.request.prompt}\n{parameters_line(job.request)}"


def what_it_is(job: JobRecord) -> str:
    """A job in a few words, for listings: its prompt, or what it describes."""
    if job.describes:
        return f"a description of job #{job.source_job_id}"
    return job.request.prompt


def caption(job: JobRecord) -> str:
    """What goes with a delivered clip: the prompt and what reproduces it."""
    lines = [job.request.prompt, parameters_line(job.request), *_extends(job)]
    lines += [f"Note: {note}" for note in job.notes]
    return "\n".join(lines)


def upload_caption(job: JobRecord, upload_note: str = "") -> str:
    """`caption`, plus a note when the file was re-encoded to fit the chat's upload limit."""
    return caption(job) + (f"\nNote: {upload_note}" if upload_note else "")


def finished(job: JobRecord) -> str:
    """The final word on a job that did not produce a clip (or the console's result line)."""
    if job.status == JobStatus.SUCCEEDED and job.describes:
        return description(job.source_job_id or 0, job.result_text or "")
    if job.status == JobStatus.SUCCEEDED and job.clip is not None:
        return (f"Job #{job.id} done: {job.clip.video_path}\n"
                f"Poster: {job.clip.poster_path}\n{caption(job)}")
    if job.status == JobStatus.CANCELLED:
        return f"Job #{job.id} was cancelled{_refund_words(job)}."
    return f"Job #{job.id} failed: {job.error or 'no reason was recorded'}."


def cancel_requested(job: JobRecord) -> str:
    if job.status == JobStatus.CANCELLED:
        return f"Job #{job.id} cancelled{_refund_words(job)}."
    return f"Job #{job.id}: stopping the render…"


def clip_too_large(job: JobRecord) -> str:
    """The final word on a clip that no re-encoding makes fit the chat's upload limit."""
    return (f"Job #{job.id} finished, but even re-encoded the clip is too large to post "
            "in this chat.")


def description(job_id: int, sentence: str) -> str:
    """/describe's answer: what the captioner sees in job `job_id`'s clip."""
    return f"Job #{job_id} looks like: {sentence}."


def demo_unknown_words(unknown: Sequence[str]) -> str:
    """The note on a demo-model prompt with words the model does not know."""
    return (f"the demo model only knows shapes, colours and motions, so it ignored: "
            f"{', '.join(unknown)}. For real models see 'Real models' in the README")


def options_ignored(preset: str, options: Sequence[str]) -> str:
    """The note on a request with options its preset's model does not use."""
    return f"preset {preset} does not use --{', --'.join(options)}: ignored, and not charged"


def _refund_words(job: JobRecord) -> str:
    return f"; {credits(job.cost)} refunded" if job.refunded and job.cost else ""


def _position_words(position: int | None) -> str:
    if position is None:
        return ""
    return " — next in line" if position == 1 else f" — position {position} in the queue"


def _eta(job: JobRecord, now: datetime) -> str:
    if job.started_at is None or job.progress_step <= 0:
        return ""
    elapsed = (now - job.started_at).total_seconds()
    remaining = elapsed / job.progress_step * (job.progress_total - job.progress_step)
    return f", ETA {max(0, round(remaining))} s"


def _extends(job: JobRecord) -> list[str]:
    """The line saying which clip an extension continues; none for other jobs."""
    return [extends_line(job.extends)] if job.extends is not None else []
