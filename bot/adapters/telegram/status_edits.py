"""The Telegram calls that change a status message: a text message, or, once a preview came, a
photo of it with the progress as its caption.

A preview goes in with `editMessageMedia` (multipart, the JPEG as an `attach://` part). The
Bot API lets that add a photo to a text message (as python-telegram-bot 22.8 documents it,
Bot API 10.0); an older Bot API server refuses ("there is no media in the message to edit"),
and then the status is posted anew as a photo through the shared edit-or-repost, and the text
message removed. Progress between pictures edits the caption; Telegram refuses to edit the
text of a photo message ("there is no text in the message to edit"), which is how a restarted
bot, which no longer knows, learns that the message is a photo.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from telegram import Bot, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import BadRequest

from bot.adapters.status_message import edit_or_repost
from bot.adapters.telegram.api import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    clip,
    gone,
    no_media,
    no_text,
    not_modified,
    reply_to,
)

log = logging.getLogger(__name__)


class StatusShape(Protocol):
    """Where a job's status message is, and what kind of message it is."""

    chat_id: int
    status_message_id: int | None
    #: A photo (a preview with the progress as its caption), a text message (False), or
    #: not known (None: after a restart, until Telegram's answer tells).
    photo: bool | None


@dataclass(frozen=True)
class StatusPost:
    """How a status message is posted anew: replying to `reply_to`, with `keyboard`, and
    `remember` told the new message's id."""

    reply_to: int | None
    keyboard: InlineKeyboardMarkup | None
    remember: Callable[[int], Awaitable[object]]


async def edit_words(bot: Bot, shape: StatusShape, message_id: int, text: str,
                     keyboard: InlineKeyboardMarkup | None) -> None:
    """Show `text` in the message: its text, or its caption when it is a photo. Without a
    `keyboard`, the buttons go. An edit that changes nothing is no error."""
    try:
        if shape.photo is not True:
            try:
                await bot.edit_message_text(clip(text, MESSAGE_LIMIT), chat_id=shape.chat_id,
                                            message_id=message_id, reply_markup=keyboard)
                shape.photo = False
                return
            except BadRequest as exc:
                if not no_text(exc):
                    raise
                shape.photo = True
        await bot.edit_message_caption(chat_id=shape.chat_id, message_id=message_id,
                                       caption=clip(text, CAPTION_LIMIT), reply_markup=keyboard)
    except BadRequest as exc:
        if not not_modified(exc):
            raise


async def show_words(bot: Bot, shape: StatusShape, text: str, post: StatusPost,
                     picture: bytes | None) -> None:
    """Progress without a new picture; a deleted message is posted again, as a photo of
    `picture` (the last one shown) when there is one."""

    async def edit(message_id: int) -> None:
        await edit_words(bot, shape, message_id, text, post.keyboard)

    async def repost() -> int:
        if picture is not None:
            return await _send_photo(bot, shape, text, post, picture)
        sent = await bot.send_message(shape.chat_id, clip(text, MESSAGE_LIMIT),
                                      reply_markup=post.keyboard,
                                      reply_parameters=reply_to(post.reply_to))
        shape.photo = False
        return sent.message_id

    await edit_or_repost(shape.status_message_id, edit=edit, post=repost, is_gone=gone,
                         remember=post.remember)


async def show_picture(bot: Bot, shape: StatusShape, text: str, post: StatusPost,
                       picture: bytes) -> None:
    """The message's media replaced by `picture`, with `text` as its caption; posted anew as
    a photo when it is gone or cannot take media (the text message it replaces is removed)."""
    before = shape.status_message_id

    async def edit(message_id: int) -> None:
        media = InputMediaPhoto(picture, caption=clip(text, CAPTION_LIMIT),
                                filename="preview.jpg")
        try:
            await bot.edit_message_media(media, chat_id=shape.chat_id, message_id=message_id,
                                         reply_markup=post.keyboard)
        except BadRequest as exc:
            if not not_modified(exc):
                raise
        shape.photo = True

    async def repost() -> int:
        return await _send_photo(bot, shape, text, post, picture)

    shown = await edit_or_repost(before, edit=edit, post=repost,
                                 is_gone=lambda exc: gone(exc) or no_media(exc),
                                 remember=post.remember)
    if before is not None and shown != before:
        await _delete_quietly(bot, shape.chat_id, before)


async def _send_photo(bot: Bot, shape: StatusShape, text: str, post: StatusPost,
                      picture: bytes) -> int:
    sent = await bot.send_photo(shape.chat_id, picture, caption=clip(text, CAPTION_LIMIT),
                                filename="preview.jpg", reply_markup=post.keyboard,
                                reply_parameters=reply_to(post.reply_to))
    shape.photo = True
    return sent.message_id


async def _delete_quietly(bot: Bot, chat_id: int, message_id: int) -> None:
    """The text status a photo replaced; already gone is fine, and a failure leaves an old
    message behind, not a broken job."""
    try:
        await bot.delete_message(chat_id, message_id)
    except BadRequest:
        pass
    except Exception as exc:
        log.warning("telegram: could not remove status message %s: %s", message_id, exc)
