"""Messages users post in the channel, for the Discord fake, and the message commands (apps
in a message's context menu) used on them: an application command of type 3 (MESSAGE) whose
interaction names the message in `data.target_id` and carries it in
`data.resolved.messages`, attachments and all, as Discord sends it."""

from __future__ import annotations

from typing import Any

#: Application command types: a message command (in a message's Apps menu).
MESSAGE_COMMAND = 3


def user_message(message_id: int, channel_id: int, author: dict[str, Any], content: str,
                 attachments: list[dict[str, Any]]) -> dict[str, Any]:
    """A message a user posted, as Discord sends it: `attachments` as `resolved` lists them."""
    return {
        "id": str(message_id), "channel_id": str(channel_id), "type": 0, "content": content,
        "author": author, "timestamp": "2026-01-01T00:00:00+00:00", "edited_timestamp": None,
        "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
        "attachments": [{key: value for key, value in attachment.items() if key != "ephemeral"}
                        for attachment in attachments],
        "embeds": [], "pinned": False, "flags": 0, "components": [],
    }


def message_command_data(name: str, command_id: int, message: dict[str, Any],
                         guild_id: int | None) -> dict[str, Any]:
    """The interaction's `data` of message command `name` used on `message`."""
    data: dict[str, Any] = {"id": str(command_id), "name": name, "type": MESSAGE_COMMAND,
                            "target_id": message["id"],
                            "resolved": {"messages": {message["id"]: message}}}
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
    return data
