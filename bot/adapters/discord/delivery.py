"""Delivering a Discord job: its result, posted once, then its acknowledgement closed.

The result is a channel message (the bot's token) mentioning the user and replying to the
acknowledgement. It is posted once: it carries a nonce derived from the job, with
`enforce_nonce` (discord.py sets it with every nonce), so a delivery retried after a crash
between the post and its record gets back the message Discord already created (within
Discord's nonce window of a few minutes) instead of posting a second one; the message's id
goes to the bot's journal (`bot.posted`) the moment Discord answers. Where the bot may not
post in the channel, a live interaction's follow-up carries the result instead.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord

from bot.adapters.discord.buttons import job_buttons
from bot.adapters.discord.status import Acknowledgements
from bot.core import replies
from bot.posted import PostedJournal
from bot.uploads import prepare_upload
from storage.models import JobStatus
from storage.records import JobRecord

log = logging.getLogger(__name__)

#: Discord takes a message nonce of at most 25 characters.
NONCE_CHARS = 25


def result_nonce(job: JobRecord) -> str:
    """The same for every delivery of one job, different for every job (of any database)."""
    key = f"videobot:{job.id}:{job.created_at.isoformat()}"
    return hashlib.sha256(key.encode()).hexdigest()[:NONCE_CHARS]


class DiscordDelivery:
    """Results for the adapter; `client` gives its started client."""

    def __init__(self, *, client: Callable[[], discord.Client],
                 acknowledgements: Acknowledgements, work_dir: Path,
                 journal: PostedJournal) -> None:
        self.client = client
        self.acknowledgements = acknowledgements
        self.work_dir = work_dir
        self.journal = journal

    async def deliver(self, job: JobRecord) -> None:
        """Post the clip (or the failure notice) once, then close the acknowledgement."""
        await self.acknowledgements.stop_progress(job.id)
        target = job.reply_target
        if target.get("result_message_id") or self.journal.get(job.id).get("result_message_id"):
            return  # posted before; only recording the delivery was missing
        message = await self._post_result(job, target)
        await self.journal.record(job.id, result_message_id=message.id)
        await self.acknowledgements.close(job)

    async def _post_result(self, job: JobRecord, target: dict[str, Any]) -> discord.Message:
        """In the channel, with the job's nonce; a follow-up where that is forbidden."""
        text, options = await self._result(job, target)
        channel = self.client().get_partial_messageable(int(target["channel_id"]))
        acknowledgement = self.acknowledgements.message_id(job)
        if acknowledgement is not None:  # a reply to it; a plain post if it is gone
            options["reference"] = discord.MessageReference(
                message_id=acknowledgement, channel_id=int(target["channel_id"]),
                fail_if_not_exists=False)
        mentions = discord.AllowedMentions(everyone=False, roles=False, users=True)
        try:
            return await channel.send(f"<@{target['user_id']}> {text}", nonce=result_nonce(job),
                                      allowed_mentions=mentions, **options)
        except discord.Forbidden:
            live = self.acknowledgements.live(job.id)
            if live is None:
                raise
            log.warning("job %s: the bot may not post in channel %s; sending the result as "
                        "the interaction's follow-up", job.id, target["channel_id"])
        text, options = await self._result(job, target)  # a file is read once per send
        return await self.acknowledgements.webhook(live).send(text, wait=True, **options)

    async def _result(self, job: JobRecord,
                      target: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The text, and the file and buttons of a finished job's message."""
        if job.status != JobStatus.SUCCEEDED or job.clip is None:
            return replies.finished(job), {}
        limit = int(target.get("upload_limit") or discord.utils.DEFAULT_FILE_SIZE_LIMIT_BYTES)
        upload = await prepare_upload(job.clip, limit, self.work_dir)
        file = discord.File(str(upload.video_path), filename=f"videobot-{job.id}.mp4")
        view = job_buttons(job.id, "reroll", "same", "extend", "vary", "delete")
        return replies.upload_caption(job, upload.note), {"file": file, "view": view}
