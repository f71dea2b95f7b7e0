"""What the Discord adapter does after the acknowledgement: progress edits, and the result.

- Interaction tokens are credentials for 15 minutes: they live in this process's memory only
  (`LiveInteraction`), never in the database or the logs. Progress edits the acknowledgement
  through the token while it lives; a restarted bot, which has lost the tokens, no longer
  edits old acknowledgements but still delivers.
- The result is a channel message (the bot's token) mentioning the user and replying to the
  acknowledgement. It is posted once: it carries a nonce derived from the job, with
  `enforce_nonce` (discord.py sets it with every nonce), so a delivery retried after a crash
  between the post and its record gets back the message Discord already created (within
  Discord's nonce window of a few minutes) instead of posting a second one; the message's id
  goes to the bot's journal (`bot.posted`) the moment Discord answers. Where the bot may not
  post in the channel, a live interaction's follow-up carries the result instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord

from bot.core import replies
from bot.posted import PostedJournal
from bot.uploads import prepare_upload
from storage.models import JobStatus
from storage.records import JobRecord
from storage.store import Store
from videobot.config import DiscordConfig

log = logging.getLogger(__name__)

#: The interaction webhook is used only in this share of the token's life (an upload can take
#: a while, and the token must still be valid when it ends).
TOKEN_SAFETY = 0.95
#: Discord takes a message nonce of at most 25 characters.
NONCE_CHARS = 25

Buttons = Callable[..., discord.ui.View]


@dataclass(frozen=True)
class LiveInteraction:
    """What editing an acknowledgement needs: the interaction's token, in memory only."""

    application_id: int
    token: str = ""
    created_at: float = 0.0

    @classmethod
    def of(cls, interaction: discord.Interaction) -> LiveInteraction:
        return cls(interaction.application_id, interaction.token,
                   interaction.created_at.timestamp())

    def __repr__(self) -> str:
        return f"LiveInteraction({self.application_id}, <token>)"


def result_nonce(job: JobRecord) -> str:
    """The same for every delivery of one job, different for every job (of any database)."""
    key = f"videobot:{job.id}:{job.created_at.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:NONCE_CHARS]


class DiscordDelivery:
    """Progress edits and results for the adapter; `client` gives its started client."""

    def __init__(self, *, client: Callable[[], discord.Client], store: Store,
                 config: DiscordConfig, work_dir: Path, clock: Callable[[], float],
                 journal: PostedJournal, buttons: Buttons) -> None:
        self.client = client
        self.store = store
        self.config = config
        self.work_dir = work_dir
        self.clock = clock
        self.journal = journal
        self.buttons = buttons
        self._interactions: dict[int, LiveInteraction] = {}
        self._pending: dict[int, tuple[LiveInteraction, int, str]] = {}
        self._next_edit: dict[int, float] = {}
        self._editors: dict[int, asyncio.Task[None]] = {}

    def remember(self, job_id: int, interaction: discord.Interaction) -> None:
        """The interaction that acknowledged `job_id`, for its edits while its token lives."""
        self._interactions[job_id] = LiveInteraction.of(interaction)

    async def stop(self) -> None:
        for task in self._editors.values():
            task.cancel()
        await asyncio.gather(*self._editors.values(), return_exceptions=True)

    # -- progress ---------------------------------------------------------------------------

    async def show_progress(self, job: JobRecord, text: str) -> None:
        """Queue `text` for the acknowledgement; an editor task per job keeps the pace."""
        live = self._live(job.id)
        message_id = job.reply_target.get("message_id")
        if live is None or not isinstance(message_id, int):
            return
        self._pending[job.id] = (live, message_id, text)
        if job.id not in self._editors:
            self._editors[job.id] = asyncio.create_task(self._edit_progress(job.id))

    async def _edit_progress(self, job_id: int) -> None:
        """Edit with the latest text, at most once per `progress_interval_seconds`."""
        try:
            while job_id in self._pending:
                await asyncio.sleep(max(0.0, self._next_edit.get(job_id, 0) - time.monotonic()))
                live, message_id, text = self._pending.pop(job_id)
                self._next_edit[job_id] = time.monotonic() + self.config.progress_interval_seconds
                try:
                    await self._webhook(live).edit_message(message_id, content=text)
                except discord.HTTPException:
                    log.warning("progress edit for job %s failed", job_id, exc_info=True)
        finally:
            self._editors.pop(job_id, None)

    async def _stop_progress(self, job_id: int) -> None:
        self._pending.pop(job_id, None)
        self._next_edit.pop(job_id, None)
        editor = self._editors.pop(job_id, None)
        if editor is not None:
            editor.cancel()
            await asyncio.gather(editor, return_exceptions=True)

    # -- the result -------------------------------------------------------------------------

    async def deliver(self, job: JobRecord) -> None:
        """Post the clip (or the failure notice) once, then close the acknowledgement."""
        await self._stop_progress(job.id)
        target = job.reply_target
        if target.get("result_message_id") or self.journal.get(job.id).get("result_message_id"):
            return  # posted before; only recording the delivery was missing
        message = await self._post_result(job, target)
        await self.journal.record(job.id, result_message_id=message.id)
        await self._close_acknowledgement(job, target)
        self._interactions.pop(job.id, None)

    async def _post_result(self, job: JobRecord, target: dict[str, Any]) -> discord.Message:
        """In the channel, with the job's nonce; a follow-up where that is forbidden."""
        text, options = await self._result(job, target)
        channel = self.client().get_partial_messageable(int(target["channel_id"]))
        acknowledgement = target.get("message_id")
        if isinstance(acknowledgement, int):  # a reply to it; a plain post if it is gone
            options["reference"] = discord.MessageReference(
                message_id=acknowledgement, channel_id=int(target["channel_id"]),
                fail_if_not_exists=False)
        mentions = discord.AllowedMentions(everyone=False, roles=False, users=True)
        try:
            return await channel.send(f"<@{target['user_id']}> {text}", nonce=result_nonce(job),
                                      allowed_mentions=mentions, **options)
        except discord.Forbidden:
            live = self._live(job.id)
            if live is None:
                raise
            log.warning("job %s: the bot may not post in channel %s; sending the result as "
                        "the interaction's follow-up", job.id, target["channel_id"])
        text, options = await self._result(job, target)  # a file is read once per send
        return await self._webhook(live).send(text, wait=True, **options)

    async def _result(self, job: JobRecord,
                      target: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The text, and the file and buttons of a finished job's message."""
        if job.status != JobStatus.SUCCEEDED or job.clip is None:
            return replies.finished(job), {}
        limit = int(target.get("upload_limit") or discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES)
        upload = await prepare_upload(job.clip, limit, self.work_dir)
        file = discord.File(str(upload.video_path), filename=f"videobot-{job.id}.mp4")
        view = self.buttons(job.id, "reroll", "same", "delete")
        return replies.upload_caption(job, upload.note), {"file": file, "view": view}

    async def _close_acknowledgement(self, job: JobRecord, target: dict[str, Any]) -> None:
        """Best effort: the acknowledgement's final words, without its Cancel button."""
        live = self._live(job.id)
        message_id = target.get("message_id")
        if live is None or not isinstance(message_id, int):
            return
        text = replies.status(job, None, self.store.clock())
        try:
            await self._webhook(live).edit_message(message_id, content=text, view=None)
        except discord.HTTPException:
            log.warning("closing the acknowledgement of job %s failed", job.id, exc_info=True)

    def _live(self, job_id: int) -> LiveInteraction | None:
        """The job's interaction while its token is (safely) valid."""
        live = self._interactions.get(job_id)
        if live is None:
            return None
        if self.clock() - live.created_at >= TOKEN_SAFETY * self.config.interaction_token_seconds:
            return None
        return live

    def _webhook(self, live: LiveInteraction) -> discord.Webhook:
        return discord.Webhook.partial(live.application_id, live.token, client=self.client())
