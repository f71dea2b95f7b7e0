"""What a user reads about varying a clip (the Vary button: the same seed, settings and
picture with a new prompt) and about a rerun whose picture is gone."""

from __future__ import annotations

import re

VARY_EMPTY_PROMPT = ("a variation needs a new prompt; write what the clip should show "
                     "instead (the seed, settings and picture stay the same)")

#: The Discord modal's label over its prompt box (at most 45 characters).
VARY_PROMPT_LABEL = "New prompt (the same seed and settings)"

#: The grey hint in Telegram's reply box (at most 64 characters).
VARY_PLACEHOLDER = "The new prompt"

#: The fixed start of the message that asks for a variation's prompt on Telegram: the
#: reply to it is recognised by this alone (no state kept), after a restart too.
_ASKED = re.compile(r"Vary job #([0-9]{1,18}): ")


def vary_title(job_id: int) -> str:
    """The Discord modal's title (at most 45 characters)."""
    return f"Vary job #{job_id}"


def vary_asked(job_id: int) -> str:
    """The start of `vary_ask`, where a mention of the user may follow."""
    return f"Vary job #{job_id}: "


def vary_ask(job_id: int, prompt: str, name: str = "") -> str:
    """The message a reply to which is the new prompt of a variation of job `job_id` (its
    prompt now `prompt`); `name`: the user it asks, when it must say (a group)."""
    whom = f"{name}, reply" if name else "Reply"
    return (f"{vary_asked(job_id)}{whom} to this message with the new prompt; the seed, "
            f"settings and picture stay the same. Its prompt now: {prompt}")


def varied_job(text: str) -> int | None:
    """The job a `vary_ask` message names, or None for any other text."""
    match = _ASKED.match(text)
    return int(match.group(1)) if match else None


def picture_gone(job_id: int) -> str:
    """A rerun (or variation) of a job whose picture retention removed."""
    return (f"the picture of job #{job_id} is no longer stored, so it cannot be made again; "
            "send the picture again with /video")
