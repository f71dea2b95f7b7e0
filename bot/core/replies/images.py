"""What the bot says about a picture sent with `/video` before the image itself is checked
(videobot/images.py words what is wrong with the picture): a path where none may be read, a
file that cannot be read, a download that failed."""

from __future__ import annotations

IMAGE_PATH_CONSOLE_ONLY = (
    "--image names a file on the bot's computer, so it works only in the console chat and "
    "the shell; here, send the picture with the command (see /help)")


IMAGE_FILE_MISSING = "there is no such file"


IMAGE_FILE_NO_PERMISSION = "the bot may not read it"


IMAGE_PATH_IS_FOLDER = "it is a folder"


def image_file_unreadable(path: str, reason: str) -> str:
    """`--image PATH` that cannot be read, and why."""
    return f"cannot read the image {path!r}: {reason}"


def image_not_downloaded(platform: str, reason: str = "") -> str:
    """The picture could not be fetched from the chat platform."""
    why = f": {reason}" if reason else ""
    return f"the picture could not be downloaded from {platform}{why}"
