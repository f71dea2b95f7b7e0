"""The whole configuration as one frozen object (`Config`), and the tables that are not a
platform's, a preset's or the quotas'."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from videobot.api_config import ApiConfig
from videobot.config.platforms import ConsoleConfig, DiscordConfig, TelegramConfig
from videobot.config.presets import PresetConfig, default_presets
from videobot.config.quotas import ModerationConfig, QuotasConfig

DEFAULT_DATA_DIR = Path("videobot-data")
ENV_DATABASE_URL = "VIDEOBOT_DATABASE_URL"


@dataclass(frozen=True)
class DatabaseConfig:
    """Where the job table lives. Empty url: a SQLite file in the data folder. The url may
    hold a password: a secret (`repr=False`), never shown in errors or logs."""

    url: str = field(default="", repr=False)


@dataclass(frozen=True)
class StorageConfig:
    """Where finished clips live and for how long."""

    clips: str = "auto"
    keep_clips_days: float = 7.0
    drop_delivered_clip_data_hours: float = 0.0

    def clips_in_database(self, database_url: str) -> bool:
        """auto: in the database on PostgreSQL (workers may be on other hosts), as files in
        the data folder on SQLite."""
        if self.clips == "auto":
            return database_url.startswith("postgresql")
        return self.clips == "database"


@dataclass(frozen=True)
class LimitsConfig:
    """Caps checked before a job is queued and again in the worker."""

    max_prompt_chars: int = 500
    max_queued_per_user: int = 3
    #: The largest image accepted with a request (API `input_reference`), in MB.
    max_image_mb: float = 20.0


@dataclass(frozen=True)
class QueueConfig:
    """Lease, heartbeat and retry behaviour of the job queue."""

    lease_seconds: float = 30.0
    heartbeat_seconds: float = 5.0
    poll_interval_seconds: float = 1.0
    max_attempts: int = 3


@dataclass(frozen=True)
class WorkerConfig:
    """The local generator processes that `videobot run` starts and supervises."""

    devices: tuple[str, ...] = ("cpu",)
    restart_delay_seconds: float = 1.0
    shutdown_grace_seconds: float = 30.0
    #: The presets these workers take jobs for; empty: every configured preset.
    presets: tuple[str, ...] = ()
    #: May one worker unload its model to load another preset's? Otherwise a worker keeps its
    #: first preset (the default one, if it serves it) and takes only that preset's jobs.
    switch_presets: bool = False
    #: A worker that may switch keeps taking its loaded model's jobs, ahead of their turn,
    #: while every job for another preset has waited less than this; an older one is taken
    #: in its turn (0: always in turn, switching whenever the next job needs another model).
    switch_after_seconds: float = 120.0
    #: Render one step at start, so that the first job does not pay for compilation.
    warm_up: bool = True

    def served_presets(self, config: Config) -> tuple[str, ...]:
        """The presets these workers take, the default first: the one a worker loads first."""
        served = self.presets or tuple(config.presets)
        first = [config.default_preset] if config.default_preset in served else []
        return tuple(first + [name for name in served if name not in first])

    def claimable(self, config: Config, resident: str | None = None) -> tuple[str, ...]:
        """The presets a worker takes jobs for: all it serves if it may switch models, else
        only its resident one (before it has loaded one, the first it serves)."""
        served = self.served_presets(config)
        return served if self.switch_presets else (resident or served[0],)


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    """The whole configuration of one videobot installation."""

    data_dir: Path = DEFAULT_DATA_DIR
    default_preset: str = "demo"
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    queue: QueueConfig = field(default_factory=QueueConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    quotas: QuotasConfig = field(default_factory=QuotasConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    presets: Mapping[str, PresetConfig] = field(default_factory=default_presets)
    telegram: TelegramConfig | None = None
    discord: DiscordConfig | None = None
    api: ApiConfig | None = None

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL of the job table."""
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'videobot.db').resolve()}"

    def preset(self, name: str | None = None) -> PresetConfig:
        return self.presets[name or self.default_preset]


#: The one-table sections of the file, by name, with the class each one becomes.
SECTIONS: dict[str, type] = {
    "database": DatabaseConfig,
    "storage": StorageConfig,
    "limits": LimitsConfig,
    "queue": QueueConfig,
    "worker": WorkerConfig,
    "console": ConsoleConfig,
    "logging": LoggingConfig,
    "quotas": QuotasConfig,
    "moderation": ModerationConfig,
    "telegram": TelegramConfig,
    "discord": DiscordConfig,
    "api": ApiConfig,
}
