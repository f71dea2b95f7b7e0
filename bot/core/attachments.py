"""A picture sent with a command, as a front door hands it to the core: not yet fetched, so
that its size is checked (and the command's options read) before anything is downloaded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core import replies
from bot.core.errors import CommandError, InputTooLarge
from bot.core.parsing import VideoOptions
from storage.inputs import StoredInput, prepare_input
from videobot.config import Config
from videobot.images import BadImage, ImageTooLarge, check_image_size, fit_image
from videobot.params import RenderRequest


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


async def stored_picture(image: bytes, request: RenderRequest,
                         config: Config) -> tuple[StoredInput, list[str]]:
    """The picture checked, fitted to the request's size and written where clips go (or kept
    for the database), with the note saying how it was fitted."""
    try:
        fitted = await asyncio.to_thread(fit_image, image, width=request.width,
                                         height=request.height,
                                         max_mb=config.limits.max_image_mb)
    except ImageTooLarge as exc:
        raise InputTooLarge(str(exc)) from None
    except BadImage as exc:
        raise CommandError(str(exc)) from None
    stored = await prepare_input(
        fitted.png, width=fitted.width, height=fitted.height, folder=config.data_dir / "inputs",
        in_database=config.storage.clips_in_database(config.database_url))
    return stored, [fitted.note] if fitted.note else []
