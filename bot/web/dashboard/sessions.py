"""Dashboard sessions: signed cookies, and the CSRF tokens bound to them.

A session cookie holds the API key's id, when it was issued and when it ends, and a random
nonce, signed with HMAC-SHA256 under the session secret; it never holds the key. Each request
checks the signature in constant time and the end, then reads the key again, so that revoking
a key ends its sessions. A form's CSRF token is the HMAC of the session's nonce, so it is
worth nothing in another session; the sign-in form, before any session, is bound the same
way to a nonce cookie of its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)

SESSION_COOKIE = "vb_session"
SIGNIN_COOKIE = "vb_signin"
FLASH_COOKIE = "vb_flash"
#: The file in the data folder that keeps a generated session secret (mode 0600).
SECRET_FILE = "dashboard-session.key"
NONCE_BYTES = 16


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the key it signed in with, and until when."""

    key_id: int
    issued_at: datetime
    expires_at: datetime
    nonce: str


class Signer:
    """Signs and checks what the dashboard keeps in cookies."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def seal(self, purpose: str, payload: dict[str, object]) -> str:
        """`payload` as `<base64 JSON>.<base64 HMAC>`, signed for `purpose` only."""
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def unseal(self, purpose: str, value: str) -> dict[str, object] | None:
        """The payload of a value `seal` made for `purpose`; None for anything else."""
        body, dot, mac = value.partition(".")
        if not dot or not hmac.compare_digest(mac, self._mac(purpose, body)):
            return None
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error):
            return None
        return payload if isinstance(payload, dict) else None

    def new_session(self, key_id: int, now: datetime, lifetime: timedelta) -> tuple[Session, str]:
        """A session for key `key_id` from `now`, and its cookie value."""
        session = Session(key_id, now, now + lifetime, secrets.token_urlsafe(NONCE_BYTES))
        return session, self.seal("session", {
            "k": key_id, "i": int(now.timestamp()), "e": int(session.expires_at.timestamp()),
            "n": session.nonce})

    def session(self, value: str, now: datetime) -> Session | None:
        """The session of a cookie value, if it is genuine and has not ended at `now`."""
        payload = self.unseal("session", value) or {}
        key_id, issued, ends, nonce = (payload.get(name) for name in ("k", "i", "e", "n"))
        if not (isinstance(key_id, int) and isinstance(issued, int) and isinstance(ends, int)
                and isinstance(nonce, str)) or now.timestamp() >= ends:
            return None
        return Session(key_id, datetime.fromtimestamp(issued, now.tzinfo),
                       datetime.fromtimestamp(ends, now.tzinfo), nonce)

    def csrf_token(self, nonce: str) -> str:
        """The token a form of the session (or sign-in form) with `nonce` must carry."""
        return self._mac("csrf", nonce)

    def csrf_ok(self, nonce: str, token: str) -> bool:
        """Whether `token` is the form token of `nonce` (constant time)."""
        return bool(nonce) and hmac.compare_digest(token.encode(), self.csrf_token(nonce).encode())

    def _mac(self, purpose: str, body: str) -> str:
        digest = hmac.new(self._secret, f"{purpose}:{body}".encode(), hashlib.sha256).digest()
        return _b64(digest)


def new_nonce() -> str:
    """A random nonce for a sign-in form's cookie."""
    return secrets.token_urlsafe(NONCE_BYTES)


def session_secret(configured: str, data_dir: Path) -> bytes:
    """The session secret: `[api] session_secret` (or its environment variable), else the
    one kept in the data folder, made there (mode 0600) on first use. Never logged."""
    if configured:
        return configured.encode()
    path = data_dir / SECRET_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48).encode()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile: use theirs
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)
    log.info("made a dashboard session secret in %s", path)
    return secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
