"""The `/videoadmin` commands with typed options (a user picker instead of an id)."""

# No `from __future__ import annotations` here: discord.py reads the options' annotations.

import inspect
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.handlers import CommandHandlers
from bot.core import replies


def typed_admin_commands(adapter: CommandHandlers) -> list[app_commands.Command[Any, Any, Any]]:
    """The `/admin` commands with typed options (a user picker instead of an id); each one
    builds the same words as `/admin …` and goes through the same check and replies."""

    async def words(interaction: discord.Interaction, *parts: object) -> None:
        line = " ".join(str(part) for part in parts if part is not None and part != "")
        await adapter.admin_command(interaction, line)

    @app_commands.choices(action=[app_commands.Choice(name=name, value=name)
                                  for name in ("show", "set", "reset", "default")])
    async def quota(interaction: discord.Interaction, action: str,
                    user: discord.User | None = None,
                    credits: app_commands.Range[float, 0] | None = None,
                    window: str | None = None) -> None:
        window_words = f"--window {window}" if window else None
        await words(interaction, "quota", action, _mention(user), _number(credits),
                    window_words)

    async def ban(interaction: discord.Interaction, user: discord.User,
                  reason: str | None = None) -> None:
        await words(interaction, "ban", _mention(user), reason)

    async def unban(interaction: discord.Interaction, user: discord.User) -> None:
        await words(interaction, "unban", _mention(user))

    async def cancel(interaction: discord.Interaction, job: app_commands.Range[int, 1]) -> None:
        await words(interaction, "cancel", job)

    async def stats(interaction: discord.Interaction, since: str | None = None) -> None:
        await words(interaction, "stats", f"--since {since}" if since else None)

    async def pause(interaction: discord.Interaction) -> None:
        await words(interaction, "pause")

    async def resume(interaction: discord.Interaction) -> None:
        await words(interaction, "resume")

    async def audit(interaction: discord.Interaction) -> None:
        await words(interaction, "audit")

    async def workers(interaction: discord.Interaction) -> None:
        await words(interaction, "workers")

    commands: list[app_commands.Command[Any, Any, Any]] = []
    for function in (quota, ban, unban, cancel, stats, pause, resume, audit, workers):
        options = set(inspect.signature(function).parameters) - {"interaction"}
        app_commands.describe(**{name: replies.ADMIN_OPTION_DESCRIPTIONS[name]
                                 for name in options})(function)
        commands.append(app_commands.Command(
            name=function.__name__,
            description=replies.COMMAND_DESCRIPTIONS[f"admin_{function.__name__}"],
            callback=function))
    return commands


def _mention(user: discord.User | None) -> str | None:
    return f"<@{user.id}>" if user is not None else None


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"
