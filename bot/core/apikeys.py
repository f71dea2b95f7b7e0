"""API keys from chat and the shell: `/apikey` (a user's own key, in a private chat) and
`/admin apikey create|list|revoke|secret` (any user's; `videobot admin apikey ...` too).

A key is shown once, as the last line of the reply that made it, and only where nobody else
reads: a private chat, an ephemeral Discord answer, the console or the shell.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from bot.core import replies
from bot.core.errors import CommandError
from storage.api_keys import ApiKeys, new_webhook_secret
from storage.store import Store
from videobot.config import Config
from videobot.users import UserRef

#: The name of the key a user makes with `/apikey`: a new one replaces it.
CHAT_KEY_NAME = "chat"
MAX_NAME_CHARS = 64
#: How `/admin` finds the user a word names (`AdminCommands.target_user`).
UserLookup = Callable[[str, UserRef], Awaitable[UserRef]]


class ApiKeyCommands:
    """The words of `/apikey` and `/admin apikey`, over the `api_keys` table."""

    def __init__(self, *, store: Store, config: Config) -> None:
        self.keys = ApiKeys(store.context)
        self.config = config

    async def own(self, user: UserRef, args: str, *, private: bool) -> str:
        """`/apikey` (a new key, replacing the last one made so), `/apikey list`,
        `/apikey revoke <id>`: a user's own keys."""
        words = args.split()
        if words[:1] == ["list"] and len(words) == 1:
            return replies.api_key_listing(await self.keys.of(user), mine=True)
        if words[:1] == ["revoke"] and len(words) == 2:
            revoked = await self.keys.revoke(user.key, _key_id(words[1]), owner=user)
            return replies.api_key_revoked(revoked)
        if words:
            raise CommandError(replies.APIKEY_USAGE)
        if not private:
            raise CommandError(replies.APIKEY_PRIVATE_ONLY)
        if self.config.api is None:
            raise CommandError(replies.API_DISABLED)
        record, key = await self.keys.create(user.key, user, name=CHAT_KEY_NAME, replacing=True)
        return replies.api_key_made(record, key, self._base_url())

    async def admin(self, actor: UserRef, user_of: UserLookup, words: list[str], *,
                    private: bool) -> str:
        """`/admin apikey create <user> [--name NAME] [--admin] [--webhook URL]`,
        `list [user]`, `revoke <id>`, `secret` (a new webhook secret for the config)."""
        action, rest = (words[0].lower(), words[1:]) if words else ("", [])
        if action == "list" and len(rest) <= 1:
            user = await user_of(rest[0], actor) if rest else None
            return replies.api_key_listing(await self.keys.of(user), mine=False)
        if action == "revoke" and len(rest) == 1:
            return replies.api_key_revoked(await self.keys.revoke(actor.key, _key_id(rest[0])))
        if action == "secret" and not rest:
            return replies.webhook_secret_made(new_webhook_secret())
        if action != "create" or not rest:
            raise CommandError(replies.ADMIN_APIKEY_USAGE)
        if not private:
            raise CommandError(replies.APIKEY_PRIVATE_ONLY)
        user = await user_of(rest[0], actor)
        name, admin, webhook = _create_options(rest[1:])
        record, key = await self.keys.create(actor.key, user, name=name, admin=admin,
                                             webhook_url=webhook)
        return replies.api_key_made(record, key, self._base_url())

    def _base_url(self) -> str | None:
        return f"{self.config.api.base_url}/v1" if self.config.api is not None else None


def _create_options(words: list[str]) -> tuple[str, bool, str]:
    """`--name NAME`, `--admin`, `--webhook URL`, in any order."""
    name, admin, webhook = "", False, ""
    index = 0
    while index < len(words):
        flag = words[index]
        if flag == "--admin":
            admin, index = True, index + 1
            continue
        if flag not in ("--name", "--webhook") or index + 1 >= len(words):
            raise CommandError(replies.ADMIN_APIKEY_USAGE)
        value, index = words[index + 1], index + 2
        if flag == "--name":
            name = value[:MAX_NAME_CHARS]
        elif urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc:
            webhook = value
        else:
            raise CommandError(replies.bad_webhook_url(value))
    return name, admin, webhook


def _key_id(text: str) -> int:
    number = text.removeprefix("#")
    if not number.isdecimal() or len(number) > 18:
        raise CommandError(replies.bad_key_id(text))
    return int(number)
