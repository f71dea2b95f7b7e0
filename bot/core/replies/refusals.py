"""Refusals of bad input at the door: each names the problem, and what to do instead."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

from bot.core.replies.words import hours

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
