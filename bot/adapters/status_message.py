"""A job's status message on a chat platform: edited in place, or posted again when gone.

The user (or a moderator) may delete the message a bot keeps editing; the platform then
refuses the edit. Rather than fall silent, the adapter posts a new message with the same text
and remembers its id, so that the next edit, the result's reply and the final word go there.
Every adapter does this the same way, through `edit_or_repost`; what "gone" looks like is the
platform's own (Telegram: "message to edit not found"; Discord: Unknown Message).

What a status message shows travels as a `StatusUpdate`, through the progress throttle to the
adapter's `edit` and `post`. The preview picture, when one is due, is picked when the edit is
sent, not when the progress is offered (`bot.adapters.status_previews`), and the platform's
`edit` shows it its own way (Telegram: the message's media replaced by a photo; Discord: the
attachment replaced), with `is_gone` also saying when a message cannot take the new content in
place (an older Telegram Bot API cannot add a photo to a text message), so that it is posted
anew.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from storage.records import JobRecord

MessageId = int


@dataclass(frozen=True)
class StatusUpdate:
    """What a job's status message should show now: the progress line."""

    job: JobRecord
    text: str


async def edit_or_repost(
    message_id: MessageId | None, *,
    edit: Callable[[MessageId], Awaitable[object]],
    post: Callable[[], Awaitable[MessageId]],
    is_gone: Callable[[Exception], bool],
    remember: Callable[[MessageId], Awaitable[object]] | None = None,
) -> MessageId:
    """Edit message `message_id`; when there is none yet, or `is_gone` says the platform's
    refusal means it no longer exists, `post` a new one and `remember` its id. Returns the id
    of the message that now shows the text. Any other refusal goes up."""
    if message_id is not None:
        try:
            await edit(message_id)
            return message_id
        except Exception as exc:
            if not is_gone(exc):
                raise
    posted = await post()
    if remember is not None:
        await remember(posted)
    return posted
