"""A bot message that asks for a reply, in the Telegram Bot API fake: `sendMessage` with a
`ForceReply` markup (`{"force_reply": true, "selective": ..., "input_field_placeholder": ...}`)
and `entities` (a `text_mention` of the user asked), checked as Telegram checks them. The
message Telegram returns carries only an inline keyboard: a `ForceReply` acts on the users'
clients and is not part of the message."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fakes.telegram_media import error

#: Telegram's bounds of `ForceReply.input_field_placeholder`.
PLACEHOLDER_CHARS = (1, 64)


def refusal(params: dict[str, Any]) -> web.Response | None:
    """Telegram's refusal of a malformed `ForceReply` or of entities outside the text."""
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "force_reply" in markup:
        placeholder = markup.get("input_field_placeholder")
        low, high = PLACEHOLDER_CHARS
        if markup["force_reply"] is not True or (
                placeholder is not None and not low <= len(placeholder) <= high):
            return error(400, "Bad Request: can't parse reply keyboard markup JSON object")
    text_units = _utf16_len(str(params.get("text", "")))
    for entity in params.get("entities") or []:
        end = entity["offset"] + entity["length"]
        if entity["length"] <= 0 or end > text_units or (
                entity["type"] == "text_mention" and "id" not in entity.get("user", {})):
            return error(400, "Bad Request: can't parse entities: wrong entity bounds")
    return None


def message_fields(params: dict[str, Any]) -> dict[str, Any]:
    """What the sent message keeps of the call's `entities` and `reply_markup`."""
    fields: dict[str, Any] = {}
    if params.get("entities"):
        fields["entities"] = params["entities"]
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        fields["reply_markup"] = markup
    return fields


def force_reply_messages(messages: dict[tuple[int, int], dict[str, Any]],
                         calls: list[Any]) -> list[dict[str, Any]]:
    """The bot's messages sent with a `ForceReply`, oldest first (as a test finds the question
    to reply to)."""
    asked = [(int(c.params["chat_id"]), c.params["text"]) for c in calls
             if c.method == "sendMessage"
             and "force_reply" in (c.params.get("reply_markup") or {})]
    return [m for key in sorted(messages) if (m := messages[key]).get("from", {}).get("is_bot")
            and (key[0], m.get("text")) in asked]


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
