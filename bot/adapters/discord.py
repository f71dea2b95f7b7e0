"""The Discord adapter: slash commands, buttons and attachments, translated to and from the core.

Every command is answered within Discord's 3 s with the core's reply. The acknowledgement of a
`/video` gets a Cancel button; its text is then edited with progress (at most one edit per
`progress_interval_seconds`). The clip is posted to the channel, mentioning the user, with
Reroll, Same seed and Delete buttons (`bot.adapters.discord_delivery`: interaction tokens in
memory only, a nonce so that a clip is posted once). Where replies go (channel, user, the
acknowledgement's message id, upload limit) is stored in the job's reply target, so a
restarted bot still delivers. Buttons are `DynamicItem`s matched by custom id
(`vb:<action>:<job id>`), so they keep working across restarts.
"""

# No `from __future__ import annotations` here: the `/video` options' annotations must be real
# objects, because their bounds (`app_commands.Range`) come from the config at run time.

import asyncio
import inspect
import logging
import re
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, cast

import discord
import yarl
from discord import app_commands

from bot.adapters.base import AdapterStartError
from bot.adapters.discord_delivery import DiscordDelivery
from bot.core import replies
from bot.core.commands import USER_COMMANDS, Core, Reply
from bot.core.errors import INTERNAL_ERROR
from bot.core.parsing import VideoOptions
from bot.posted import PostedJournal
from storage.jobs import JobStore
from storage.records import JobRecord
from videobot.config import DiscordConfig, PresetConfig
from videobot.limits import MAX_FPS, MAX_GUIDANCE, MAX_SEED, MIN_SIDE
from videobot.logs import SecretRedactor, redact
from videobot.users import UserRef

PLATFORM = "discord"
#: Discord caps a string option at 6000 characters and offers at most 25 choices.
MAX_OPTION_CHARS = 6000
MAX_CHOICES = 25
STARTUP_TIMEOUT_S = 60.0
#: A submission not answered by the core within this long is deferred ("thinking…") first.
DEFER_AFTER_S = 0.5
#: Interaction tokens where discord.py logs them: in webhook and callback URLs, and in the
#: gateway's INTERACTION_CREATE payloads (logged at DEBUG).
INTERACTION_TOKENS = (
    re.compile(r"/(?:webhooks|interactions)/\d+/(?P<secret>[^/\s?#'\"]+)"),
    re.compile(r"['\"]token['\"]:\s*['\"](?P<secret>[^'\"]+)"),
)

log = logging.getLogger(__name__)


class JobButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"vb:(?P<action>cancel|reroll|same|delete):(?P<job_id>[0-9]{1,18})",
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
                             match: re.Match[str], /) -> "JobButton":
        return cls(match["action"], int(match["job_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        client = cast(_Client, interaction.client)
        await client.adapter.on_button(interaction, self.action, self.job_id)


class _Client(discord.Client):
    """The discord.py client, holding its adapter for the buttons' callbacks."""

    def __init__(self, adapter: "DiscordAdapter", **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter


class DiscordAdapter:
    """A Discord bot: slash commands in, progress edits and clips out."""

    platform = PLATFORM

    def __init__(self, *, core: Core, store: JobStore, config: DiscordConfig, work_dir: Path,
                 guild_ready_timeout: float = 2.0,
                 clock: Callable[[], float] = time.time,
                 journal: PostedJournal | None = None) -> None:
        """`journal`: where a posted clip's message id is written the moment Discord answers
        (the delivery loop's; none: in memory only)."""
        self.core = core
        self.store = store
        self.config = config
        self.work_dir = work_dir
        self.guild_ready_timeout = guild_ready_timeout
        self.clock = clock
        self.client: _Client | None = None
        #: The client's gateway connection; it ends only on `stop` or a fatal error.
        self.gateway_task: asyncio.Task[None] | None = None
        self.journal = journal if journal is not None else PostedJournal(None)
        self._redactor = SecretRedactor(config.token, patterns=INTERACTION_TOKENS)
        self.delivery = DiscordDelivery(
            client=self._client, store=store, config=config, work_dir=work_dir, clock=clock,
            journal=self.journal, buttons=_buttons)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync the slash commands, connect the gateway; return once ready."""
        self._redactor.install()
        discord.http.Route.BASE = self.config.api_base_url.rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.config.gateway_url)
        client = _Client(self, intents=discord.Intents(guilds=True),
                         guild_ready_timeout=self.guild_ready_timeout)
        self.client = client
        tree = _build_tree(client, self)
        client.add_dynamic_items(JobButton)
        try:
            await client.login(self.config.token)
            await self._sync(tree)
            self.gateway_task = asyncio.create_task(client.connect(), name="discord-gateway")
            await self._until_ready(client, self.gateway_task)
        except BaseException as exc:
            await self.stop()
            if isinstance(exc, Exception):
                raise _start_error(exc, self.config) from exc
            raise
        # From now on a gateway that ends is logged; during start its error is raised.
        self.gateway_task.add_done_callback(_log_gateway_end)
        log.info("discord: connected as %s", client.user)

    async def stop(self) -> None:
        """Stop the progress edits and close the client."""
        await self.delivery.stop()
        if self.client is not None:
            await self.client.close()
        if self.gateway_task is not None:
            await asyncio.gather(self.gateway_task, return_exceptions=True)
        self._redactor.remove()

    async def _sync(self, tree: app_commands.CommandTree) -> None:
        """Guild commands appear at once; global ones can take a while to reach every client."""
        if not self.config.guild_ids:
            await tree.sync()
            return
        for guild_id in self.config.guild_ids:
            guild = discord.Object(guild_id)
            tree.copy_global_to(guild=guild)
            await tree.sync(guild=guild)

    @staticmethod
    async def _until_ready(client: discord.Client, gateway: asyncio.Task[None]) -> None:
        ready = asyncio.create_task(client.wait_until_ready())
        try:
            await asyncio.wait({ready, gateway}, timeout=STARTUP_TIMEOUT_S,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if gateway.done():
            gateway.result()
            raise RuntimeError("the Discord gateway connection ended during start")
        if not client.is_ready():
            raise TimeoutError(f"Discord was not ready within {STARTUP_TIMEOUT_S:.0f} s")

    # -- commands ---------------------------------------------------------------------------

    async def video(self, interaction: discord.Interaction, options: VideoOptions) -> None:
        """`/video` with typed options: queue through the core, acknowledge with Cancel."""
        if await self._refused_here(interaction):
            return
        await self._queue(interaction, self.core.video_request(
            _user(interaction), options, self._target(interaction)))

    async def text_command(self, interaction: discord.Interaction, line: str) -> None:
        """`/status`, `/cancel`, `/queue`, `/quota`, `/history`, `/describe`, `/help`: the
        core's answer, seen only by the caller."""
        if await self._refused_here(interaction):
            return
        reply = await self.core.handle(_user(interaction), line, self._target(interaction))
        await interaction.response.send_message(reply.text, ephemeral=True)

    async def admin_queue(self, interaction: discord.Interaction) -> None:
        """`/videoadmin queue`: every active job; only for the config's admins."""
        if not self.is_admin(interaction):
            await interaction.response.send_message(replies.ADMIN_ONLY, ephemeral=True)
            return
        jobs = await self.store.active_jobs()
        await interaction.response.send_message(replies.admin_queue_listing(jobs),
                                                ephemeral=True)

    async def admin_command(self, interaction: discord.Interaction, command: str) -> None:
        """`/videoadmin run`: any `/admin` command in the same words; checked like the rest.
        The answer is ephemeral: only the admin reads it (a new API key may be in it)."""
        reply = await self.core.admin_request(_user(interaction), command,
                                              admin=self.is_admin(interaction), private=True)
        await interaction.response.send_message(reply.text, ephemeral=True)

    async def apikey(self, interaction: discord.Interaction, words: str) -> None:
        """`/apikey`: the caller's key of the HTTP API, in an answer only they see."""
        if await self._refused_here(interaction):
            return
        reply = await self.core.handle(_user(interaction), f"/apikey {words}",
                                       {"private": True})
        await interaction.response.send_message(reply.text, ephemeral=True)

    async def on_button(self, interaction: discord.Interaction, action: str,
                        job_id: int) -> None:
        """Cancel, Reroll, Same seed or Delete: the owner or an admin may; others are told."""
        try:
            await self._press(interaction, action, job_id)
        except Exception as exc:
            await self.on_error(interaction, exc)

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        """The one error handler: log with the traceback, answer with one fixed sentence."""
        log.error("discord interaction %s failed", interaction.id, exc_info=error)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(INTERNAL_ERROR, ephemeral=True)
            else:
                await interaction.response.send_message(INTERNAL_ERROR, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure of interaction %s",
                        interaction.id)

    def is_admin(self, interaction: discord.Interaction) -> bool:
        """In the config's `admins`, or holding one of its `admin_roles`."""
        if interaction.user.id in self.config.admins:
            return True
        roles = getattr(interaction.user, "roles", ())
        return any(role.id in self.config.admin_roles for role in roles)

    async def _press(self, interaction: discord.Interaction, action: str, job_id: int) -> None:
        user, admin = _user(interaction), self.is_admin(interaction)
        if action == "cancel":
            reply = await self.core.cancel_job(user, job_id, admin=admin)
            await interaction.response.send_message(reply.text, ephemeral=True)
        elif action == "delete":
            await self._delete(interaction, user, job_id, admin)
        else:
            await self._queue(interaction, self.core.rerun(
                user, job_id, new_seed=action == "reroll",
                reply_target=self._target(interaction), admin=admin))

    async def _delete(self, interaction: discord.Interaction, user: UserRef, job_id: int,
                      admin: bool) -> None:
        job = await self.store.get(job_id)
        if job is None or (job.user.key != user.key and not admin):
            await interaction.response.send_message(replies.not_your_job(job_id),
                                                    ephemeral=True)
            return
        await interaction.response.defer()
        await interaction.delete_original_response()

    async def _queue(self, interaction: discord.Interaction,
                     submit: Coroutine[Any, Any, Reply]) -> None:
        """Answer with the core's reply to a submission. When the core is slow (a burst, a
        busy database), defer first, so Discord's 3 s deadline is kept, and edit later."""
        task = asyncio.ensure_future(submit)
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER_S)
        if not done:
            await interaction.response.defer(thinking=True)
        await self._answer_job(interaction, await task)

    async def _answer_job(self, interaction: discord.Interaction, reply: Reply) -> None:
        """The acknowledgement with a Cancel button, or a refusal only the caller sees."""
        deferred = interaction.response.is_done()
        if reply.job is None and deferred:
            await interaction.delete_original_response()
            await interaction.followup.send(reply.text, ephemeral=True)
        elif reply.job is None:
            await interaction.response.send_message(reply.text, ephemeral=True)
        elif deferred:
            self.delivery.remember(reply.job.id, interaction)
            message = await interaction.edit_original_response(
                content=reply.text, view=_buttons(reply.job.id, "cancel"))
            await self.store.update_reply_target(reply.job.id, message_id=message.id)
        else:
            self.delivery.remember(reply.job.id, interaction)
            response = await interaction.response.send_message(
                reply.text, view=_buttons(reply.job.id, "cancel"))
            await self.store.update_reply_target(reply.job.id, message_id=response.message_id)

    async def _refused_here(self, interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None and not self.config.allow_dms:
            await interaction.response.send_message(replies.DMS_OFF, ephemeral=True)
            return True
        return False

    def _target(self, interaction: discord.Interaction) -> dict[str, Any]:
        """Where this interaction's replies go, stored with the job (never its token)."""
        return {
            "channel_id": interaction.channel_id,
            "guild_id": interaction.guild_id,
            "user_id": interaction.user.id,
            "upload_limit": interaction.filesize_limit,
            "nsfw_allowed": _age_restricted(interaction.channel),
        }

    # -- progress and results (bot.adapters.discord_delivery) -----------------------------

    async def show_progress(self, job: JobRecord, text: str) -> None:
        """Edit the job's acknowledgement with `text`, at the configured pace."""
        await self.delivery.show_progress(job, text)

    async def deliver(self, job: JobRecord) -> None:
        """Post the clip (or the failure notice) once, in the channel."""
        await self.delivery.deliver(job)

    def _client(self) -> _Client:
        if self.client is None:
            raise RuntimeError("the Discord adapter is not started")
        return self.client


class DiscordStartError(AdapterStartError):
    """The Discord adapter could not start."""


def _start_error(exc: Exception, config: DiscordConfig) -> DiscordStartError:
    """What stopped the start, in one line an operator can act on; never the token."""
    if isinstance(exc, discord.LoginFailure):
        return DiscordStartError("Discord refused discord.token; check it in the Developer "
                                 "Portal (Bot, Reset Token)")
    if isinstance(exc, discord.HTTPException):
        reason = f"{exc.status} {exc.text or exc.response.reason}"
        return DiscordStartError(
            f"Discord answered {reason} at start; check discord.guild_ids and that the bot was "
            "added with the bot and applications.commands scopes")
    if isinstance(exc, TimeoutError):
        return DiscordStartError(f"Discord was not ready within {STARTUP_TIMEOUT_S:.0f} s; "
                                 "check the network and discord.gateway_url")
    reason = redact(str(exc) or type(exc).__name__, [config.token], "<token>")
    return DiscordStartError(f"could not reach Discord at discord.api_base_url and "
                             f"discord.gateway_url ({reason}); check the addresses and any "
                             "proxy setting")


def _user(interaction: discord.Interaction) -> UserRef:
    """The caller as the core names them, with their roles here (for quota tiers)."""
    roles = getattr(interaction.user, "roles", ())
    return UserRef(PLATFORM, str(interaction.user.id), interaction.user.display_name,
                   groups=frozenset(f"discord-role:{role.id}" for role in roles))


def _buttons(job_id: int, *actions: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(JobButton(action, job_id))
    return view


def _build_tree(client: discord.Client, adapter: DiscordAdapter) -> app_commands.CommandTree:
    tree: app_commands.CommandTree = app_commands.CommandTree(client)
    offered = {command.name: command for command in (
        _video_command(adapter), *_text_commands(adapter), _apikey_command(adapter))}
    # In the core's order, as every platform lists them.
    commands: list[app_commands.Command[Any, Any, Any] | app_commands.Group] = [
        *(offered[name] for name in USER_COMMANDS), _admin_group(adapter)]
    allow_dms = adapter.config.allow_dms
    for command in commands:
        app_commands.allowed_contexts(guilds=True, dms=allow_dms,
                                      private_channels=allow_dms)(command)
        tree.add_command(command)
    tree.error(adapter.on_error)
    return tree


def _video_command(adapter: DiscordAdapter) -> app_commands.Command[Any, Any, Any]:
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
    ) -> None:
        typed = {"negative_prompt": negative_prompt, "frames": frames, "fps": fps,
                 "width": width, "height": height, "steps": steps, "guidance": guidance,
                 "seed": seed, "preset": preset}
        overrides = {key: value for key, value in typed.items() if value is not None}
        await adapter.video(interaction, VideoOptions(prompt, overrides))

    app_commands.describe(**replies.VIDEO_OPTION_DESCRIPTIONS)(video)
    _preset_choices(list(presets))(video)
    return app_commands.Command(name="video", description=replies.COMMAND_DESCRIPTIONS["video"],
                                callback=video)


def _preset_choices(presets: list[PresetConfig]) -> Callable[[Any], Any]:
    """Discord offers the presets as choices when there are few enough; else free text."""
    if len(presets) > MAX_CHOICES:
        return lambda function: function
    return app_commands.choices(preset=[app_commands.Choice(name=p.name, value=p.name)
                                        for p in sorted(presets, key=lambda p: p.name)])


def _text_commands(adapter: DiscordAdapter) -> list[app_commands.Command[Any, Any, Any]]:
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


def _apikey_command(adapter: DiscordAdapter) -> app_commands.Command[Any, Any, Any]:
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


def _admin_group(adapter: DiscordAdapter) -> app_commands.Group:
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
    for command in _typed_admin_commands(adapter):
        group.add_command(command)
    return group


def _typed_admin_commands(adapter: DiscordAdapter) -> list[app_commands.Command[Any, Any, Any]]:
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


def _log_gateway_end(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the Discord gateway connection failed", exc_info=task.exception())


def _age_restricted(channel: object) -> bool:
    """Whether the channel is marked age-restricted (never true of a DM)."""
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False
