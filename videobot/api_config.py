"""`[api]`: the OpenAI-compatible HTTP API in the bot process, and its webhooks."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ENV_API_WEBHOOK_SECRET = "VIDEOBOT_API_WEBHOOK_SECRET"
WEBHOOK_SECRET_PREFIX = "whsec_"


class ApiConfigError(ValueError):
    """`[api]` is invalid; the message names the key."""


@dataclass(frozen=True)
class ApiConfig:
    """The HTTP API; on when the `[api]` table exists."""

    #: host:port to listen on ("[::1]:8080" for IPv6; port 0: any free port, logged).
    listen: str = "127.0.0.1:8080"
    #: The largest request body accepted, in MB (an upload with its form).
    max_upload_mb: float = 25.0
    #: Where clients reach the API (behind a proxy: its public address); "" for listen's.
    public_url: str = ""
    #: Where `video.completed` and `video.failed` events are posted ("" for none), and the
    #: Standard Webhooks secret that signs them (whsec_ and base64).
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)

    @property
    def host(self) -> str:
        """The host part of `listen`, without IPv6 brackets."""
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        """The port of `listen`."""
        return int(self.listen.rpartition(":")[2])

    @property
    def base_url(self) -> str:
        """The public address of the API's root, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def max_upload_bytes(self) -> int:
        """`max_upload_mb` in bytes."""
        return int(self.max_upload_mb * 1_000_000)


def validate_api(api: ApiConfig) -> None:
    """Raise `ApiConfigError` naming the first bad key of `[api]`."""
    host, colon, port = api.listen.rpartition(":")
    if not colon or not host or not port.isdecimal() or not 0 <= int(port) < 65536:
        raise ApiConfigError(f"api.listen: must be host:port, e.g. 127.0.0.1:8080, not "
                             f"{api.listen!r}")
    if not 0 < api.max_upload_mb <= 10_000:
        raise ApiConfigError("api.max_upload_mb: must be above 0 and at most 10000")
    for key in ("public_url", "webhook_url"):
        value = getattr(api, key)
        if value and (urlsplit(value).scheme not in ("http", "https")
                      or not urlsplit(value).netloc):
            raise ApiConfigError(f"api.{key}: must be an http(s) URL, not {value!r}")
    if api.webhook_url and not api.webhook_secret:
        raise ApiConfigError(f"api.webhook_secret: webhook_url needs a secret (or "
                             f"{ENV_API_WEBHOOK_SECRET}); make one with `videobot admin "
                             "apikey secret`")
    if api.webhook_secret and not is_webhook_secret(api.webhook_secret):
        raise ApiConfigError("api.webhook_secret: must be whsec_ followed by base64 "
                             "(at least 24 bytes)")


def is_webhook_secret(secret: str) -> bool:
    """Whether `secret` is a Standard Webhooks secret: `whsec_` and base64 of 24+ bytes."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(key) >= 24
