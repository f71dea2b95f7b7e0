"""Telegram messages and button presses, routed to the core; the answers posted back.

- Chats outside `allowed_chats` are ignored silently (logged at INFO with the chat id, so the
  operator can add it): a bot added to a stranger's group says nothing there.
- Commands addressed to another bot (`/video@OtherBot`) and messages from bots are ignored; in
  groups only our own commands are answered. In a private chat, plain text is a prompt.
- A new job's acknowledgement becomes its status message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from telegram import Bot, CallbackQuery, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.ext import ContextTypes

from bot.adapters.telegram.animate import ANIMATE, press_animate
from bot.adapters.telegram.api import (
    ALERT_LIMIT,
    CANCEL,
    EXTEND,
    MESSAGE_LIMIT,
    REROLL,
    SAME_SEED,
    VARY,
    call,
    cancel_keyboard,
    chat_allowed,
    clip,
    reply_to,
)
from bot.adapters.telegram.pictures import attached_picture
from bot.adapters.telegram.status import StatusMessages
from bot.adapters.telegram.varying import ask_for_prompt, varied_job
from bot.core.commands import USER_COMMANDS, Core, Reply
from videobot.config import TelegramConfig
from videobot.users import UserRef

log = logging.getLogger(__name__)

PLATFORM = "telegram"
#: The command menu (`setMyCommands`): the commands the core answers, described as everywhere.
MENU_COMMANDS = USER_COMMANDS
#: What a group message may start with to be for this bot (`/start` opens a private chat).
COMMAND_NAMES = frozenset((*MENU_COMMANDS, "start"))


class TelegramCommands:
    """The handlers of the application: messages and button presses."""

    def __init__(self, *, core: Core, config: TelegramConfig, bot: Callable[[], Bot],
                 messages: StatusMessages) -> None:
        self.core = core
        self.config = config
        self._bot = bot
        self.messages = messages
        self._max_image_bytes = int(core.config.limits.max_image_mb * 1_000_000)

    async def on_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command (or, in a private chat, a prompt): the core's answer, posted back."""
        message, sender = update.effective_message, update.effective_user
        if message is None or sender is None or sender.is_bot or not self._allowed(message):
            return
        if (job_id := varied_job(message, self._bot().id)) is not None:
            await self._vary(message, sender, job_id)
            return
        text = self._command_text(message)
        if text is None:
            return
        picture = attached_picture(message, max_bytes=self._max_image_bytes)
        async with self.messages.answering(message.chat_id, message.message_id):
            reply = await self.core.handle(_user(sender, message.chat_id), text,
                                           self._reply_target(message),
                                           replied_to=_replied_to(message),
                                           admin=sender.id in self.config.admins,
                                           image=picture)
            await self._post_reply(message.chat_id, message.message_id, reply)

    async def on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Cancel, Reroll, Same seed, Extend or Vary: the core checks that the presser may."""
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return
        if not self._allowed(query.message):
            return
        action, _, number = (query.data or "").partition(":")
        if not number.isdecimal() or action not in (CANCEL, REROLL, SAME_SEED, EXTEND, VARY,
                                                    ANIMATE):
            await query.answer()
            return
        if action == VARY:  # asks for the new prompt; the reply to it is `_vary`'s
            await ask_for_prompt(self.core, self._bot(), query, query.message,
                                 _user(query.from_user, query.message.chat_id), int(number),
                                 admin=query.from_user.id in self.config.admins)
            return
        async with self.messages.answering(query.message.chat_id, query.message.message_id):
            reply = await self._press(query, query.message, action, int(number))
            await self._answer_button(query, action, reply)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Any handler's failure: logged with its traceback."""
        log.error("telegram: handling an update failed", exc_info=context.error)

    def _command_text(self, message: Message) -> str | None:
        """The text for the core (a picture's caption too), or None when the message is not
        for this bot."""
        text = message.text or message.caption or ""
        private = message.chat.type == ChatType.PRIVATE
        entities = message.entities or message.caption_entities
        command = next((e for e in entities
                        if e.type == MessageEntityType.BOT_COMMAND and e.offset == 0), None)
        if command is None:
            return f"/video {text}" if private else None
        name, _, addressee = text[1:command.length].partition("@")
        if addressee and addressee.lower() != (self._bot().username or "").lower():
            return None
        if private or addressee or name.lower() in COMMAND_NAMES:
            return text
        # A bare /admin in a group is ours when one of our admins sends it (other bots use
        # the name too); anyone else must address it, /admin@ThisBot.
        sender = message.from_user
        if name.lower() == "admin" and sender is not None and sender.id in self.config.admins:
            return text
        return None

    async def _answer_button(self, query: CallbackQuery, action: str, reply: Reply) -> None:
        assert isinstance(query.message, Message)
        if reply.job is None:  # refused: not the owner, already finished, ...
            await query.answer(clip(reply.text, ALERT_LIMIT), show_alert=True)
            return
        await query.answer(clip(reply.text, ALERT_LIMIT) if action == CANCEL else None)
        if action != CANCEL:
            await self._post_reply(query.message.chat_id, query.message.message_id, reply)

    async def _press(self, query: CallbackQuery, message: Message, action: str,
                     job_id: int) -> Reply:
        user = _user(query.from_user, message.chat_id)
        admin = query.from_user.id in self.config.admins
        if action == CANCEL:
            return await self.core.cancel_job(user, job_id, admin=admin)
        if action == EXTEND:
            return await self._extend(user, message, job_id, admin)
        if action == ANIMATE:  # its number is the picture's sender, not a job
            return await press_animate(
                self.core, user, message, job_id, admin=admin,
                max_image_bytes=self._max_image_bytes, bot_username=self._bot().username or "",
                reply_target=self._reply_target(message))
        return await self.core.rerun(user, job_id, new_seed=action == REROLL,
                                     reply_target=self._reply_target(message), admin=admin)

    async def _extend(self, user: UserRef, message: Message, job_id: int, admin: bool) -> Reply:
        """The Extend button: the clip continued, as a new job answered under the clip."""
        return await self.core.extend_job(user, job_id, reply_target=self._reply_target(message),
                                          admin=admin)

    async def _vary(self, message: Message, sender: Any, job_id: int) -> None:
        """The new prompt of a variation of job `job_id`, typed in reply to the question."""
        async with self.messages.answering(message.chat_id, message.message_id):
            reply = await self.core.vary(_user(sender, message.chat_id), job_id,
                                         message.text or "", admin=sender.id in self.config.admins,
                                         reply_target=self._reply_target(message))
            await self._post_reply(message.chat_id, message.message_id, reply)

    def _reply_target(self, message: Message) -> dict[str, Any]:
        """Where the replies to a job submitted by `message` (or by a button on it) go."""
        return {"chat_id": message.chat_id, "message_id": message.message_id,
                "nsfw_allowed": message.chat_id in self.config.nsfw_chats,
                "private": message.chat.type == ChatType.PRIVATE}

    async def _post_reply(self, chat_id: int, reply_to_id: int, reply: Reply) -> None:
        """Answer in the chat; a new job's acknowledgement becomes its status message."""
        job = reply.job
        new_job = job is not None and job.reply_target.get("message_id") == reply_to_id
        markup = cancel_keyboard(job.id) if new_job and job is not None else None
        sent = await call(lambda: self._bot().send_message(
            chat_id, clip(reply.text, MESSAGE_LIMIT), reply_markup=markup,
            reply_parameters=reply_to(reply_to_id)))
        if new_job and job is not None:
            # The chat's next command need not wait for the id to reach the database.
            self.messages.remember_status_soon(job, chat_id, sent.message_id)

    def _allowed(self, message: Message) -> bool:
        return chat_allowed(self.config.allowed_chats, message.chat_id)


def _user(sender: Any, chat_id: int | None = None) -> UserRef:
    """The sender as the core names them; `chat_id`: where they write from (quota tiers)."""
    groups = frozenset({f"telegram-chat:{chat_id}"}) if chat_id is not None else frozenset()
    return UserRef(PLATFORM, str(sender.id), sender.full_name, sender.username or "", groups)


def _replied_to(message: Message) -> UserRef | None:
    """The author of the message `message` replies to (not a bot, not a channel post)."""
    original = message.reply_to_message
    author = original.from_user if original is not None else None
    return _user(author) if author is not None and not author.is_bot else None
