"""The one typed, frozen configuration object, loaded from TOML and validated at start.

Every error names the key and says why (`ConfigError`). The package's rooms: the schema (the
frozen dataclasses: `schema`, `presets`, `platforms`, `quotas`), the file loader (`loader`:
TOML, secrets from the environment, coercion) and the checks (`checks`, `preset_checks`).
The schema imports nothing of the loader or the checks, so that the rules the checks apply
(`videobot.families`, `videobot.limits`) may import the schema.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from videobot.config.errors import ConfigError
from videobot.config.platforms import (
    ENV_DISCORD_TOKEN,
    ENV_TELEGRAM_TOKEN,
    ENV_TELEGRAM_WEBHOOK_SECRET,
    ConsoleConfig,
    DiscordConfig,
    TelegramConfig,
)
from videobot.config.presets import (
    CACHE_CHOICES,
    COMPILE_CHOICES,
    DEMO_PRESET,
    MAX_PREVIEW_EVERY_STEPS,
    OFFLOAD_CHOICES,
    X264_PRESETS,
    PresetConfig,
)
from videobot.config.quotas import ModerationConfig, QuotasConfig, TierConfig
from videobot.config.schema import (
    DEFAULT_DATA_DIR,
    ENV_DATABASE_URL,
    SECTIONS,
    Config,
    DatabaseConfig,
    LimitsConfig,
    LoggingConfig,
    QueueConfig,
    StorageConfig,
    WorkerConfig,
)

if TYPE_CHECKING:
    from videobot.config.loader import config_from_dict, load_config

#: The loader's names, imported when first asked for: the loader runs the checks, which import
#: `videobot.families` and `videobot.limits`, which import this package's schema; importing
#: the loader while this package is still being imported would go round that way.
_LOADER_NAMES = frozenset({"config_from_dict", "load_config"})

__all__ = [
    "CACHE_CHOICES", "COMPILE_CHOICES", "DEFAULT_DATA_DIR", "DEMO_PRESET", "ENV_DATABASE_URL",
    "ENV_DISCORD_TOKEN", "ENV_TELEGRAM_TOKEN", "ENV_TELEGRAM_WEBHOOK_SECRET",
    "MAX_PREVIEW_EVERY_STEPS", "OFFLOAD_CHOICES", "SECTIONS", "X264_PRESETS", "Config",
    "ConfigError", "ConsoleConfig", "DatabaseConfig", "DiscordConfig", "LimitsConfig",
    "LoggingConfig", "ModerationConfig", "PresetConfig", "QueueConfig", "QuotasConfig",
    "StorageConfig", "TelegramConfig", "TierConfig", "WorkerConfig", "config_from_dict",
    "load_config",
]


def __getattr__(name: str) -> Any:
    if name in _LOADER_NAMES:
        from videobot.config import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
