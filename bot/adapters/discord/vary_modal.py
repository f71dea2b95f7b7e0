"""The Vary button's modal on Discord: one text box, prefilled with the job's prompt, whose
submission queues the variation. Its custom id names the job (`vb:vary-prompt:<job id>`), so
a submission is understood by any process, after a restart too: the adapter's client reads
every modal submission (discord.py's own modal store knows only this process's modals)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import discord

from bot.core import replies
from storage.records import JobRecord

#: Discord's bounds: a text input holds at most 4000 characters.
MAX_TEXT_INPUT = 4000
#: A modal left open longer is forgotten by this process (its submission still works).
MODAL_TIMEOUT_S = 900.0
PROMPT_FIELD = "prompt"
_MODAL_ID = re.compile(r"vb:vary-prompt:(?P<job_id>[0-9]{1,18})")


def vary_modal(job: JobRecord, max_prompt_chars: int) -> discord.ui.Modal:
    """The modal asking for the new prompt of a variation of `job`."""
    longest = min(MAX_TEXT_INPUT, max_prompt_chars)
    modal: discord.ui.Modal = discord.ui.Modal(
        title=replies.vary_title(job.id), custom_id=f"vb:vary-prompt:{job.id}",
        timeout=MODAL_TIMEOUT_S)
    box: discord.ui.TextInput[Any] = discord.ui.TextInput(
        custom_id=PROMPT_FIELD, style=discord.TextStyle.paragraph,
        default=job.request.prompt[:longest], max_length=longest)
    modal.add_item(discord.ui.Label(text=replies.VARY_PROMPT_LABEL, component=box))
    return modal


def submitted_variation(interaction: discord.Interaction) -> tuple[int, str] | None:
    """(job id, new prompt) of a Vary modal's submission; None for any other interaction."""
    data: Any = interaction.data or {}
    if interaction.type != discord.InteractionType.modal_submit:
        return None
    match = _MODAL_ID.fullmatch(str(data.get("custom_id", "")))
    if match is None:
        return None
    return int(match["job_id"]), _field_value(data.get("components") or [], PROMPT_FIELD)


def _field_value(components: Iterable[dict[str, Any]], custom_id: str) -> str:
    """The value of text input `custom_id`, in a label (type 18) or an action row (type 1)."""
    for component in components:
        inner = [component["component"]] if "component" in component else (
            component.get("components") or [])
        for item in inner:
            if item.get("custom_id") == custom_id:
                return str(item.get("value") or "")
    return ""
