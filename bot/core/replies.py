"""Every sentence a user sees — acknowledgements, progress, results, errors, help — built in
one place, so that they read the same on every platform."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from storage.admin import AuditRecord, Stats
from storage.api_keys import ApiKeyRecord
from storage.models import JobStatus
from storage.quotas import QuotaState
from storage.records import JobRecord
from storage.workers import WorkerRecord, WorkerRegistry
from videobot.params import RenderRequest

BAR_WIDTH = 10

HELP = """\
videobot turns text into short video clips.

/video <prompt> [options]  queue a clip, e.g. /video a red ball bouncing --frames 16 --seed 7
    options: --frames N  --fps N  --width N  --height N  --steps N  --guidance X
             --seed N  --negative "text to avoid"  --preset NAME
/status [job]   where a job is (default: your latest)
/cancel [job]   cancel a job (default: your latest waiting or rendering one)
/queue          what is waiting and rendering
/quota          your credits: used, left, and when they come back
/history        your last 10 jobs with status and cost
/describe [job] what the demo model's captioner sees in a finished clip (video to text)
/apikey         a key for the HTTP API (in a private chat); /apikey list | revoke <n>
/help           this text"""

ADMIN_HELP = """\
Admin commands (the same in every chat and as `videobot admin ...` in the shell):
/admin quota show <user>                    a user's credits
/admin quota set <user> <credits> [--window 24h]   a user's own allowance
/admin quota reset <user>                   back to the default allowance
/admin quota default <credits>              the allowance of everyone else
/admin ban <user> [reason]                  refuse a user; their waiting jobs are cancelled
/admin unban <user>
/admin queue                                every waiting and rendering job
/admin cancel <job>                         cancel any job
/admin pause | resume                       stop or restart starting jobs
/admin stats [--since 24h]                  usage numbers
/admin audit                                the last admin actions
/admin workers                              the generator processes, their jobs, heartbeats
/admin apikey create <user> | list | revoke <n>   keys of the HTTP API (create: --admin)
Users: <platform>:<id>, e.g. telegram:12345, or a numeric id on this platform."""

ADMIN_QUOTA_USAGE = ("write /admin quota show|reset <user>, /admin quota set <user> <credits> "
                     "[--window 24h] or /admin quota default <credits>")
QUEUE_PAUSED = "The queue is paused: no new job starts; running jobs finish."
QUEUE_RESUMED = "The queue is running again."
PROMPT_REFUSED = "that prompt is not allowed here; the admins have been told"

NO_JOBS = "you have no jobs yet; try /video a red ball bouncing"
#: The console chat's first line on a terminal, and what its /help adds.
CONSOLE_READY = "videobot console chat: /help lists the commands; /quit (or Ctrl-D) leaves."
CONSOLE_HELP = "/quit, /exit    leave the console chat (Ctrl-D too)"
NOT_A_COMMAND = "Commands start with /. Try /video a red ball bouncing, or /help."


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
             parameters_line(job.request)]
    if credits_left is not None:
        lines.append(f"Cost: {credits(job.cost)}; {credits(credits_left)} left.")
    lines += [f"Note: {note}" for note in job.notes]
    if notice:
        lines.append(notice)
    return "\n".join(lines)


def nsfw_only(preset: str) -> str:
    return (f"the preset {preset} is for age-restricted channels only; use it there, or "
            "choose another preset")


def description(job: JobRecord, sentence: str) -> str:
    """/describe: what the captioner sees in a clip."""
    return f"Job #{job.id} looks like: {sentence}."


def demo_unknown_words(unknown: Sequence[str]) -> str:
    """The note on a demo-model prompt with words the model does not know."""
    return (f"the demo model only knows shapes, colours and motions, so it ignored: "
            f"{', '.join(unknown)}. For real models see 'Real models' in the README")


def options_ignored(preset: str, options: Sequence[str]) -> str:
    """The note on a request with options its preset's model does not use."""
    return f"preset {preset} does not use --{', --'.join(options)}: ignored, and not charged"


def credits(amount: float) -> str:
    return f"{amount:g} credit" + ("" if amount == 1 else "s")


def quota_summary(state: QuotaState, whose: str = "You") -> str:
    """/quota: used, allowance, left, and when credits come back."""
    window = "each day" if state.daily_reset else f"per {state.window_hours:g} h"
    have = "have" if whose == "You" else "has"
    lines = [f"{whose} {have} {credits(state.left)} left: {state.used:g} used of "
             f"{state.credits:g} {window}."]
    if state.next_credit_at is not None:
        lines.append(f"Credits come back from {_when(state.next_credit_at)}.")
    return "\n".join(lines)


def history_listing(jobs: Sequence[JobRecord]) -> str:
    """/history: the user's last jobs, newest first, with status and cost."""
    if not jobs:
        return "You have no jobs yet; try /video a red ball bouncing"
    lines = ["Your last job:" if len(jobs) == 1 else f"Your last {len(jobs)} jobs:"]
    for job in jobs:
        lines.append(f"  #{job.id} {job.status}, {_job_cost(job)}: {job.request.prompt[:50]}")
    return "\n".join(lines)


def _job_cost(job: JobRecord) -> str:  # `2 credits`, `free`, `1 credit refunded`
    return "free" if not job.cost else credits(job.cost) + (" refunded" if job.refunded else "")


def quota_set(user: str, amount: float, window_hours: float | None) -> str:
    window = f" per {window_hours:g} h" if window_hours else ""
    return f"{user} now has {credits(amount)}{window}."


def quota_reset(user: str) -> str:
    return f"{user} is back on the default allowance."


def quota_default_set(amount: float) -> str:
    return f"The default allowance is now {credits(amount)}."


def banned(user: str, cancelled: int) -> str:
    return (f"{user} is banned; {_count(cancelled, 'waiting job')} cancelled and "
            "refunded.")


def unbanned(user: str, was_banned: bool) -> str:
    return f"{user} is no longer banned." if was_banned else f"{user} was not banned."


def stats_report(stats: Stats, period: timedelta) -> str:
    """/admin stats: jobs by status, credits, render time, top users, failures, waits."""
    statuses = ", ".join(f"{n} {status}" for status, n in sorted(stats.by_status.items()))
    top = ", ".join(f"{user} ({amount:g})" for user, amount in stats.top_users)
    rate = "n/a" if stats.failure_rate is None else f"{100 * stats.failure_rate:.0f}%"
    return "\n".join([
        f"Last {_hours(period)}: {statuses or 'no jobs'}.",
        f"Credits used: {stats.credits:g}; render time: {stats.gpu_seconds:g} s.",
        f"Top users: {top or 'none'}.",
        f"Failure rate: {rate}; median wait: {_seconds(stats.median_wait_s)}; "
        f"median render: {_seconds(stats.median_render_s)}.",
        *(f"Worker {worker}: {problem} (since {_when(since)})."
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
        lines.append(f"  {_when(entry.at)} {entry.actor}: {entry.action}{target}{detail}")
    return "\n".join(lines)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _hours(period: timedelta) -> str:
    return f"{period.total_seconds() / 3600:g} h"


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def progress(job: JobRecord, position: int | None, now: datetime, *,
             counts_steps: bool = True) -> str:
    """One line on where a waiting or rendering job is (a model without steps: a bar only)."""
    if job.status == JobStatus.QUEUED:
        return f"Job #{job.id}: waiting{_position_words(position)}."
    step, total = job.progress_step, max(job.progress_total, 1)
    if step <= 0:
        return f"Job #{job.id}: rendering…"
    percent = int(100 * step / total)
    filled = BAR_WIDTH * step // total
    bar = "#" * filled + "-" * (BAR_WIDTH - filled)
    steps = f"step {step}/{total} " if counts_steps else ""
    return f"Job #{job.id}: rendering [{bar}] {steps}{percent}%{_eta(job, now)}"


def caption(job: JobRecord) -> str:
    """What goes with a delivered clip: the prompt and what reproduces it."""
    lines = [job.request.prompt, parameters_line(job.request)]
    lines += [f"Note: {note}" for note in job.notes]
    return "\n".join(lines)


def finished(job: JobRecord) -> str:
    """The final word on a job that did not produce a clip (or the console's result line)."""
    if job.status == JobStatus.SUCCEEDED and job.clip is not None:
        return (f"Job #{job.id} done: {job.clip.video_path}\n"
                f"Poster: {job.clip.poster_path}\n{caption(job)}")
    if job.status == JobStatus.CANCELLED:
        return f"Job #{job.id} was cancelled{_refund_words(job)}."
    return f"Job #{job.id} failed: {job.error or 'no reason was recorded'}."


def status(job: JobRecord, position: int | None, now: datetime, *,
           counts_steps: bool = True) -> str:
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        head = progress(job, position, now, counts_steps=counts_steps)
    elif job.status == JobStatus.SUCCEEDED:
        head = f"Job #{job.id}: done" + (" and delivered." if job.delivered_at else ".")
    else:
        head = finished(job)
    return f"{head}\nPrompt: {job.request.prompt}\n{parameters_line(job.request)}"


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


def workers_listing(workers: Sequence[WorkerRecord], now: datetime, lease: timedelta) -> str:
    """One line per registered worker: where, on what, doing what (gone, lost), heard when."""
    if not workers:
        return NO_WORKERS
    lines = [f"{_count(len(workers), 'worker')}:"]
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


def _count(n: int, noun: str) -> str:  # `1 job`, `2 jobs`
    return f"{n} {noun}{'' if n == 1 else 's'}"


def gib(size: int) -> str:
    """Bytes as GiB with one decimal: `12.5`."""
    return f"{size / 1024**3:.1f}"


def preset_not_served(preset: str, served: Collection[str]) -> str:
    available = ", ".join(sorted(served)) or "none"
    return (f"no running worker takes the preset {preset} (they take: {available}); "
            "pick one of those with --preset, or ask an admin")


def picture_not_taken(preset: str, animators: Collection[str]) -> str:
    """A picture sent to a preset whose model renders from text only."""
    others = (f"presets that animate a picture: {', '.join(sorted(animators))}" if animators
              else "no preset here animates a picture")
    return (f"the preset {preset} makes videos from text only, not from a picture; "
            f"{others}")


def picture_required(preset: str, text_presets: Collection[str]) -> str:
    """No picture sent to a preset whose model animates one (image to video only)."""
    others = (f"presets that render from text alone: {', '.join(sorted(text_presets))}"
              if text_presets else "every preset here needs a picture")
    return f"the preset {preset} animates a picture: send one with the prompt; {others}"


def cancel_requested(job: JobRecord) -> str:
    if job.status == JobStatus.CANCELLED:
        return f"Job #{job.id} cancelled{_refund_words(job)}."
    return f"Job #{job.id}: stopping the render…"


def _refund_words(job: JobRecord) -> str:
    return f"; {credits(job.cost)} refunded" if job.refunded and job.cost else ""


#: Buttons under an acknowledgement (cancel) and under a delivered clip (the other three).
BUTTON_LABELS = {"cancel": "Cancel", "reroll": "Reroll", "same": "Same seed", "delete": "Delete"}

#: What a chat's command menu says about each command and `/video` option.
COMMAND_DESCRIPTIONS = {
    "video": "Queue a clip from a text prompt",
    "status": "Where a job is (default: your latest)",
    "cancel": "Cancel a job (default: your latest waiting or rendering one)",
    "queue": "What is waiting and rendering",
    "quota": "Your credits: used, left, and when they come back",
    "history": "Your last 10 jobs with status and cost",
    "describe": "Video to text: what the captioner sees in a clip",
    "apikey": "Your key for the HTTP API (shown only to you)",
    "help": "How to use videobot",
    "videoadmin": "videobot administration (admins only)",
    "admin_queue": "Every waiting and rendering job, with owners (admins only)",
    "admin_run": "Any admin command, e.g. ban 1234 spamming (admins only)",
    "admin_quota": "Show, set or reset a user's credits, or set the default (admins only)",
    "admin_ban": "Ban a user: their waiting jobs are cancelled and refunded (admins only)",
    "admin_unban": "Lift a ban (admins only)",
    "admin_cancel": "Cancel any job (admins only)",
    "admin_pause": "Stop starting jobs; running ones finish (admins only)",
    "admin_resume": "Start jobs again (admins only)",
    "admin_stats": "Usage numbers (admins only)",
    "admin_audit": "The last admin actions (admins only)",
    "admin_workers": "The generator processes, their jobs and heartbeats (admins only)",
}
ADMIN_RUN_OPTION_DESCRIPTION = "As after /admin: quota, ban, unban, queue, cancel, pause, ..."
#: The typed options of the `/videoadmin` sub-commands.
ADMIN_OPTION_DESCRIPTIONS = {
    "action": "show, set or reset a user's credits; default sets everyone's allowance",
    "user": "The user",
    "credits": "Credits per window (set, default)",
    "window": "The window of a user's allowance, e.g. 24h or 7d (set)",
    "reason": "Why (recorded in the audit log)",
    "job": "Job id",
    "since": "Period, e.g. 24h or 7d (default 24h)",
}
VIDEO_OPTION_DESCRIPTIONS = {
    "prompt": "What the clip shows",
    "negative_prompt": "What to keep out of the clip",
    "frames": "Number of frames",
    "fps": "Frames per second",
    "width": "Width in pixels",
    "height": "Height in pixels",
    "steps": "Denoising steps (more: slower, finer)",
    "guidance": "How closely to follow the prompt",
    "seed": "Random seed (the same seed renders the same clip)",
    "preset": "Model preset",
}
JOB_OPTION_DESCRIPTION = "Job number (default: your latest)"
APIKEY_OPTION_DESCRIPTIONS = {"action": "new (the default: replaces your last one), list or "
                              "revoke", "key": "The key number to revoke"}

ADMIN_ONLY = "Sorry: only the bot's admins may do that."
DMS_OFF = "Sorry: this bot takes commands in server channels, not in direct messages."


def not_your_job(job_id: int) -> str:
    """The refusal a user sees when pressing a button on someone else's job."""
    return f"Sorry: job #{job_id} belongs to someone else."


def upload_caption(job: JobRecord, upload_note: str = "") -> str:
    """`caption`, plus a note when the file was re-encoded to fit the chat's upload limit."""
    return caption(job) + (f"\nNote: {upload_note}" if upload_note else "")


def admin_queue_listing(jobs: Sequence[JobRecord]) -> str:
    """Every waiting and rendering job with its owner, for admins."""
    if not jobs:
        return "The queue is empty."
    lines = [f"{_count(len(jobs), 'job')} waiting or rendering:"]
    lines += [f"  job #{job.id} {job.status} for {job.user.key}: {job.request.prompt[:60]}"
              for job in jobs]
    return "\n".join(lines)


def console_goodbye(undelivered: int) -> str:
    """The console's answer to /quit."""
    return "Bye." + (f" {_count(undelivered, 'job')} of yours not delivered yet: the next "
                     "start delivers them." if undelivered else "")


def console_closed(others: Sequence[str]) -> str:
    """Said when the console chat ends while other front doors keep the bot running."""
    return f"The console chat is closed; still serving {', '.join(others)} (Ctrl-C stops it)."


def unknown_command(name: str) -> str:
    return f"Unknown command /{name}. Try /help."


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


def clip_too_large(job: JobRecord) -> str:
    """The final word on a clip that no re-encoding makes fit the chat's upload limit."""
    return (f"Job #{job.id} finished, but even re-encoded the clip is too large to post "
            "in this chat.")


# -- refusals of bad input at the door ------------------------------------------------------


def option_given_twice(name: str) -> str:
    """A `/video` option (or a command-line flag) given more than once."""
    return f"--{name} is given more than once; give it once"


def nul_refused(what: str) -> str:
    """A text holding a NUL character, which no database column takes."""
    return f"the {what} contains a NUL character (\\0); remove it and send it again"


def ban_reason_too_long(length: int, limit: int) -> str:
    return f"the reason is {length} characters long; the limit is {limit}"


def duration_too_long(text: str, longest: timedelta) -> str:
    return (f"{text} is too long a period; the longest is {longest.days} days "
            f"({_hours(longest)})")


# -- the HTTP API and its keys -----------------------------------------------------------------
APIKEY_USAGE = "write /apikey for a new key, /apikey list, or /apikey revoke <key number>"
ADMIN_APIKEY_USAGE = ("write /admin apikey create <user> [--name NAME] [--admin] [--webhook URL], "
                      "/admin apikey list [user], /admin apikey revoke <key number> or "
                      "/admin apikey secret")
APIKEY_PRIVATE_ONLY = "ask for a key in a private chat with me: here others would see it"
API_DISABLED = "the HTTP API is not enabled on this bot ([api] in the config turns it on)"
API_KEY_MISSING = "no API key: send one as the header Authorization: Bearer <key> (/apikey)"
API_KEY_UNKNOWN = "the API key is unknown or has been revoked"
API_ADMIN_ONLY = "only an admin key may act for another user"
API_SECONDS_AND_FRAMES = "frames was given, so seconds was ignored"


def api_key_made(key: ApiKeyRecord, secret_key: str, base_url: str | None) -> str:
    """A new key, as the last line: shown this once."""
    name = f" ({key.name})" if key.name else ""
    lines = [f"API key #{key.id} for {key.user.key}{name}{', admin' if key.admin else ''}."]
    if base_url:
        lines.append(f"Use it as the api_key of an OpenAI client, with base_url {base_url}.")
    if key.webhook_url:
        lines.append(f"Its webhook {key.webhook_url} is signed with {key.webhook_secret}")
    return "\n".join([*lines, "Shown only this once; keep it secret:", secret_key])


def api_key_listing(keys: Sequence[ApiKeyRecord], *, mine: bool) -> str:
    if not keys:
        return "You have no API key; /apikey makes one." if mine else "No API key yet."
    lines = [f"{len(keys)} API keys:"]
    for key in keys:
        state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "live"
        extra = "".join([f" {key.name!r}" if key.name else "", ", admin" if key.admin else "",
                         f", webhook {key.webhook_url}" if key.webhook_url else ""])
        owner = "" if mine else f" for {key.user.key}"
        lines.append(f"  #{key.id} {key.prefix}…{owner}{extra}, made {_when(key.created_at)}, "
                     f"{state}")
    return "\n".join(lines)


def api_key_revoked(key: ApiKeyRecord) -> str:
    return f"API key #{key.id} ({key.prefix}…) is revoked: it no longer works."


def webhook_secret_made(secret: str) -> str:
    return ("A new webhook secret, for [api] webhook_secret (or VIDEOBOT_API_WEBHOOK_SECRET):\n"
            + secret)


def bad_key_id(text: str) -> str:
    return f"{text!r} is not a key number; /apikey list shows them"


def bad_webhook_url(text: str) -> str:
    return f"{text!r} is not an http(s) URL for --webhook"


def api_failure(job: JobRecord) -> str:
    """Why a job made no clip, for the video object's `error.message`."""
    if job.status == JobStatus.CANCELLED:
        return "the job was cancelled"
    return job.error or "no reason was recorded"


def api_no_video(video_id: str) -> str:
    return f"there is no video {video_id!r}"


def api_no_content(video_id: str, status: str) -> str:
    return f"video {video_id} has no content: it is {status}"


def api_clip_gone(video_id: str) -> str:
    return f"the clip of video {video_id} is no longer stored (old clips are deleted)"


def api_seconds_as_frames(seconds: float, fps: int, frames: int) -> str:
    return f"{seconds:g} seconds at {fps} fps: {frames} frames"


def api_bad_json(detail: str) -> str:
    return f"the body is not valid JSON ({detail})"


def api_bad_form(reason: str) -> str:
    return f"the body is not valid multipart/form-data: {reason}"


def api_content_type(content_type: str) -> str:
    return (f"send the body as application/json or multipart/form-data, not "
            f"{content_type or 'without a Content-Type'}")


def api_too_large(limit_mb: float) -> str:
    return f"the request is larger than the {limit_mb:g} MB this server accepts"


def api_bad_value(name: str, words: str, value: object) -> str:
    """A field of the wrong type or shape: `size must be WIDTHxHEIGHT, not '0x0'`."""
    return f"{name} must be {words}, not {value!r}"


def api_unknown_field(name: str, fields: Collection[str]) -> str:
    return f"unknown field {name!r}; the fields are {', '.join(fields)}"


def api_no_route(method: str, path: str) -> str:
    return f"there is no {method} {path} in this API; see /v1/videos and /v1/models"


# -- the web dashboard -------------------------------------------------------------------------
DASHBOARD_KEY_MISSING = "enter an API key (/apikey in a private chat with the bot gives you one)"
DASHBOARD_FORM_EXPIRED = ("this form has expired or did not come from this dashboard, so nothing "
                          "was done; try again")
DASHBOARD_SIGNED_OUT = "You are signed out."
DASHBOARD_NO_PAGE = "there is no such page here"
DASHBOARD_INTERNAL = "Something went wrong on our side; the operator can find why in the log."
METRICS_REFUSED = ("GET /metrics needs an admin API key (Authorization: Bearer <key>) or an "
                   "address in [api] metrics_allow")


def dashboard_signin_wait(seconds: float) -> str:
    """A sign-in refused because its address failed too often just before."""
    return (f"too many failed sign-ins from your address; try again in "
            f"{max(1, round(seconds))} s")


def dashboard_deleted(job_id: int) -> str:
    return f"Job #{job_id} is deleted, and its clip removed."


def queue_summary(running: int, waiting: int, paused: bool) -> str:
    """The line above the dashboard's queue."""
    line = f"{running} rendering, {waiting} waiting."
    return f"{QUEUE_PAUSED} {line}" if paused else line


def duration_words(seconds: float | None) -> str:
    """A short length of time, as an ETA shows it: `40 s`, `3 min`, `2 h 5 min`; `—` unknown."""
    if seconds is None:
        return "—"
    whole = max(0, round(seconds))
    if whole < 90:
        return f"{whole} s"
    minutes = round(whole / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes // 60} h {minutes % 60} min"


def form_one_word(name: str, value: str) -> str:
    """A dashboard form field that must be one word (a user, a number) and is not."""
    if not value:
        return f"Sorry: fill in the {name}."
    return f"Sorry: the {name} must be one word, not {value!r}."


CHART_EMPTY = "nothing in this period"
QUEUE_EMPTY = "The queue is empty."
NO_CLIPS = "No finished clips to show."
NO_WORKERS = "No worker has registered yet."
NO_USERS = "No user matches."
NO_AUDIT = "No audit entry matches."
DASHBOARD_SIGNIN_HINT = ("Sign in with an API key of this bot: /apikey in a private chat with "
                         "the bot gives you one.")
