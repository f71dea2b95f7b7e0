"""The picture a `/video` on Telegram comes with: a photo (or an image sent as a file) with the
command as its caption, or the one in the message the command replies to. Fetched only when
the core asks (getFile, then the file's download), the largest photo size under the limit."""

from __future__ import annotations

import logging
from functools import partial

from telegram import Document, Message, PhotoSize
from telegram.error import BadRequest, TelegramError

from bot.adapters.telegram.api import call
from bot.core import replies
from bot.core.attachments import AttachedImage
from bot.core.errors import CommandError

log = logging.getLogger(__name__)

PLATFORM_NAME = "Telegram"


def attached_picture(message: Message, *, max_bytes: int) -> AttachedImage | None:
    """The picture of `message`, else of the message it replies to; None when neither has
    one."""
    for source in (message, message.reply_to_message):
        file = _picture_file(source, max_bytes) if source is not None else None
        if file is not None:
            return AttachedImage(partial(_download, file), file.file_size)
    return None


def _picture_file(message: Message, max_bytes: int) -> PhotoSize | Document | None:
    """The largest size of a photo that fits `max_bytes` (the smallest when none does: the
    core then says how large it is), or the file sent as a document (the core checks what it
    holds)."""
    if message.photo:
        fitting = [size for size in message.photo
                   if size.file_size is None or size.file_size <= max_bytes]
        return max(fitting, key=_pixels) if fitting else min(message.photo, key=_pixels)
    return message.document


def _pixels(size: PhotoSize) -> int:
    return size.width * size.height


async def _download(file: PhotoSize | Document) -> bytes:
    try:
        found = await call(file.get_file)
        return bytes(await call(found.download_as_bytearray))
    except TelegramError as exc:
        # The Bot API's own refusal (e.g. "file is too big": bots download at most 20 MB) is
        # worth telling; nothing else is (a network error may quote the URL, which holds the
        # token): the log has it, redacted.
        log.warning("telegram: downloading a picture failed: %s", exc.message)
        reason = exc.message if isinstance(exc, BadRequest) else ""
        raise CommandError(replies.image_not_downloaded(PLATFORM_NAME, reason)) from None
