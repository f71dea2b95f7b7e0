"""Keys of the HTTP API: made, listed, revoked, and found by what a request presents.

A key acts as one chat identity (`telegram:123`), so its quotas, bans, tier and place in the
fair order are that user's. Only the key's SHA-256 is stored: a key is 256 random bits, so a
fast hash is enough (there is nothing to guess), and the key itself is shown once, when made.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Select, insert, select, update
from sqlalchemy.engine import Row

from storage.admin import record
from storage.batches import Batches, Outcomes
from storage.context import StoreContext
from storage.db import read_transaction, run_read, write_transaction
from storage.errors import ApiKeyNotFound
from storage.models import ApiKey, User
from storage.users import ensure_user
from videobot.api_config import WEBHOOK_SECRET_PREFIX
from videobot.users import UserRef

KEY_PREFIX = "vb-"
#: The characters of a key shown in listings (the prefix and a few more).
SHOWN_CHARS = 10


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as listed: never the key itself."""

    id: int
    user: UserRef
    name: str
    prefix: str
    admin: bool
    webhook_url: str
    webhook_secret: str = field(repr=False)
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def revoked(self) -> bool:
        """Whether the key no longer works."""
        return self.revoked_at is not None


def new_key() -> str:
    """A new key: `vb-` and 256 random bits, URL-safe."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and base64 of 32 random bytes."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def key_hash(key: str) -> str:
    """What is stored of a key, and looked up: its SHA-256, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeys:
    """The `api_keys` table, beside the job table it shares a context with."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self.engine = context.engine
        #: Look-ups arriving while one is read share the next read (a burst of requests
        #: would otherwise queue for the connection pool, one read transaction each).
        self._lookups: Batches[str, ApiKeyRecord | None] = Batches(self._read_keys,
                                                                   name="api-key-lookups")

    async def create(self, actor: str, user: UserRef, *, name: str = "", admin: bool = False,
                     webhook_url: str = "", replacing: bool = False) -> tuple[ApiKeyRecord, str]:
        """Make a key for `user`; return it with the key (its only appearance). `replacing`:
        the user's other live keys of the same name are revoked in the same transaction (a
        chat user's `/apikey` keeps one key). The audit log records it, never the key."""
        key, now = new_key(), self.context.clock()
        secret = new_webhook_secret() if webhook_url else ""
        async with write_transaction(self.engine) as conn:
            user_id = await ensure_user(conn, user, now)
            if replacing:
                await conn.execute(update(ApiKey).where(
                    ApiKey.user_id == user_id, ApiKey.name == name, ApiKey.revoked_at.is_(None)
                ).values(revoked_at=now))
            key_id = (await conn.execute(insert(ApiKey).values(
                user_id=user_id, name=name, prefix=key[:SHOWN_CHARS], key_hash=key_hash(key),
                admin=admin, webhook_url=webhook_url, webhook_secret=secret, created_by=actor,
                created_at=now, revoked_at=None).returning(ApiKey.id))).scalar_one()
            await record(conn, actor, "apikey create", user.key,
                         f"key #{key_id}" + (" (admin)" if admin else ""), now)
        return await self.require(key_id), key

    async def find(self, key: str) -> ApiKeyRecord | None:
        """The live key `key` is, compared in constant time; None for an unknown or revoked
        key."""
        return await asyncio.shield(self._lookups.add(key_hash(key)))

    async def _read_keys(self, digests: list[str]) -> Outcomes:
        rows = await run_read(self.engine, partial(_rows_of, digests=set(digests)))
        by_hash = {row.key_hash: row for row in rows}
        outcomes: Outcomes = []
        for digest in digests:
            row = by_hash.get(digest)
            live = (row is not None and hmac.compare_digest(row.key_hash, digest)
                    and row.revoked_at is None)
            outcomes.append((True, _record(row) if live else None))
        return outcomes

    async def require(self, key_id: int) -> ApiKeyRecord:
        """Key `key_id`, revoked or not; `ApiKeyNotFound` when there is none."""
        async with read_transaction(self.engine) as conn:
            rows = (await conn.execute(_query().where(ApiKey.id == key_id))).all()
        if not rows:
            raise ApiKeyNotFound(key_id)
        return _record(rows[0])

    async def of(self, user: UserRef | None = None) -> list[ApiKeyRecord]:
        """The keys of `user` (None: everyone's), newest first, revoked ones included."""
        query = _query().order_by(ApiKey.id.desc())
        if user is not None:
            query = query.where(User.platform == user.platform,
                                User.platform_user_id == user.platform_user_id)
        async with read_transaction(self.engine) as conn:
            return [_record(row) for row in await conn.execute(query)]

    async def revoke(self, actor: str, key_id: int, owner: UserRef | None = None) -> ApiKeyRecord:
        """Revoke a key at once; `owner`: only if it is theirs (else it is not found)."""
        now = self.context.clock()
        async with write_transaction(self.engine) as conn:
            rows = (await conn.execute(_query().where(ApiKey.id == key_id))).all()
            if not rows or (owner is not None and _record(rows[0]).user.key != owner.key):
                raise ApiKeyNotFound(key_id)
            await conn.execute(update(ApiKey).where(
                ApiKey.id == key_id, ApiKey.revoked_at.is_(None)).values(revoked_at=now))
            await record(conn, actor, "apikey revoke", _record(rows[0]).user.key,
                         f"key #{key_id}", now)
        return await self.require(key_id)


def _rows_of(conn: Connection, *, digests: set[str]) -> list[Row[Any]]:
    return list(conn.execute(_query().where(ApiKey.key_hash.in_(digests))).all())


def _query() -> Select[Any]:
    return select(ApiKey.__table__, User.platform, User.platform_user_id,
                  User.display_name).join(User, User.id == ApiKey.user_id)


def _record(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id, user=UserRef(row.platform, row.platform_user_id, row.display_name),
        name=row.name, prefix=row.prefix, admin=row.admin, webhook_url=row.webhook_url,
        webhook_secret=row.webhook_secret, created_by=row.created_by,
        created_at=row.created_at, revoked_at=row.revoked_at)
