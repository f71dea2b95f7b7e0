"""Who is asking: the API key of `Authorization: Bearer <key>`, as the chat identity it acts
for. The key is looked up by its hash and compared in constant time (`ApiKeys.find`); it is
never logged, and never part of an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.core import replies
from bot.web.errors import ApiError
from storage.api_keys import ApiKeyRecord, ApiKeys
from videobot.users import BadUserName, UserRef, parse_user

_BEARER = "bearer "


@dataclass(frozen=True)
class Caller:
    """A request's key and the user it acts as."""

    key: ApiKeyRecord

    @property
    def user(self) -> UserRef:
        """The chat identity the key acts as."""
        return self.key.user

    def owner_filter(self) -> UserRef | None:
        """Whose videos this caller may read: their own, or (admin) everyone's (None)."""
        return None if self.key.admin else self.key.user

    def acting_for(self, user: Any) -> UserRef:
        """The user a request is made for: the key's, or with an admin key the `user` field
        (`<platform>:<id>`)."""
        if user is None:
            return self.key.user
        if not self.key.admin:
            raise ApiError(403, replies.API_ADMIN_ONLY, type="permission_error",
                           code="admin_only", param="user")
        try:
            return parse_user(str(user))
        except BadUserName as exc:
            raise ApiError(400, str(exc), code="invalid_value", param="user") from None


class KeyCheck:
    """Finds the caller of each request; 401 for a missing, unknown or revoked key."""

    def __init__(self, keys: ApiKeys) -> None:
        self.keys = keys

    async def caller(self, request: web.Request) -> Caller:
        """The key of `Authorization: Bearer <key>`, or 401."""
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith(_BEARER) or not header[len(_BEARER):].strip():
            raise ApiError(401, replies.API_KEY_MISSING, code="missing_api_key")
        key = await self.keys.find(header[len(_BEARER):].strip())
        if key is None:
            raise ApiError(401, replies.API_KEY_UNKNOWN, code="invalid_api_key")
        return Caller(key)
