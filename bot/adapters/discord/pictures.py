"""The picture sent in `/video`'s `image` option: read from Discord's CDN only when the core
asks, after it checked the size Discord announced."""

from __future__ import annotations

import logging
from functools import partial

import discord

from bot.core import replies
from bot.core.attachments import AttachedImage
from bot.core.errors import CommandError

log = logging.getLogger(__name__)

PLATFORM_NAME = "Discord"


def attached_picture(attachment: discord.Attachment | None) -> AttachedImage | None:
    """The option's attachment as the core takes a picture; None when none was sent."""
    if attachment is None:
        return None
    return AttachedImage(partial(_read, attachment), attachment.size)


async def _read(attachment: discord.Attachment) -> bytes:
    try:
        return await attachment.read()
    except discord.HTTPException as exc:  # gone from the CDN, refused, or a server error
        log.warning("discord: reading attachment %s failed: %s", attachment.id, exc)
        raise CommandError(replies.image_not_downloaded(
            PLATFORM_NAME, f"HTTP {exc.status}")) from None
