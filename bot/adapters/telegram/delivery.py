"""Delivering a Telegram job: the clip posted once (`sendVideo`, its message id journaled the
moment Telegram answers), then the status message goes; or the final word in the status
message (the caption of its last preview, when it became a photo)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden

from bot.adapters.status_message import edit_or_repost
from bot.adapters.telegram.api import (
    CAPTION_LIMIT,
    call,
    clip,
    gone,
    reply_to,
    result_keyboard,
)
from bot.adapters.telegram.status import JobView, StatusMessages
from bot.adapters.telegram.status_edits import edit_words
from bot.core import replies
from bot.posted import POSTING
from bot.uploads import prepare_upload
from storage.models import JobStatus
from storage.records import JobRecord
from videobot.media.clip import ClipTooLarge
from videobot.media.thumbnail import telegram_thumbnail

log = logging.getLogger(__name__)

#: Telegram may take long to answer an upload; a timeout there risks posting the clip twice.
UPLOAD_READ_TIMEOUT_S = 120.0


class TelegramDelivery:
    """Posts finished jobs into their chats."""

    def __init__(self, *, bot: Callable[[], Bot], messages: StatusMessages, upload_limit: int,
                 work_dir: Path) -> None:
        self._bot = bot
        self.messages = messages
        self.upload_limit = upload_limit
        self.work_dir = work_dir

    async def deliver(self, job: JobRecord) -> None:
        """Post the clip (or the failure or cancellation notice) once, then drop the status
        message. Raises to have the delivery loop try again later."""
        view = self.messages.view(job)
        if view is None:
            log.warning("telegram: job %s has no chat to deliver to", job.id)
            return
        await self.messages.stop_progress(job, view)
        async with view.lock:
            try:
                if job.status == JobStatus.SUCCEEDED and job.clip is not None:
                    await self._deliver_clip(job, view)
                else:
                    await self._deliver_notice(job, view, replies.finished(job))
            except Forbidden as exc:  # blocked or removed from the group: nobody to tell
                log.warning("telegram: cannot post job %s to chat %s: %s",
                            job.id, view.chat_id, exc)
        self.messages.forget(job)

    async def _deliver_clip(self, job: JobRecord, view: JobView) -> None:
        if view.result_message_id is None:
            await self.messages.journal.record(job.id, **{POSTING: True})
            try:
                sent = await self._send_video(job, view)
            except ClipTooLarge:
                await self._deliver_notice(job, view, replies.clip_too_large(job))
                return
            await self.messages.remember_result(job, view, sent.message_id)
        if view.status_message_id is not None:
            await self._delete_quietly(view.chat_id, view.status_message_id)

    async def _send_video(self, job: JobRecord, view: JobView) -> Message:
        assert job.clip is not None
        upload = await prepare_upload(job.clip, self.upload_limit, self.work_dir)
        video, thumbnail = await asyncio.gather(
            asyncio.to_thread(upload.video_path.read_bytes),
            asyncio.to_thread(telegram_thumbnail, upload.poster_path))
        caption = replies.upload_caption(job, upload.note)
        return await call(lambda: self._bot().send_video(
            view.chat_id, video, filename=f"job-{job.id}.mp4", thumbnail=thumbnail,
            duration=max(1, round(upload.duration_s)), width=upload.width,
            height=upload.height, supports_streaming=True,
            caption=clip(caption, CAPTION_LIMIT), reply_markup=result_keyboard(job.id),
            reply_parameters=reply_to(job.reply_target.get("message_id")),
            read_timeout=UPLOAD_READ_TIMEOUT_S))

    async def _deliver_notice(self, job: JobRecord, view: JobView, text: str) -> None:
        """The final word: the status message edited to `text`, or a new reply with it."""
        if view.result_message_id is not None:
            return
        bot = self._bot()

        async def edit(message_id: int) -> None:  # the text, or a preview photo's caption
            await call(lambda: edit_words(bot, view, message_id, text, None))

        async def post() -> int:
            sent = await call(lambda: bot.send_message(
                view.chat_id, text,
                reply_parameters=reply_to(job.reply_target.get("message_id"))))
            return sent.message_id

        shown = await edit_or_repost(view.status_message_id, edit=edit, post=post,
                                     is_gone=gone)
        await self.messages.remember_result(job, view, shown)

    async def _delete_quietly(self, chat_id: int, message_id: int) -> None:
        try:
            await self._bot().delete_message(chat_id, message_id)
        except BadRequest:
            pass  # already gone
        except Exception as exc:
            log.warning("telegram: could not remove status message %s: %s", message_id, exc)
