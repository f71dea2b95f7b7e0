"""`[api]`: the OpenAI-compatible HTTP API in the bot process, and its webhooks."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

ENV_API_WEBHOOK_SECRET = "VIDEOBOT_API_WEBHOOK_SECRET"
ENV_API_SESSION_SECRET = "VIDEOBOT_API_SESSION_SECRET"
WEBHOOK_SECRET_PREFIX = "whsec_"
#: The shortest session secret accepted: it signs every dashboard session.
MIN_SESSION_SECRET_CHARS = 32


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
    #: Serve the web dashboard under /dashboard (signed in with an API key).
    dashboard: bool = True
    #: The key that signs dashboard sessions (32+ characters); "": one made at first start
    #: and kept in the data folder (dashboard-session.key, mode 0600).
    session_secret: str = field(default="", repr=False)
    #: How long a dashboard sign-in lasts.
    session_hours: float = 12.0
    #: Addresses or networks that may read GET /metrics without a key ("10.0.0.0/8").
    metrics_allow: tuple[str, ...] = ()
    #: Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (the
    #: client's address for sign-in throttling and metrics_allow; https for Secure cookies).
    trusted_proxies: tuple[str, ...] = ()

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
    if api.session_secret and len(api.session_secret) < MIN_SESSION_SECRET_CHARS:
        raise ApiConfigError(f"api.session_secret: must be at least {MIN_SESSION_SECRET_CHARS} "
                             "characters (or empty: one is made and kept in the data folder)")
    if not 0 < api.session_hours <= 24 * 366:
        raise ApiConfigError("api.session_hours: must be above 0 and at most a year (8784)")
    for key in ("metrics_allow", "trusted_proxies"):
        for entry in getattr(api, key):
            if network_of(entry) is None:
                raise ApiConfigError(f"api.{key}: {entry!r} is not an IP address or network "
                                     "(e.g. 127.0.0.1 or 10.0.0.0/8)")


def is_webhook_secret(secret: str) -> bool:
    """Whether `secret` is a Standard Webhooks secret: `whsec_` and base64 of 24+ bytes."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(key) >= 24


def network_of(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The address or network `text` names (an address is a network of one), else None."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None
