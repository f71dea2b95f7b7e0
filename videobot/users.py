"""Users as every part of videobot names them: `<platform>:<id>`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from videobot.text import printable

_PLATFORM = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: The longest display name or username kept (the users table's columns hold 256).
MAX_NAME_CHARS = 256


class BadUserName(ValueError):
    """A user must be named `<platform>:<id>`, e.g. `console:alice` or `telegram:12345`."""


@dataclass(frozen=True)
class UserRef:
    """A user on one platform; `display_name` is only for replies."""

    platform: str
    platform_user_id: str
    display_name: str = ""
    #: The platform's handle without "@" (a Telegram username), for `/admin … @name`.
    username: str = ""
    #: Where the user writes from and what they hold, for quota tiers: "telegram-chat:ID",
    #: "discord-role:ID". Not part of who they are.
    groups: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.platform_user_id}"

    def __str__(self) -> str:
        return self.key


def parse_user(text: str) -> UserRef:
    """Parse `<platform>:<id>`; raise `BadUserName` with the reason otherwise."""
    platform, sep, user_id = text.strip().partition(":")
    if (not sep or not user_id or not _PLATFORM.match(platform) or len(user_id) > 128
            or printable(user_id) != user_id):
        raise BadUserName(f"{text!r} is not a user: write <platform>:<id>, e.g. console:alice")
    return UserRef(platform, user_id)


def with_printable_names(user: UserRef) -> UserRef:
    """`user` with the names the platform sent made safe to store and show (no control or
    format characters, no NUL) and cut to what the users table holds."""
    display_name = printable(user.display_name).replace("\n", " ")[:MAX_NAME_CHARS]
    username = printable(user.username).replace("\n", " ")[:MAX_NAME_CHARS]
    if (display_name, username) == (user.display_name, user.username):
        return user
    return replace(user, display_name=display_name, username=username)
