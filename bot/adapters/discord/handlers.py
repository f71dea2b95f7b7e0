"""What the command tree calls: the adapter's side of every slash command."""

from __future__ import annotations

from typing import Protocol

import discord

from bot.core.commands import Core
from bot.core.parsing import VideoOptions
from videobot.config import DiscordConfig


class CommandHandlers(Protocol):
    """The adapter, as the command tree sees it."""

    core: Core
    config: DiscordConfig

    async def video(self, interaction: discord.Interaction, options: VideoOptions,
                    image: discord.Attachment | None = None) -> None:
        """`/video` with typed options, and the picture of its `image` option."""
        ...

    async def animate_image(self, interaction: discord.Interaction, image: discord.Attachment,
                            prompt: str | None) -> None:
        """`/animate` with its `image` option and optional prompt."""
        ...

    async def extend(self, interaction: discord.Interaction, job: int | None,
                     prompt: str | None) -> None:
        """`/extend` with its typed options."""
        ...

    async def animate(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "Animate" message command: the message's picture queued as a `/video`."""
        ...

    async def text_command(self, interaction: discord.Interaction, line: str) -> None:
        """A user command given as the words of its text form."""
        ...

    async def admin_queue(self, interaction: discord.Interaction) -> None:
        """`/videoadmin queue`."""
        ...

    async def admin_command(self, interaction: discord.Interaction, command: str) -> None:
        """Any `/admin` command in the same words."""
        ...

    async def apikey(self, interaction: discord.Interaction, words: str) -> None:
        """`/apikey` with the words after it."""
        ...

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        """The one error handler."""
        ...
