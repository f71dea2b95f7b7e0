"""The Discord adapter's lifecycle and its side of every command: the core's answers sent
back within Discord's 3 s, a `/video` acknowledged with a Cancel button."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import discord
import yarl
from discord import app_commands

from bot.adapters.discord.buttons import AdapterClient, JobButton, job_buttons
from bot.adapters.discord.delivery import DiscordDelivery
from bot.adapters.discord.pictures import attached_picture, message_picture
from bot.adapters.discord.startup import log_gateway_end, start_error, until_ready
from bot.adapters.discord.status import Acknowledgements
from bot.adapters.discord.tree import build_tree
from bot.adapters.discord.vary_modal import vary_modal
from bot.adapters.status_previews import MEDIA_EDIT_EVERY_S, StatusPreviews
from bot.core import replies
from bot.core.commands import Core, Reply
from bot.core.errors import INTERNAL_ERROR
from bot.core.parsing import VideoOptions
from bot.posted import PostedJournal
from storage.previews import PreviewStore
from storage.records import JobRecord
from storage.store import Store
from videobot.config import DiscordConfig
from videobot.logs import SecretRedactor
from videobot.users import UserRef

PLATFORM = "discord"
#: A submission not answered by the core within this long is deferred ("thinking…") first.
DEFER_AFTER_S = 0.5
#: Interaction tokens where discord.py logs them: in webhook and callback URLs, and in the
#: gateway's INTERACTION_CREATE payloads (logged at DEBUG).
INTERACTION_TOKENS = (
    re.compile(r"/(?:webhooks|interactions)/\d+/(?P<secret>[^/\s?#'\"]+)"),
    re.compile(r"['\"]token['\"]:\s*['\"](?P<secret>[^'\"]+)"),
)

log = logging.getLogger(__name__)


class DiscordAdapter:
    """A Discord bot: slash commands in, progress edits and clips out."""

    platform = PLATFORM

    def __init__(self, *, core: Core, store: Store, config: DiscordConfig, work_dir: Path,
                 guild_ready_timeout: float = 2.0,
                 clock: Callable[[], float] = time.time,
                 journal: PostedJournal | None = None,
                 preview_every_s: float = MEDIA_EDIT_EVERY_S) -> None:
        """`journal`: where a posted clip's message id is written the moment Discord answers
        (the delivery loop's; none: in memory only); `preview_every_s`: the fewest seconds
        between two pictures of an acknowledgement."""
        self.core = core
        self.store = store
        self.config = config
        self.work_dir = work_dir
        self.guild_ready_timeout = guild_ready_timeout
        self.clock = clock
        self.client: AdapterClient | None = None
        #: The client's gateway connection; it ends only on `stop` or a fatal error.
        self.gateway_task: asyncio.Task[None] | None = None
        self.journal = journal if journal is not None else PostedJournal(None)
        self._redactor = SecretRedactor(config.token, patterns=INTERACTION_TOKENS)
        previews = StatusPreviews(PreviewStore.of(store.context, core.config),
                                  every_s=preview_every_s)
        self.acknowledgements = Acknowledgements(client=self._client, store=store,
                                                 config=config, clock=clock, previews=previews)
        self.delivery = DiscordDelivery(client=self._client,
                                        acknowledgements=self.acknowledgements,
                                        work_dir=work_dir, journal=self.journal)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync the slash commands, connect the gateway; return once ready."""
        self._redactor.install()
        discord.http.Route.BASE = self.config.api_base_url.rstrip("/")
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.config.gateway_url)
        client = AdapterClient(self, intents=discord.Intents(guilds=True),
                         guild_ready_timeout=self.guild_ready_timeout)
        self.client = client
        tree = build_tree(client, self)
        client.add_dynamic_items(JobButton)
        try:
            await client.login(self.config.token)
            await self._sync(tree)
            self.gateway_task = asyncio.create_task(client.connect(), name="discord-gateway")
            await until_ready(client, self.gateway_task)
        except BaseException as exc:
            await self.stop()
            if isinstance(exc, Exception):
                raise start_error(exc, self.config) from exc
            raise
        # From now on a gateway that ends is logged; during start its error is raised.
        self.gateway_task.add_done_callback(log_gateway_end)
        log.info("discord: connected as %s", client.user)

    async def stop(self) -> None:
        """Stop the progress edits and close the client."""
        await self.acknowledgements.stop()
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

    # -- commands ---------------------------------------------------------------------------

    async def video(self, interaction: discord.Interaction, options: VideoOptions,
                    image: discord.Attachment | None = None) -> None:
        """`/video` with typed options (and a picture): queue through the core, acknowledge
        with Cancel."""
        if await self._refused_here(interaction):
            return
        await self._queue(interaction, self.core.video_request(
            _user(interaction), options, self._target(interaction),
            image=attached_picture(image)))

    async def animate(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """The "Animate" message command: the message's picture (its text the prompt) queued
        for the caller as a `/video`, acknowledged with Cancel; without one, told so."""
        if await self._refused_here(interaction):
            return
        picture = message_picture(message)
        if picture is None:
            await interaction.response.send_message(replies.NO_PICTURE_IN_MESSAGE,
                                                    ephemeral=True)
            return
        await self._queue(interaction, self.core.animate_picture(
            _user(interaction), picture, message.content, reply_target=self._target(interaction)))

    async def animate_image(self, interaction: discord.Interaction, image: discord.Attachment,
                            prompt: str | None) -> None:
        """`/animate image: [prompt:]`: the picture queued as the Animate menu queues one (a
        preset that takes it; without a prompt, a default one), acknowledged with Cancel."""
        if await self._refused_here(interaction):
            return
        await self._queue(interaction, self.core.animate_picture(
            _user(interaction), attached_picture(image), prompt or "",
            reply_target=self._target(interaction)))

    async def text_command(self, interaction: discord.Interaction, line: str) -> None:
        """`/status`, `/cancel`, `/queue`, `/quota`, `/history`, `/describe`, `/help`: the
        core's answer, seen only by the caller."""
        if await self._refused_here(interaction):
            return
        reply = await self.core.handle(_user(interaction), line, self._target(interaction))
        await interaction.response.send_message(reply.text, ephemeral=True)

    async def extend(self, interaction: discord.Interaction, job: int | None,
                     prompt: str | None) -> None:
        """`/extend [job] [prompt]`: queue through the core, acknowledge with Cancel."""
        if await self._refused_here(interaction):
            return
        await self._queue(interaction, self.core.extend_job(
            _user(interaction), job, prompt=prompt or "", reply_target=self._target(interaction)))

    async def admin_queue(self, interaction: discord.Interaction) -> None:
        """`/videoadmin queue`: every active job; only for the config's admins."""
        if not self.is_admin(interaction):
            await interaction.response.send_message(replies.ADMIN_ONLY, ephemeral=True)
            return
        jobs = await self.store.jobs.active_jobs()
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
        """Cancel, Reroll, Same seed, Extend, Vary or Delete: the owner or an admin may; others
        are told."""
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
        elif action == "extend":
            await self._queue(interaction, self.core.extend_job(
                user, job_id, reply_target=self._target(interaction), admin=admin))
        elif action == "vary":
            await self._ask_variation(interaction, user, job_id, admin)
        else:
            await self._queue(interaction, self.core.rerun(
                user, job_id, new_seed=action == "reroll",
                reply_target=self._target(interaction), admin=admin))

    async def on_vary_prompt(self, interaction: discord.Interaction, job_id: int,
                             prompt: str) -> None:
        """The Vary modal submitted: the variation queued, answered as the other buttons are."""
        try:
            await self._queue(interaction, self.core.vary(
                _user(interaction), job_id, prompt, reply_target=self._target(interaction),
                admin=self.is_admin(interaction)))
        except Exception as exc:
            await self.on_error(interaction, exc)

    async def _ask_variation(self, interaction: discord.Interaction, user: UserRef,
                             job_id: int, admin: bool) -> None:
        """The modal for the new prompt, or (not theirs, gone, ...) a refusal only they see."""
        source = await self.core.vary_source(user, job_id, admin=admin)
        if source.job is None:
            await interaction.response.send_message(source.text, ephemeral=True)
            return
        await interaction.response.send_modal(
            vary_modal(source.job, self.core.config.limits.max_prompt_chars))

    async def _delete(self, interaction: discord.Interaction, user: UserRef, job_id: int,
                      admin: bool) -> None:
        job = await self.store.jobs.get(job_id)
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
            self.acknowledgements.remember(reply.job.id, interaction)
            message = await interaction.edit_original_response(
                content=reply.text, view=job_buttons(reply.job.id, "cancel"))
            await self.store.deliveries.update_reply_target(reply.job.id, message_id=message.id)
        else:
            self.acknowledgements.remember(reply.job.id, interaction)
            response = await interaction.response.send_message(
                reply.text, view=job_buttons(reply.job.id, "cancel"))
            await self.store.deliveries.update_reply_target(reply.job.id,
                                                            message_id=response.message_id)

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

    # -- progress (status) and results (delivery) -----------------------------------------

    async def show_progress(self, job: JobRecord, text: str) -> None:
        """Edit the job's acknowledgement with `text`, at the configured pace."""
        self.acknowledgements.show_progress(job, text)

    async def deliver(self, job: JobRecord) -> None:
        """Post the clip (or the failure notice) once, in the channel."""
        await self.delivery.deliver(job)

    def _client(self) -> AdapterClient:
        if self.client is None:
            raise RuntimeError("the Discord adapter is not started")
        return self.client


def _user(interaction: discord.Interaction) -> UserRef:
    """The caller as the core names them, with their roles here (for quota tiers)."""
    roles = getattr(interaction.user, "roles", ())
    return UserRef(PLATFORM, str(interaction.user.id), interaction.user.display_name,
                   groups=frozenset(f"discord-role:{role.id}" for role in roles))


def _age_restricted(channel: object) -> bool:
    """Whether the channel is marked age-restricted (never true of a DM)."""
    is_nsfw = getattr(channel, "is_nsfw", None)
    return bool(is_nsfw()) if callable(is_nsfw) else False
