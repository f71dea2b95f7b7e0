"""A picture sent with a command, as a front door hands it to the core: not yet fetched, so
that its size is checked (and the command's options read) before anything is downloaded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core import replies
from bot.core.errors import CommandError, InputTooLarge
from bot.core.parsing import VideoOptions
from videobot.images import ImageTooLarge, check_image_size


@dataclass(frozen=True)
class AttachedImage:
    """`size`: the file's size in bytes when the platform tells it before the download (None:
    unknown); `fetch`: the file's bytes (raising `CommandError` naming what went wrong)."""

    fetch: Callable[[], Awaitable[bytes]]
    size: int | None = None


#: How a front door that may read the bot's own files (the console, the shell) turns an
#: `--image PATH` into a picture; chat platforms pass none, so the core reads no path for them.
OpenImageFile = Callable[[str], AttachedImage]


async def fetched(image: AttachedImage, *, max_mb: float) -> bytes:
    """The picture's bytes, its announced size checked first (nothing over `max_mb` is
    downloaded); `InputTooLarge` with the reason when it is over."""
    try:
        if image.size is not None:
            check_image_size(image.size, max_mb=max_mb)
        data = await image.fetch()
        check_image_size(len(data), max_mb=max_mb)  # a platform may have under-announced it
    except ImageTooLarge as exc:
        raise InputTooLarge(str(exc)) from None
    return data


def picture_of(options: VideoOptions, attached: AttachedImage | None,
               open_file: OpenImageFile | None) -> AttachedImage | None:
    """The picture a `/video` came with: `--image PATH` where the front door may read paths
    (else a `CommandError` saying how to send one), or the one attached to the message."""
    if not options.image_path:
        return attached
    if open_file is None:
        raise CommandError(replies.IMAGE_PATH_CONSOLE_ONLY)
    return open_file(options.image_path)
