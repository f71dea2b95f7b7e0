"""What the bot says about itself: /help, the command menus of each platform (commands,
options, buttons), and the console chat's own lines."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.replies.words import plural

HELP = """\
videobot turns text into short video clips.

/video <prompt> [options]  queue a clip, e.g. /video a red ball bouncing --frames 16 --seed 7
    options: --frames N  --fps N  --width N  --height N  --steps N  --guidance X
             --seed N  --negative "text to avoid"  --preset NAME
    a picture to animate (PNG, JPEG or WebP): on Telegram send it with /video as its
    caption, or reply /video to it; on Discord use /video's image option; in the console
    add --image FILE
/animate [prompt] [options]  animate a picture sent as for /video; without a prompt, a
    default motion, on a preset that takes a picture (unless --preset names one)
/extend [job] [prompt]  continue a finished clip (default: your latest) into one longer
    clip, with its prompt or a new one, e.g. /extend 12 now it turns left
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


#: Buttons under an acknowledgement (cancel) and under a delivered clip (the others).
BUTTON_LABELS = {"cancel": "Cancel", "reroll": "Reroll", "same": "Same seed", "extend": "Extend",
                 "vary": "Vary", "delete": "Delete", "animate": "Animate"}


#: What a chat's command menu says about each command and `/video` option.
COMMAND_DESCRIPTIONS = {
    "video": "Queue a clip from a text prompt",
    "animate": "Animate a picture into a clip (prompt optional)",
    "extend": "Continue a finished clip into one longer clip (default: your latest)",
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
    "image": "A picture to animate (PNG, JPEG or WebP)",
}


JOB_OPTION_DESCRIPTION = "Job number (default: your latest)"

#: The options of Discord's `/animate`.
ANIMATE_OPTION_DESCRIPTIONS = {
    "image": "The picture to animate (PNG, JPEG or WebP)",
    "prompt": "How it moves, with /video's --options (default: a motion that suits the model)",
}

#: The options of Discord's `/extend`.
EXTEND_OPTION_DESCRIPTIONS = {
    "job": "Job whose clip to continue (default: your latest finished one)",
    "prompt": "What happens next (default: the clip's own prompt)",
}


APIKEY_OPTION_DESCRIPTIONS = {"action": "new (the default: replaces your last one), list or "
                              "revoke", "key": "The key number to revoke"}


#: The console chat's first line on a terminal, and what its /help adds.
CONSOLE_READY = "videobot console chat: /help lists the commands; /quit (or Ctrl-D) leaves."


CONSOLE_HELP = "/quit, /exit    leave the console chat (Ctrl-D too)"


def console_goodbye(undelivered: int) -> str:
    """The console's answer to /quit."""
    return "Bye." + (f" {plural(undelivered, 'job')} of yours not delivered yet: the next "
                     "start delivers them." if undelivered else "")


def console_preview(job_id: int, step: int, total: int, path: str) -> str:
    """The console's line for a preview of a clip forming, written to `path`."""
    return f"Job #{job_id}: step {step}/{total}, preview: {path}"


def console_closed(others: Sequence[str]) -> str:
    """Said when the console chat ends while other front doors keep the bot running."""
    return f"The console chat is closed; still serving {', '.join(others)} (Ctrl-C stops it)."
