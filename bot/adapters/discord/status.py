"""A Discord job's acknowledgement, its status message: edited with progress through the
interaction's token while it lives, posted again (as the interaction's follow-up) when someone
deleted it, and given its final words once the job is delivered.

While a clip renders with previews, a progress edit carries the latest one as the message's
one attachment (replaced, never added to), at most once every `preview_every_s` per job
(`bot.adapters.status_previews`); edits between pictures change the text and keep it. Once
the clip is posted, closing the acknowledgement removes the picture (the clip replaced it); a
failed or cancelled job keeps its last one beside the final words.

Interaction tokens are credentials for 15 minutes: they live in this process's memory only
(`LiveInteraction`), never in the database or the logs. A restarted bot, which has lost the
tokens, no longer edits old acknowledgements but still delivers.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.adapters.discord.buttons import job_buttons
from bot.adapters.progress import ProgressThrottle
from bot.adapters.status_message import StatusUpdate, edit_or_repost
from bot.adapters.status_previews import StatusPreviews
from bot.core import replies
from storage.models import JobStatus
from storage.records import JobRecord, PreviewRecord
from storage.store import Store
from videobot.config import DiscordConfig

log = logging.getLogger(__name__)

#: The interaction webhook is used only in this share of the token's life (an upload can take
#: a while, and the token must still be valid when it ends).
TOKEN_SAFETY = 0.95
#: Discord's error code for a message that does not exist (any more).
UNKNOWN_MESSAGE = 10008


@dataclass(frozen=True)
class LiveInteraction:
    """What editing an acknowledgement needs: the interaction's token, in memory only."""

    application_id: int
    token: str = ""
    created_at: float = 0.0

    @classmethod
    def of(cls, interaction: discord.Interaction) -> LiveInteraction:
        """The parts of `interaction` that its later edits need."""
        return cls(interaction.application_id, interaction.token,
                   interaction.created_at.timestamp())

    def __repr__(self) -> str:
        return f"LiveInteraction({self.application_id}, <token>)"


class Acknowledgements:
    """Each job's acknowledgement: its interaction, its progress edits, its final words."""

    def __init__(self, *, client: Callable[[], discord.Client], store: Store,
                 config: DiscordConfig, clock: Callable[[], float],
                 previews: StatusPreviews) -> None:
        """`previews`: which preview each acknowledgement shows, and when."""
        self.client = client
        self.store = store
        self.config = config
        self.clock = clock
        self.previews = previews
        self._interactions: dict[int, LiveInteraction] = {}
        #: Acknowledgements posted again, by job: the job's reply target may still be older.
        self._reposted: dict[int, int] = {}
        #: A lane is a job: Discord limits the edits of each interaction.
        self._throttle: ProgressThrottle[int, StatusUpdate] = ProgressThrottle(
            config.progress_interval_seconds, self._edit_progress)

    def remember(self, job_id: int, interaction: discord.Interaction) -> None:
        """The interaction that acknowledged `job_id`, for its edits while its token lives."""
        self._interactions[job_id] = LiveInteraction.of(interaction)

    async def stop(self) -> None:
        """Stop the progress edits; what waits is not sent."""
        await self._throttle.close()

    # -- progress ---------------------------------------------------------------------------

    def show_progress(self, job: JobRecord, text: str) -> None:
        """Queue `text` for the acknowledgement, edited at most once per interval."""
        if self.live(job.id) is not None and self.message_id(job) is not None:
            self._throttle.offer(job.id, job.id, StatusUpdate(job, text))

    async def stop_progress(self, job_id: int) -> None:
        """No more progress for the job; returns once no edit of it is under way."""
        await self._throttle.withdraw(job_id, job_id)

    async def _edit_progress(self, update: StatusUpdate) -> float:
        job = update.job
        live, message_id = self.live(job.id), self.message_id(job)
        if live is None or message_id is None:
            return 0.0
        webhook = self.webhook(live)
        preview = await self.previews.due(job)

        async def edit(acknowledgement: int) -> None:
            if preview is None:  # the text only: the picture it has stays
                await webhook.edit_message(acknowledgement, content=update.text)
            else:
                await webhook.edit_message(acknowledgement, content=update.text,
                                           attachments=[_picture(preview)])

        async def post() -> int:  # someone deleted it: a follow-up, with the Cancel button
            picture = preview or self.previews.last_shown(job.id)
            extra: dict[str, Any] = {"file": _picture(picture)} if picture else {}
            message = await webhook.send(update.text, wait=True,
                                         view=job_buttons(job.id, "cancel"), **extra)
            return message.id

        async def remember(acknowledgement: int) -> None:
            self._reposted[job.id] = acknowledgement
            await self.store.deliveries.update_reply_target(job.id, message_id=acknowledgement)

        try:
            await edit_or_repost(message_id, edit=edit, post=post, is_gone=_gone,
                                 remember=remember)
        except discord.HTTPException:
            log.warning("progress edit for job %s failed", job.id, exc_info=True)
            return self._throttle.interval
        if preview is not None:
            self.previews.shown(preview)
        return self._throttle.interval

    # -- the end ----------------------------------------------------------------------------

    async def close(self, job: JobRecord) -> None:
        """Best effort: the acknowledgement's final words, without its Cancel button; then
        the job's interaction is forgotten."""
        live, message_id = self.live(job.id), self.message_id(job)
        pictured = self.previews.last_shown(job.id) is not None
        self._interactions.pop(job.id, None)
        self._reposted.pop(job.id, None)
        self.previews.forget(job.id)
        if live is None or message_id is None:
            return
        text = replies.status(job, None, self.store.clock())
        extra: dict[str, Any] = {}
        if pictured and job.status == JobStatus.SUCCEEDED:
            extra["attachments"] = []  # the clip, posted below it, replaced the preview
        try:
            await self.webhook(live).edit_message(message_id, content=text, view=None, **extra)
        except discord.HTTPException:
            log.warning("closing the acknowledgement of job %s failed", job.id, exc_info=True)

    def message_id(self, job: JobRecord) -> int | None:
        """The id of the job's acknowledgement, when it has one."""
        message_id = self._reposted.get(job.id, job.reply_target.get("message_id"))
        return message_id if isinstance(message_id, int) else None

    def live(self, job_id: int) -> LiveInteraction | None:
        """The job's interaction while its token is (safely) valid."""
        live = self._interactions.get(job_id)
        if live is None:
            return None
        if self.clock() - live.created_at >= TOKEN_SAFETY * self.config.interaction_token_seconds:
            return None
        return live

    def webhook(self, live: LiveInteraction) -> discord.Webhook:
        """The interaction's webhook: edits and follow-ups through its token."""
        return discord.Webhook.partial(live.application_id, live.token, client=self.client())


def _picture(preview: PreviewRecord) -> discord.File:
    """The preview as the acknowledgement's attachment (a file object is read once)."""
    return discord.File(io.BytesIO(preview.jpeg), filename=f"preview-{preview.job_id}.jpg",
                        description=f"step {preview.step} of {preview.total}")


def _gone(exc: Exception) -> bool:
    return isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_MESSAGE
