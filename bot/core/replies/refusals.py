"""Refusals of bad input at the door: each names the problem, and what to do instead."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from bot.core.replies.words import hours
from storage.errors import (
    ApiKeyNotFound,
    JobAlreadyFinished,
    JobNotFound,
    NotJobOwner,
    OutOfCredits,
    QueueFull,
    StoreError,
    TooManyQueued,
    TooSoon,
    UnknownUser,
    UserBanned,
)
from storage.quotas import QuotaState

NOT_A_COMMAND = "Commands start with /. Try /video a red ball bouncing, or /help."


PROMPT_REFUSED = "that prompt is not allowed here; the admins have been told"


DMS_OFF = "Sorry: this bot takes commands in server channels, not in direct messages."


def unknown_command(name: str) -> str:
    return f"Unknown command /{name}. Try /help."


def not_your_job(job_id: int) -> str:
    """The refusal a user sees when pressing a button on someone else's job."""
    return f"Sorry: job #{job_id} belongs to someone else."


def nsfw_only(preset: str) -> str:
    return (f"the preset {preset} is for age-restricted channels only; use it there, or "
            "choose another preset")


#: /describe when no preset the workers take has a captioner.
NO_DESCRIBER = ("no worker here can describe clips: none of the presets they take has a "
                "captioner (the demo model's has)")


def no_clip_to_describe(job_id: int, status: str) -> str:
    """/describe of a job that has no clip (yet, or any more)."""
    return f"job #{job_id} has no clip to describe (it is {status})"


def describes_a_description(job_id: int) -> str:
    """/describe of a describe job."""
    return f"job #{job_id} is a description, not a clip; name the job of the clip"


def preset_not_served(preset: str, served: Collection[str]) -> str:
    available = ", ".join(sorted(served)) or "none"
    return (f"no running worker takes the preset {preset} (they take: {available}); "
            "pick one of those with --preset, or ask an admin")


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
            f"({hours(longest)})")


def store_refusal(error: StoreError) -> str:
    """What the store refused, as the reason of a `Sorry: ...` reply (the chats) or an error
    body (the API): every typed store error is worded here and only here."""
    match error:
        case JobNotFound(job_id=job_id):
            return f"there is no job #{job_id}"
        case NotJobOwner(job_id=job_id):
            return f"job #{job_id} belongs to someone else"
        case JobAlreadyFinished(job_id=job_id, status=how):
            return f"job #{job_id} has already finished ({how})"
        case TooManyQueued(limit=limit):
            return (f"you already have {limit} jobs waiting or rendering (limit: {limit} per "
                    "user); wait for one to finish or /cancel one")
        case UserBanned(reason=reason):
            return "an admin has banned you from this bot" + (f" ({reason})" if reason else "")
        case OutOfCredits(cost=cost, state=state):
            return _out_of_credits(cost, state)
        case QueueFull(limit=limit):
            return (f"the queue is full ({limit} jobs waiting, the limit); try again when the "
                    "next job starts")
        case TooSoon(interval=interval, wait=wait):
            return (f"one request every {interval:g} s at most; try again in "
                    f"{max(1, round(wait))} s")
        case UnknownUser(name=name):
            return f"nobody by the name {name} has used this bot"
        case ApiKeyNotFound(key_id=key_id):
            return f"there is no API key #{key_id}"
    return "the database refused that"


def _out_of_credits(cost: float, state: QuotaState) -> str:
    when = state.next_credit_at
    back = (f"; enough come back at {when:%Y-%m-%d %H:%M} UTC" if when is not None
            and cost <= state.credits else "")
    too_big = "; that is more than your whole allowance" if cost > state.credits else ""
    window = "day" if state.daily_reset else f"{state.window_hours:g} h"
    return (f"this clip costs {cost:g} credits and you have {state.left:g} left of "
            f"{state.credits:g} per {window}{too_big}{back}")


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
