"""The bounds of every numeric config key.

A value that passes the type check can still break the bot at run time: `window_hours = 1e9`
overflows a date, `max_attempts = 2**63` overflows the database's integer, a lease of 1e12 s
never expires. Each key's highest sane value is here, by (config class, key); the validator
refuses a value beyond it, naming the key and the bound. Ids (Telegram chats, Discord users
and roles) must fit the 64-bit integers the platforms use.

The config's checks call it; it imports nothing of the config.
"""

from __future__ import annotations

from dataclasses import dataclass

HOUR_S = 3600
DAY_S = 24 * HOUR_S
#: The longest window of credits, in config (`quotas.window_hours`) and in `/admin quota set
#: --window`; also the longest period `/admin stats --since` reports on.
MAX_WINDOW_HOURS = 10 * 365 * 24
MAX_SIDE = 8192
#: Telegram chat ids are negative for groups; Discord snowflakes are positive. Both fit here.
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Bound:
    """The range a key's value must lie in; `unit` follows the number in the error."""

    high: float
    unit: str = ""
    low: float | None = None


#: By config class name, then key. A test checks that every numeric key has one.
BOUNDS: dict[str, dict[str, Bound]] = {
    "StorageConfig": {
        "keep_clips_days": Bound(3650, " days"),
        "drop_delivered_clip_data_hours": Bound(MAX_WINDOW_HOURS, " h"),
    },
    "LimitsConfig": {
        "max_prompt_chars": Bound(10_000, " characters"),
        "max_queued_per_user": Bound(10_000, " jobs"),
        "max_image_mb": Bound(200, " MB"),
    },
    "QueueConfig": {
        "lease_seconds": Bound(DAY_S, " s"),
        "heartbeat_seconds": Bound(HOUR_S, " s"),
        "poll_interval_seconds": Bound(600, " s"),
        "max_attempts": Bound(100),
    },
    "WorkerConfig": {
        "restart_delay_seconds": Bound(HOUR_S, " s"),
        "shutdown_grace_seconds": Bound(DAY_S, " s"),
        "switch_after_seconds": Bound(7 * DAY_S, " s"),
    },
    "PresetConfig": {
        "frames": Bound(10_000), "max_frames": Bound(10_000),
        "fps": Bound(60), "steps": Bound(10_000), "max_steps": Bound(10_000),
        "width": Bound(MAX_SIDE, " px"), "height": Bound(MAX_SIDE, " px"),
        "max_pixels": Bound(MAX_SIDE * MAX_SIDE, " px"),
        "guidance": Bound(30), "cost_factor": Bound(1_000_000),
        "group_offload_blocks": Bound(1000), "cache_threshold": Bound(1),
        "time_limit_seconds": Bound(7 * DAY_S, " s"),
        "max_seconds": Bound(HOUR_S, " s"),
        # 1:16 is already a strip a few pixels wide at any size a model renders.
        "max_aspect_ratio": Bound(16),
        "preview_every_steps": Bound(10_000),
    },
    "TelegramConfig": {
        "webhook_port": Bound(65535, low=1),
        "upload_limit_mb": Bound(2000, " MB"),
        "progress_interval_seconds": Bound(HOUR_S, " s"),
    },
    "DiscordConfig": {
        # Discord's interaction tokens live 15 minutes; a longer setting would use dead ones.
        "interaction_token_seconds": Bound(900, " s"),
        "progress_interval_seconds": Bound(HOUR_S, " s"),
    },
    "ApiConfig": {
        "max_upload_mb": Bound(2000, " MB"),
        "session_hours": Bound(24 * 366, " h"),
    },
    "QuotasConfig": {
        "credits": Bound(1e9), "window_hours": Bound(MAX_WINDOW_HOURS, " h"),
        "reset_hour_utc": Bound(23), "max_running_per_user": Bound(10_000),
        "max_queue_length": Bound(1_000_000), "min_interval_seconds": Bound(DAY_S, " s"),
        "describe_credits": Bound(1e9),
    },
    "TierConfig": {
        "credits": Bound(1e9), "priority": Bound(100),
    },
}


def bound_error(owner: str, key: str, value: object) -> str | None:
    """Why `value` of `owner`'s `key` is out of bounds (the error's words after the key), or
    None. Ids in a list must fit in 64 bits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, tuple):
        too_big = [v for v in value if isinstance(v, int) and abs(v) > MAX_ID]
        return f"{too_big[0]} is not an id (ids fit in 64 bits)" if too_big else None
    bound = BOUNDS.get(owner, {}).get(key)
    if bound is None or not isinstance(value, int | float):
        return None
    if value > bound.high:
        return f"must be at most {_number(bound.high)}{bound.unit}, not {_number(value)}"
    if bound.low is not None and value < bound.low:
        return f"must be at least {_number(bound.low)}{bound.unit}, not {_number(value)}"
    return None


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"
