"""`--image PATH` in the console chat and the shell: a picture on the bot's own computer, the
path relative to the folder the bot was started in."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bot.core import replies
from bot.core.attachments import AttachedImage
from bot.core.errors import CommandError


def open_image_file(path: str) -> AttachedImage:
    """The file at `path`, its size read now (a missing file is refused before anything is
    queued); `CommandError` naming the file when it cannot be read."""
    file = Path(path).expanduser()
    try:
        size = file.stat().st_size
    except OSError as exc:
        raise CommandError(replies.image_file_unreadable(path, _reason(exc))) from None
    if file.is_dir():
        raise CommandError(replies.image_file_unreadable(path, replies.IMAGE_PATH_IS_FOLDER))
    if not os.access(file, os.R_OK):
        raise CommandError(replies.image_file_unreadable(path, replies.IMAGE_FILE_NO_PERMISSION))

    async def fetch() -> bytes:
        try:
            return await asyncio.to_thread(file.read_bytes)
        except OSError as exc:
            raise CommandError(replies.image_file_unreadable(path, _reason(exc))) from None

    return AttachedImage(fetch, size)


def _reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return replies.IMAGE_FILE_MISSING
    if isinstance(exc, PermissionError):
        return replies.IMAGE_FILE_NO_PERMISSION
    return exc.strerror or type(exc).__name__
