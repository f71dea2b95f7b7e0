"""The slash command tree: `/video` with typed options, `/animate` with its picture, the text
commands, `/apikey` and `/videoadmin`, each calling the adapter."""

# No `from __future__ import annotations` here: the `/video` options' annotations must be real
# objects, because their bounds (`app_commands.Range`) come from the config at run time.

from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.admin_commands import typed_admin_commands
from bot.adapters.discord.handlers import CommandHandlers
from bot.core import replies
from bot.core.commands import USER_COMMANDS
from bot.core.parsing import VideoOptions
from videobot.config import PresetConfig
from videobot.limits import MAX_FPS, MAX_GUIDANCE, MAX_SEED, MIN_SIDE

#: Discord caps a string option at 6000 characters and offers at most 25 choices.
MAX_OPTION_CHARS = 6000
MAX_CHOICES = 25


def build_tree(client: discord.Client, adapter: CommandHandlers) -> app_commands.CommandTree:
    """Every command, in the core's order, each allowed in DMs only when the config says."""
    tree: app_commands.CommandTree = app_commands.CommandTree(client)
    offered = {command.name: command for command in (
        _video_command(adapter), _animate_command(adapter), _extend_command(adapter),
        *_text_commands(adapter),
        _apikey_command(adapter))}
    # In the core's order, as every platform lists them.
    commands: list[app_commands.Command[Any, Any, Any] | app_commands.Group
                   | app_commands.ContextMenu] = [
        *(offered[name] for name in USER_COMMANDS), _admin_group(adapter),
        _animate_menu(adapter)]
    allow_dms = adapter.config.allow_dms
    for command in commands:
        app_commands.allowed_contexts(guilds=True, dms=allow_dms,
                                      private_channels=allow_dms)(command)
        tree.add_command(command)
    tree.error(adapter.on_error)
    return tree


def _video_command(adapter: CommandHandlers) -> app_commands.Command[Any, Any, Any]:
    """`/video`, its bounds taken from the most generous preset (the core checks each)."""
    presets = adapter.core.config.presets.values()
    chars = min(MAX_OPTION_CHARS, adapter.core.config.limits.max_prompt_chars)
    max_frames = max(p.max_frames for p in presets)
    max_steps = max(p.max_steps for p in presets)
    max_side = max(p.max_pixels for p in presets) // MIN_SIDE

    async def video(
        interaction: discord.Interaction,
        prompt: app_commands.Range[str, 1, chars],
        negative_prompt: app_commands.Range[str, 1, chars] | None = None,
        frames: app_commands.Range[int, 1, max_frames] | None = None,
        fps: app_commands.Range[int, 1, MAX_FPS] | None = None,
        width: app_commands.Range[int, MIN_SIDE, max_side] | None = None,
        height: app_commands.Range[int, MIN_SIDE, max_side] | None = None,
        steps: app_commands.Range[int, 1, max_steps] | None = None,
        guidance: app_commands.Range[float, 0.0, MAX_GUIDANCE] | None = None,
        seed: app_commands.Range[int, 0, MAX_SEED] | None = None,
        preset: str | None = None,
        image: discord.Attachment | None = None,
    ) -> None:
        typed = {"negative_prompt": negative_prompt, "frames": frames, "fps": fps,
                 "width": width, "height": height, "steps": steps, "guidance": guidance,
                 "seed": seed, "preset": preset}
        overrides = {key: value for key, value in typed.items() if value is not None}
        await adapter.video(interaction, VideoOptions(prompt, overrides), image)

    app_commands.describe(**replies.VIDEO_OPTION_DESCRIPTIONS)(video)
    _preset_choices(list(presets))(video)
    return app_commands.Command(name="video", description=replies.COMMAND_DESCRIPTIONS["video"],
                                callback=video)


def _animate_command(adapter: CommandHandlers) -> app_commands.Command[Any, Any, Any]:
    """`/animate image: [prompt:]`: the picture animated, with a preset that takes one."""
    chars = min(MAX_OPTION_CHARS, adapter.core.config.limits.max_prompt_chars)

    async def animate(interaction: discord.Interaction, image: discord.Attachment,
                      prompt: app_commands.Range[str, 1, chars] | None = None) -> None:
        await adapter.animate_image(interaction, image, prompt)

    app_commands.describe(**replies.ANIMATE_OPTION_DESCRIPTIONS)(animate)
    return app_commands.Command(name="animate",
                                description=replies.COMMAND_DESCRIPTIONS["animate"],
                                callback=animate)


def _extend_command(adapter: CommandHandlers) -> app_commands.Command[Any, Any, Any]:
    """`/extend [job] [prompt]`: a finished clip continued (default: the latest, its prompt)."""
    chars = min(MAX_OPTION_CHARS, adapter.core.config.limits.max_prompt_chars)

    async def extend(interaction: discord.Interaction,
                     job: app_commands.Range[int, 1] | None = None,
                     prompt: app_commands.Range[str, 1, chars] | None = None) -> None:
        await adapter.extend(interaction, job, prompt)

    app_commands.describe(**replies.EXTEND_OPTION_DESCRIPTIONS)(extend)
    return app_commands.Command(name="extend",
                                description=replies.COMMAND_DESCRIPTIONS["extend"],
                                callback=extend)


def _animate_menu(adapter: CommandHandlers) -> app_commands.ContextMenu:
    """"Animate" in a message's Apps menu: its picture, with its text as the prompt."""

    async def animate(interaction: discord.Interaction, message: discord.Message) -> None:
        await adapter.animate(interaction, message)

    return app_commands.ContextMenu(name=replies.BUTTON_LABELS["animate"], callback=animate)


def _preset_choices(presets: list[PresetConfig]) -> Callable[[Any], Any]:
    """Discord offers the presets as choices when there are few enough; else free text."""
    if len(presets) > MAX_CHOICES:
        return lambda function: function
    return app_commands.choices(preset=[app_commands.Choice(name=p.name, value=p.name)
                                        for p in sorted(presets, key=lambda p: p.name)])


def _text_commands(adapter: CommandHandlers) -> list[app_commands.Command[Any, Any, Any]]:
    async def status(interaction: discord.Interaction,
                     job: app_commands.Range[int, 1] | None = None) -> None:
        await adapter.text_command(interaction, f"/status {job or ''}")

    async def cancel(interaction: discord.Interaction,
                     job: app_commands.Range[int, 1] | None = None) -> None:
        await adapter.text_command(interaction, f"/cancel {job or ''}")

    async def queue(interaction: discord.Interaction) -> None:
        await adapter.text_command(interaction, "/queue")

    async def quota(interaction: discord.Interaction) -> None:
        await adapter.text_command(interaction, "/quota")

    async def history(interaction: discord.Interaction) -> None:
        await adapter.text_command(interaction, "/history")

    async def describe(interaction: discord.Interaction,
                       job: app_commands.Range[int, 1] | None = None) -> None:
        await adapter.text_command(interaction, f"/describe {job or ''}")

    async def help(interaction: discord.Interaction) -> None:
        await adapter.text_command(interaction, "/help")

    for function in (status, cancel, describe):
        app_commands.describe(job=replies.JOB_OPTION_DESCRIPTION)(function)
    return [app_commands.Command(name=f.__name__, description=replies.COMMAND_DESCRIPTIONS[
        f.__name__], callback=f) for f in (status, cancel, queue, quota, history, describe,
                                           help)]


def _apikey_command(adapter: CommandHandlers) -> app_commands.Command[Any, Any, Any]:
    """`/apikey [action] [key]`: a new key (the default), the caller's keys, or a revoke."""

    @app_commands.choices(action=[app_commands.Choice(name=name, value=name)
                                  for name in ("new", "list", "revoke")])
    async def apikey(interaction: discord.Interaction, action: str = "new",
                     key: app_commands.Range[int, 1] | None = None) -> None:
        words = "" if action == "new" else f"{action} {key or ''}"
        await adapter.apikey(interaction, words.strip())

    app_commands.describe(action=replies.APIKEY_OPTION_DESCRIPTIONS["action"],
                          key=replies.APIKEY_OPTION_DESCRIPTIONS["key"])(apikey)
    return app_commands.Command(name="apikey", description=replies.COMMAND_DESCRIPTIONS[
        "apikey"], callback=apikey)


def _admin_group(adapter: CommandHandlers) -> app_commands.Group:
    """`/videoadmin …`: hidden from non-admins by default; every call checked anyway."""
    group = app_commands.Group(
        name="videoadmin", description=replies.COMMAND_DESCRIPTIONS["videoadmin"],
        default_permissions=discord.Permissions(manage_guild=True))

    async def queue(interaction: discord.Interaction) -> None:
        await adapter.admin_queue(interaction)

    async def run(interaction: discord.Interaction, command: str) -> None:
        await adapter.admin_command(interaction, command)

    app_commands.describe(command=replies.ADMIN_RUN_OPTION_DESCRIPTION)(run)
    group.add_command(app_commands.Command(
        name="queue", description=replies.COMMAND_DESCRIPTIONS["admin_queue"], callback=queue))
    group.add_command(app_commands.Command(
        name="run", description=replies.COMMAND_DESCRIPTIONS["admin_run"], callback=run))
    for command in typed_admin_commands(adapter):
        group.add_command(command)
    return group
