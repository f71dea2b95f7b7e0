"""The Vary button on Telegram. A press asks for the new prompt with a force-reply message
whose text names the job in a fixed form (`replies.vary_ask`); the reply to that message is
the prompt. Nothing is kept in memory: the reply is recognised by the message it answers, so
it works after a restart too, and the core checks that the one who replies may vary the job.
In a group the question mentions the presser, so that only their reply box opens."""

from __future__ import annotations

from telegram import Bot, CallbackQuery, Message, MessageEntity
from telegram.constants import ChatType, MessageEntityType

from bot.adapters.telegram.api import (
    ALERT_LIMIT,
    MESSAGE_LIMIT,
    call,
    clip,
    prompt_request,
    reply_to,
)
from bot.core import replies
from bot.core.commands import Core
from videobot.users import UserRef


async def ask_for_prompt(core: Core, bot: Bot, query: CallbackQuery, message: Message,
                         user: UserRef, job_id: int, *, admin: bool) -> None:
    """Vary pressed under `message` by `user`: the question, replying to the clip; a press
    the core refuses (not theirs, no such job, picture gone) gets the alert other buttons
    give, and nothing is asked."""
    source = await core.vary_source(user, job_id, admin=admin)
    if source.job is None:
        await query.answer(clip(source.text, ALERT_LIMIT), show_alert=True)
        return
    await query.answer()
    job, presser = source.job, query.from_user
    name = "" if message.chat.type == ChatType.PRIVATE else presser.full_name
    text = clip(replies.vary_ask(job.id, job.request.prompt, name), MESSAGE_LIMIT)
    mention = [MessageEntity(MessageEntityType.TEXT_MENTION,
                             offset=_utf16_len(replies.vary_asked(job.id)),
                             length=_utf16_len(name), user=presser)] if name else None
    await call(lambda: bot.send_message(
        message.chat_id, text, entities=mention, reply_markup=prompt_request(),
        reply_parameters=reply_to(message.message_id)))


def varied_job(message: Message, bot_id: int) -> int | None:
    """The job whose new prompt `message` is: a reply, not a command, to this bot's
    question (`ask_for_prompt`); None for any other message."""
    original, text = message.reply_to_message, message.text
    if original is None or text is None or text.startswith("/"):
        return None
    author = original.from_user
    if author is None or author.id != bot_id:
        return None
    return replies.varied_job(original.text or "")


def _utf16_len(text: str) -> int:
    """Telegram counts entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
