"""Calling the Bot API: retries on flood control and network errors, and what its refusals
and limits look like."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from typing import Any, TypeVar

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.core import replies

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
MESSAGE_LIMIT = 4096
ALERT_LIMIT = 200
#: Tries of one Bot API call before the error goes up (to the delivery loop's backoff).
CALL_ATTEMPTS = 4
CALL_BACKOFF_S = 0.5
#: A longer `RetryAfter` is not waited out inline: the delivery loop tries again later.
MAX_INLINE_WAIT_S = 10.0

CANCEL, REROLL, SAME_SEED, EXTEND, VARY = "cancel", "reroll", "same", "extend", "vary"

T = TypeVar("T")


async def call(action: Callable[[], Awaitable[T]]) -> T:
    """One Bot API call, tried again on flood control, network errors and 5xx."""
    for attempt in range(1, CALL_ATTEMPTS + 1):
        error: TelegramError
        try:
            return await action()
        except RetryAfter as exc:
            delay, error = retry_after_seconds(exc), exc
        except BadRequest:
            raise
        except NetworkError as exc:  # also timeouts and 5xx
            delay, error = CALL_BACKOFF_S * 2 ** (attempt - 1), exc
        if attempt == CALL_ATTEMPTS or delay > MAX_INLINE_WAIT_S:
            raise error
        log.warning("telegram: %s; trying again in %.1f s", error, delay)
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait."""
    # Reading `retry_after` warns of its future type unless PTB_TIMEDELTA is set.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        period: int | float | timedelta = exc.retry_after
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


def not_modified(exc: BadRequest) -> bool:
    """Telegram's refusal of an edit that changes nothing."""
    return "not modified" in exc.message.lower()


def gone(exc: Exception) -> bool:
    """Telegram's refusal of an edit of a message that no longer exists."""
    return isinstance(exc, BadRequest) and "not found" in exc.message.lower()


def no_media(exc: Exception) -> bool:
    """An older Bot API server's refusal to add media to a text message."""
    return isinstance(exc, BadRequest) and "no media in the message" in exc.message.lower()


def no_text(exc: BadRequest) -> bool:
    """Telegram's refusal to edit the text of a photo message (it has a caption instead)."""
    return "no text in the message" in exc.message.lower()


def clip(text: str, limit: int) -> str:
    """`text`, cut to Telegram's `limit` with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reply_to(message_id: Any) -> ReplyParameters | None:
    """Reply to `message_id`, or post plainly if the user deleted it."""
    if not isinstance(message_id, int):
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


def cancel_keyboard(job_id: int) -> InlineKeyboardMarkup:
    """The status message's button."""
    return InlineKeyboardMarkup([[_button(CANCEL, job_id)]])


def result_keyboard(job_id: int) -> InlineKeyboardMarkup:
    """The clip's buttons."""
    return InlineKeyboardMarkup([[_button(REROLL, job_id), _button(SAME_SEED, job_id),
                                  _button(EXTEND, job_id), _button(VARY, job_id)]])


def prompt_request() -> ForceReply:
    """Opens the reply box of the user the message asks (selective: not everyone's in a
    group), for a variation's new prompt."""
    return ForceReply(selective=True, input_field_placeholder=replies.VARY_PLACEHOLDER)


def _button(action: str, job_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(replies.BUTTON_LABELS[action], callback_data=f"{action}:{job_id}")


def chat_allowed(allowed_chats: Collection[int], chat_id: int) -> bool:
    """Whether the bot answers in chat `chat_id` (`telegram.allowed_chats`; empty: every
    chat); a chat it ignores is logged."""
    allowed = not allowed_chats or chat_id in allowed_chats
    if not allowed:
        log.info("telegram: ignoring chat %s (not in telegram.allowed_chats)", chat_id)
    return allowed
