"""The buttons on a job's messages: `DynamicItem`s matched by custom id
(`vb:<action>:<job id>`), so they keep working across restarts; and the Vary modal's
submissions, matched by theirs (`vary_modal.py`)."""

from __future__ import annotations

import re
from typing import Any, Protocol, cast

import discord

from bot.adapters.discord.vary_modal import submitted_variation
from bot.core import replies


class ButtonPresser(Protocol):
    """What a pressed button calls: the adapter."""

    async def on_button(self, interaction: discord.Interaction, action: str,
                        job_id: int) -> None:
        """`action` pressed on `job_id`'s message."""
        ...

    async def on_vary_prompt(self, interaction: discord.Interaction, job_id: int,
                             prompt: str) -> None:
        """The Vary modal of `job_id` submitted with `prompt`."""
        ...


class AdapterClient(discord.Client):
    """The discord.py client, holding its adapter for the buttons' callbacks."""

    def __init__(self, adapter: ButtonPresser, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Every interaction passes here: a Vary modal's submission goes to the adapter."""
        submitted = submitted_variation(interaction)
        if submitted is not None:
            await self.adapter.on_vary_prompt(interaction, *submitted)


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"vb:(?P<action>cancel|reroll|same|extend|vary|delete):(?P<job_id>[0-9]{1,18})",
):
    """A button about one job; its custom id alone says what to do, so it survives restarts."""

    def __init__(self, action: str, job_id: int) -> None:
        style = discord.ButtonStyle.danger if action in ("cancel", "delete") else (
            discord.ButtonStyle.secondary)
        super().__init__(discord.ui.Button(label=replies.BUTTON_LABELS[action], style=style,
                                           custom_id=f"vb:{action}:{job_id}"))
        self.action = action
        self.job_id = job_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str], /) -> JobButton:
        return cls(match["action"], int(match["job_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        client = cast(AdapterClient, interaction.client)
        await client.adapter.on_button(interaction, self.action, self.job_id)


def job_buttons(job_id: int, *actions: str) -> discord.ui.View:
    """A view with one button per action, about `job_id`."""
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(JobButton(action, job_id))
    return view
