"""The picture sent in `/video`'s `image` option, or attached to a message the "Animate"
command is used on: read from Discord's CDN only when the core asks, after it checked the
size Discord announced."""

from __future__ import annotations

import logging
from functools import partial

import discord

from bot.core import replies
from bot.core.attachments import AttachedImage
from bot.core.errors import CommandError

log = logging.getLogger(__name__)

PLATFORM_NAME = "Discord"
#: The names of the image files the core takes, for an attachment whose type is not given.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def attached_picture(attachment: discord.Attachment | None) -> AttachedImage | None:
    """The option's attachment as the core takes a picture; None when none was sent."""
    if attachment is None:
        return None
    return AttachedImage(partial(_read, attachment), attachment.size)


def message_picture(message: discord.Message) -> AttachedImage | None:
    """The first image attached to `message` (by its type, else its name); None when it has
    none. The core checks what the file holds."""
    for attachment in message.attachments:
        kind = attachment.content_type or ""
        if kind.startswith("image/") or (not kind and attachment.filename.lower().endswith(
                IMAGE_SUFFIXES)):
            return attached_picture(attachment)
    return None


async def _read(attachment: discord.Attachment) -> bytes:
    try:
        return await attachment.read()
    except discord.HTTPException as exc:  # gone from the CDN, refused, or a server error
        log.warning("discord: reading attachment %s failed: %s", attachment.id, exc)
        raise CommandError(replies.image_not_downloaded(
            PLATFORM_NAME, f"HTTP {exc.status}")) from None
