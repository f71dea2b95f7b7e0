"""The chat platforms' tables: `[console]`, `[telegram]`, `[discord]`, and the environment
variables their secrets may come from instead of the file."""

from __future__ import annotations

from dataclasses import dataclass, field

ENV_TELEGRAM_TOKEN = "VIDEOBOT_TELEGRAM_TOKEN"
ENV_TELEGRAM_WEBHOOK_SECRET = "VIDEOBOT_TELEGRAM_WEBHOOK_SECRET"
ENV_DISCORD_TOKEN = "VIDEOBOT_DISCORD_TOKEN"


@dataclass(frozen=True)
class ConsoleConfig:
    """The stdin/stdout chat; on by default, and the only adapter of the embedded defaults."""

    enabled: bool = True
    user: str = "local"
    admins: tuple[str, ...] = ()


@dataclass(frozen=True)
class TelegramConfig:
    """The Telegram adapter; on when the `[telegram]` table exists."""

    token: str = field(default="", repr=False)
    api_base_url: str = "https://api.telegram.org/bot"
    allowed_chats: tuple[int, ...] = ()
    admins: tuple[int, ...] = ()
    mode: str = "polling"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str = field(default="", repr=False)
    upload_limit_mb: int = 0
    progress_interval_seconds: float = 3.0
    nsfw_chats: tuple[int, ...] = ()


@dataclass(frozen=True)
class DiscordConfig:
    """The Discord adapter; on when the `[discord]` table exists."""

    token: str = field(default="", repr=False)
    guild_ids: tuple[int, ...] = ()
    admins: tuple[int, ...] = ()
    admin_roles: tuple[int, ...] = ()
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg/"
    allow_dms: bool = True
    interaction_token_seconds: float = 900.0
    progress_interval_seconds: float = 2.0
