"""The Animate button: a photo (or an image sent as a file) without a command gets one
sentence and an Animate button as a reply, in a private chat, or in a group when the bot is
addressed (the caption mentions it, or the photo replies to it); elsewhere, silence. (In a
private chat a caption is a prompt, as any text there is: a captioned photo is queued at once,
as `/video <caption>` with the photo, by the commands' handler.)

The button's data names the person who sent the photo (`animate:<user id>`), and its message
replies to the photo, so a press carries the photo in `message.reply_to_message`: it works
after a restart with nothing kept in memory. The press queues a `/video` of the photo
(bot/core/animating.py) for the presser, who must be its sender or an admin.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.ext import ContextTypes, filters

from bot.adapters.telegram.api import call, chat_allowed, reply_to
from bot.adapters.telegram.pictures import attached_picture
from bot.core import replies
from bot.core.animating import animate_options, can_animate
from bot.core.commands import Core, Reply
from bot.core.errors import CommandError
from videobot.config import TelegramConfig
from videobot.users import UserRef

ANIMATE = "animate"


class _UncommandedPicture(filters.MessageFilter):
    """A photo, or a file whose type is an image, whose caption is not a command (nor, in a
    private chat, a prompt: there, any caption is one)."""

    def filter(self, message: Message) -> bool:
        document = message.document
        image = bool(message.photo) or (
            document is not None and (document.mime_type or "").startswith("image/"))
        if message.chat.type == ChatType.PRIVATE and (message.caption or "").strip():
            return False
        return image and not any(entity.type == MessageEntityType.BOT_COMMAND
                                 and entity.offset == 0 for entity in message.caption_entities)


#: The messages the Animate offer answers (the chat and addressing are checked after).
UNCOMMANDED_PICTURE = _UncommandedPicture(name="UNCOMMANDED_PICTURE")


def animate_keyboard(sender_id: int) -> InlineKeyboardMarkup:
    """The offer's button; its data names who sent the picture."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(
        replies.BUTTON_LABELS[ANIMATE], callback_data=f"{ANIMATE}:{sender_id}")]])


def picture_text(message: Message, bot_username: str) -> str:
    """The picture's caption without the mention of this bot: the prompt and options."""
    caption = message.caption or ""
    if bot_username:
        caption = re.sub(rf"@{re.escape(bot_username)}\b", " ", caption, flags=re.IGNORECASE)
    return " ".join(caption.split())


class AnimateOffers:
    """Answers a picture sent without a command with the Animate button."""

    def __init__(self, *, core: Core, config: TelegramConfig, bot: Callable[[], Bot]) -> None:
        self.core = core
        self.config = config
        self._bot = bot

    async def on_picture(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """The offer, as a reply to the picture, when the picture is for this bot."""
        message, sender = update.effective_message, update.effective_user
        if message is None or sender is None or sender.is_bot:
            return
        if not chat_allowed(self.config.allowed_chats, message.chat_id):
            return
        if not can_animate(self.core.config) or not self._for_this_bot(message):
            return
        text = picture_text(message, self._bot().username or "")
        offer = replies.animate_offer(await self._prompt(text), captioned=bool(text))
        await call(lambda: self._bot().send_message(
            message.chat_id, offer, reply_markup=animate_keyboard(sender.id),
            reply_parameters=reply_to(message.message_id)))

    def _for_this_bot(self, message: Message) -> bool:
        """In a private chat always; in a group when the caption mentions the bot or the
        picture replies to one of its messages."""
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = self._bot()
        mentions = message.parse_caption_entities([MessageEntityType.MENTION]).values()
        if f"@{bot.username}".lower() in (mention.lower() for mention in mentions):
            return True
        original = message.reply_to_message
        author = original.from_user if original is not None else None
        return author is not None and author.id == bot.id

    async def _prompt(self, text: str) -> str:
        """The prompt a press would use (the text itself when its options are wrong: the
        press says what is wrong)."""
        try:
            return animate_options(text, self.core.config, await self.core.served.presets()).prompt
        except CommandError:
            return text


async def press_animate(core: Core, user: UserRef, offer: Message, sender_id: int, *,
                        admin: bool, max_image_bytes: int, bot_username: str,
                        reply_target: dict[str, Any]) -> Reply:
    """The Animate button on `offer` pressed by `user`: the picture it replies to queued as a
    `/video`, if `user` sent it (`sender_id`) or is an admin."""
    if user.platform_user_id != str(sender_id) and not admin:
        return Reply(replies.NOT_YOUR_PICTURE, refused=True)
    photo = offer.reply_to_message
    picture = attached_picture(photo, max_bytes=max_image_bytes) if photo is not None else None
    if photo is None or picture is None:
        return Reply(replies.PICTURE_GONE, refused=True)
    return await core.animate_picture(user, picture, picture_text(photo, bot_username),
                                      reply_target=reply_target)
