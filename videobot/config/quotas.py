"""`[quotas]` with its `[quotas.tiers.NAME]` tables, and `[moderation]`: what limits a user's
submissions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class TierConfig:
    """A group of users with a larger allowance and a higher scheduling priority: named
    users, members of Telegram chats (when they write from that chat), Discord roles."""

    name: str = ""
    credits: float = 0.0
    priority: int = 0
    users: tuple[str, ...] = ()
    telegram_chats: tuple[int, ...] = ()
    discord_roles: tuple[int, ...] = ()

    def groups(self) -> frozenset[str]:
        """The memberships that put a user in this tier (see `UserRef.groups`)."""
        return frozenset((*(f"telegram-chat:{chat}" for chat in self.telegram_chats),
                          *(f"discord-role:{role}" for role in self.discord_roles)))


@dataclass(frozen=True)
class QuotasConfig:
    """Credits per window and the other per-user and global limits on submissions."""

    credits: float = 20.0
    window_hours: float = 24.0
    reset_hour_utc: int = -1
    max_running_per_user: int = 0
    max_queue_length: int = 0
    min_interval_seconds: float = 0.0
    refund_cancel_mid_render: bool = False
    #: What a `/describe` costs (a caption is cheap next to a clip).
    describe_credits: float = 0.1
    #: `[quotas.tiers.NAME]` tables.
    tiers: Mapping[str, TierConfig] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def daily_reset(self) -> bool:
        """True when credits come back at `reset_hour_utc` each day, not on a rolling window."""
        return self.reset_hour_utc >= 0


@dataclass(frozen=True)
class ModerationConfig:
    """Prompts refused before queuing: whole words and regular expressions, matched on the
    normalised prompt (bot.core.moderation: case, marks, invisible characters, look-alike
    letters, punctuation inside words and spaced-out letters removed)."""

    words: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
