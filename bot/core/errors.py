"""The two tiers of errors: a `CommandError` whose reason the user sees, and everything else,
which is logged with its traceback and answered with `INTERNAL_ERROR`."""

from __future__ import annotations

INTERNAL_ERROR = (
    "Sorry, something went wrong on our side. The operator can find the details in the log."
)


class CommandError(Exception):
    """The command cannot be carried out; `str(error)` is the reason shown to the user."""


class InputTooLarge(CommandError):
    """A file sent with the command is over its size limit."""


class PictureRefused(CommandError):
    """A picture sent to a preset that takes none, or none sent to one that needs one."""
