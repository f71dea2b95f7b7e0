"""The one typed, frozen configuration object, loaded from TOML and validated at start.

Every error names the key and says why (`ConfigError`). Secrets may come from the
environment instead of the file: `VIDEOBOT_DATABASE_URL` overrides `[database] url`.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_type_hints

from videobot.api_config import (
    ENV_API_SESSION_SECRET,
    ENV_API_WEBHOOK_SECRET,
    ApiConfig,
    ApiConfigError,
    validate_api,
)
from videobot.config_bounds import bound_error
from videobot.devices import DEVICE_FORMS, is_device_name

DEFAULT_DATA_DIR = Path("videobot-data")
ENV_DATABASE_URL = "VIDEOBOT_DATABASE_URL"
ENV_TELEGRAM_TOKEN = "VIDEOBOT_TELEGRAM_TOKEN"
ENV_TELEGRAM_WEBHOOK_SECRET = "VIDEOBOT_TELEGRAM_WEBHOOK_SECRET"
ENV_DISCORD_TOKEN = "VIDEOBOT_DISCORD_TOKEN"


class ConfigError(Exception):
    """The configuration is invalid."""


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
class PresetConfig:
    """A named model plus its default parameters and caps."""

    name: str = "tiny"
    backend: str = "diffusers"
    model: str = "builtin:tiny-text-to-video-sd"
    family: str = "auto"
    dtype: str = "float32"
    frames: int = 16
    fps: int = 8
    width: int = 64
    height: int = 64
    steps: int = 4
    guidance: float = 7.5
    negative_prompt: str = ""
    max_frames: int = 64
    max_pixels: int = 512 * 512
    max_steps: int = 50
    #: The longer side over the shorter at most (4: from 1:4 to 4:1).
    max_aspect_ratio: float = 4.0
    #: The `/video` options this preset's model uses (see videobot.options); the others are
    #: ignored, not charged, and the acknowledgement says so. Empty: the backend's own list.
    used_options: tuple[str, ...] = ()
    notice: str = ""
    cost_factor: float = 1.0
    nsfw: bool = False
    #: AnimateDiff: the motion adapter (hub id or folder) added to `model`, a Stable
    #: Diffusion 1.5 checkpoint.
    motion_adapter: str = ""
    # Memory and speed (diffusers presets; README, "Real models on a GPU").
    offload: str = "none"
    group_offload_blocks: int = 1
    vae_tiling: bool = False
    vae_slicing: bool = False
    fp8_weights: bool = False
    compile: str = "none"
    attention_backend: str = ""
    cache: str = "none"
    #: 0: the setting the cache's authors publish for the model's family.
    cache_threshold: float = 0.0
    #: Every this many denoising steps the worker stores a cheap preview of the clip forming
    #: (a linear projection of the latents to RGB, no VAE call); 0: none.
    preview_every_steps: int = 0
    #: x264's speed preset for the clip's encode (see `X264_PRESETS`).
    x264_preset: str = "veryfast"
    #: Extra keyword arguments of the pipeline call (e.g. LTX's decode_timestep).
    pipeline_args: Mapping[str, str | int | float | bool] = field(
        default_factory=lambda: MappingProxyType({}))
    #: A render running longer is stopped at its next step and failed with a message.
    time_limit_seconds: float = 900.0
    #: On out-of-memory, retry once with VAE tiling (then model offload) before failing.
    oom_fallback: bool = True


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


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


_DIFFUSERS_DEFAULTS = PresetConfig()

DEMO_PRESET = PresetConfig(
    name="demo", backend="demo", model="builtin:demo", family="demo", width=256, height=256,
    guidance=0.0, used_options=("frames", "fps", "width", "height", "seed"),
    notice="The embedded demo model draws one coloured shape moving on a plain background.",
)


def _default_presets() -> Mapping[str, PresetConfig]:
    """The embedded defaults: the demo model, and a tiny random diffusers pipeline."""
    return MappingProxyType({"demo": DEMO_PRESET, "tiny": PresetConfig()})


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
    presets: Mapping[str, PresetConfig] = field(default_factory=_default_presets)
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


_SECTIONS: dict[str, type] = {
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

#: (section, key, environment variable) for secrets that may stay out of the file.
_SECRETS_FROM_ENV = (
    ("telegram", "token", ENV_TELEGRAM_TOKEN),
    ("telegram", "webhook_secret", ENV_TELEGRAM_WEBHOOK_SECRET),
    ("discord", "token", ENV_DISCORD_TOKEN),
    ("api", "webhook_secret", ENV_API_WEBHOOK_SECRET),
    ("api", "session_secret", ENV_API_SESSION_SECRET),
)


def load_config(
    path: Path | None = None,
    *,
    data_dir: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Config:
    """Read, validate and freeze the configuration. `path=None` gives the embedded defaults."""
    raw: dict[str, Any] = _read_toml(path) if path is not None else {}
    env = os.environ if environ is None else environ
    if env.get(ENV_DATABASE_URL):
        raw.setdefault("database", {})
        if not isinstance(raw["database"], dict):
            raise ConfigError("database: must be a table")
        raw["database"]["url"] = env[ENV_DATABASE_URL]
    for section, key, variable in _SECRETS_FROM_ENV:
        if env.get(variable) and isinstance(raw.get(section), dict):
            raw[section] = {**raw[section], key: env[variable]}
    config = config_from_dict(raw)
    # Absolute, so that paths in replies and in the worker processes agree.
    return _with_data_dir(config, (data_dir or config.data_dir).expanduser().absolute())


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Build a `Config` from parsed TOML, naming the first bad key."""
    raw = dict(raw)
    kwargs: dict[str, Any] = {}
    if "data_dir" in raw:
        kwargs["data_dir"] = Path(_check(raw.pop("data_dir"), str, "data_dir"))
    if "default_preset" in raw:
        kwargs["default_preset"] = _check(raw.pop("default_preset"), str, "default_preset")
    for section, cls in _SECTIONS.items():
        if section in raw:
            kwargs[section] = _build(cls, raw.pop(section), section)
    if "presets" in raw:
        kwargs["presets"] = _build_presets(raw.pop("presets"))
    if raw:
        raise ConfigError(f"{sorted(raw)[0]}: unknown key")
    config = Config(**kwargs)
    _validate(config)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None


def _build_presets(raw: Any) -> Mapping[str, PresetConfig]:
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("presets: must be a table of at least one [presets.NAME]")
    return _build_named(PresetConfig, raw, "presets")


def _build_tiers(raw: Any, where: str) -> Mapping[str, TierConfig]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table of [{where}.NAME] tables")
    return _build_named(TierConfig, raw, where)


def _build_named(cls: type, raw: dict[str, Any], where: str) -> Mapping[str, Any]:
    """`[where.NAME]` tables as `cls` objects by name, each with its table's name."""
    built = {}
    for name, body in raw.items():
        if isinstance(body, dict) and "name" in body:
            raise ConfigError(f"{where}.{name}.name: unknown key (the name is the table's, "
                              f"[{where}.{name}])")
        body = {**body, "name": name} if isinstance(body, dict) else body
        built[name] = _build(cls, body, f"{where}.{name}")
    return MappingProxyType(built)


def _build(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    secret = {f.name for f in fields(cls) if not f.repr}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key")
        if key in secret and not isinstance(value, str):
            # Never echo a secret, even one of the wrong type.
            raise ConfigError(f"{where}.{key}: must be a string (the value is a secret: "
                              "not shown)")
        values[key] = _coerce(value, hints[key], f"{where}.{key}")
    return cls(**values)


def _coerce(value: Any, hint: Any, where: str) -> Any:
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: must be a finite number, not {value}")
    if hint == tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: must be a list of strings")
        return tuple(value)
    if hint == Mapping[str, TierConfig]:
        return _build_tiers(value, where)
    if hint == Mapping[str, str | int | float | bool]:
        if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float | bool) for v in value.values()
        ):
            raise ConfigError(f"{where}: must be a table of strings, numbers or booleans")
        return MappingProxyType(dict(value))
    if hint == tuple[int, ...]:
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ConfigError(f"{where}: must be a list of integers (ids)")
        return tuple(value)
    return _check(value, hint, where)


def _check(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: must be {_TYPE_WORDS.get(kind, kind.__name__)}, "
                          f"not {value!r}")
    return value


_TYPE_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _validate(config: Config) -> None:
    for preset in config.presets.values():
        _validate_preset(preset)
    if config.default_preset not in config.presets:
        raise ConfigError(
            f"default_preset: no preset named {config.default_preset!r} "
            f"(have: {', '.join(sorted(config.presets))}); set default_preset"
        )
    _positive(config.limits.max_prompt_chars, "limits.max_prompt_chars")
    _positive(config.limits.max_queued_per_user, "limits.max_queued_per_user")
    _positive(config.limits.max_image_mb, "limits.max_image_mb")
    _positive(config.queue.lease_seconds, "queue.lease_seconds")
    _positive(config.queue.poll_interval_seconds, "queue.poll_interval_seconds")
    _positive(config.queue.max_attempts, "queue.max_attempts")
    if not 0 < config.queue.heartbeat_seconds < config.queue.lease_seconds:
        raise ConfigError("queue.heartbeat_seconds: must be positive and below lease_seconds")
    _not_negative(config.worker.restart_delay_seconds, "worker.restart_delay_seconds")
    _not_negative(config.worker.shutdown_grace_seconds, "worker.shutdown_grace_seconds")
    _not_negative(config.worker.switch_after_seconds, "worker.switch_after_seconds")
    if not config.console.user.strip() or ":" in config.console.user:
        raise ConfigError("console.user: must be a non-empty name without ':'")
    if config.storage.clips not in {"auto", "database", "files"}:
        raise ConfigError("storage.clips: must be auto, database or files")
    if config.storage.keep_clips_days < 0 or config.storage.drop_delivered_clip_data_hours < 0:
        raise ConfigError("storage.keep_clips_days: retention periods must be zero or more")
    if not config.worker.devices:
        raise ConfigError("worker.devices: must name at least one device")
    for device in config.worker.devices:
        if not is_device_name(device):
            raise ConfigError(f"worker.devices: {device!r} is not a device; use {DEVICE_FORMS}")
    for name in config.worker.presets:
        if name not in config.presets:
            raise ConfigError(f"worker.presets: no preset named {name!r} "
                              f"(have: {', '.join(sorted(config.presets))})")
    if config.logging.level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("logging.level: must be one of DEBUG, INFO, WARNING, ERROR")
    _validate_quotas(config.quotas)
    _validate_moderation(config.moderation)
    if config.telegram is not None:
        _validate_telegram(config.telegram)
    if config.discord is not None:
        _validate_discord(config.discord)
    if config.api is not None:
        try:
            validate_api(config.api)
        except ApiConfigError as exc:
            raise ConfigError(str(exc)) from None
    _check_bounds(config)


def _check_bounds(config: Config) -> None:
    """Every numeric key within its bound (`videobot.config_bounds`), every id in 64 bits."""
    sections: list[tuple[str, Any]] = [
        (name, getattr(config, name)) for name in _SECTIONS if getattr(config, name) is not None]
    sections += [(f"presets.{name}", preset) for name, preset in config.presets.items()]
    sections += [(f"quotas.tiers.{name}", tier) for name, tier in config.quotas.tiers.items()]
    for where, section in sections:
        for key in fields(section):
            error = bound_error(type(section).__name__, key.name, getattr(section, key.name))
            if error is not None:
                raise ConfigError(f"{where}.{key.name}: {error}")


def _validate_quotas(quotas: QuotasConfig) -> None:
    _not_negative(quotas.credits, "quotas.credits")
    _positive(quotas.window_hours, "quotas.window_hours")
    if not -1 <= quotas.reset_hour_utc <= 23:
        raise ConfigError("quotas.reset_hour_utc: must be an hour 0 to 23, or -1 (rolling "
                          f"window), not {quotas.reset_hour_utc}")
    _not_negative(quotas.max_running_per_user, "quotas.max_running_per_user")
    _not_negative(quotas.max_queue_length, "quotas.max_queue_length")
    _not_negative(quotas.min_interval_seconds, "quotas.min_interval_seconds")
    _not_negative(quotas.describe_credits, "quotas.describe_credits")
    for tier in quotas.tiers.values():
        where = f"quotas.tiers.{tier.name}"
        _not_negative(tier.credits, f"{where}.credits")
        if not -100 <= tier.priority <= 100:
            raise ConfigError(f"{where}.priority: must be between -100 and 100")
        for user in tier.users:
            from videobot.users import BadUserName, parse_user

            try:
                parse_user(user)
            except BadUserName as exc:
                raise ConfigError(f"{where}.users: {exc}") from None


def _validate_moderation(moderation: ModerationConfig) -> None:
    import re

    for index, pattern in enumerate(moderation.patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"moderation.patterns[{index}]: not a regular expression "
                              f"({exc})") from None


def _validate_telegram(telegram: TelegramConfig) -> None:
    if not telegram.token:
        raise ConfigError(f"telegram.token: missing; set it or {ENV_TELEGRAM_TOKEN}")
    if telegram.mode not in {"polling", "webhook"}:
        raise ConfigError("telegram.mode: must be 'polling' or 'webhook'")
    if telegram.mode == "webhook" and not (telegram.webhook_url and telegram.webhook_secret):
        raise ConfigError(
            "telegram.webhook_url: webhook mode needs webhook_url and webhook_secret "
            f"(or {ENV_TELEGRAM_WEBHOOK_SECRET})"
        )
    if not telegram.api_base_url.startswith(("http://", "https://")):
        raise ConfigError("telegram.api_base_url: must be an http(s) URL")
    if telegram.upload_limit_mb < 0:
        raise ConfigError("telegram.upload_limit_mb: must be zero (automatic) or more")
    _positive(telegram.progress_interval_seconds, "telegram.progress_interval_seconds")


def _validate_discord(discord: DiscordConfig) -> None:
    if not discord.token:
        raise ConfigError(f"discord.token: missing; set it or {ENV_DISCORD_TOKEN}")
    if not discord.api_base_url.startswith(("http://", "https://")):
        raise ConfigError("discord.api_base_url: must be an http(s) URL")
    if not discord.gateway_url.startswith(("ws://", "wss://")):
        raise ConfigError("discord.gateway_url: must be a ws(s) URL")
    _positive(discord.interaction_token_seconds, "discord.interaction_token_seconds")
    _positive(discord.progress_interval_seconds, "discord.progress_interval_seconds")


def _validate_preset(preset: PresetConfig) -> None:
    where = f"presets.{preset.name}"
    if preset.backend not in {"diffusers", "demo"}:
        raise ConfigError(f"{where}.backend: must be 'diffusers' or 'demo'")
    if preset.dtype not in {"float32", "float16", "bfloat16"}:
        raise ConfigError(f"{where}.dtype: must be float32, float16 or bfloat16")
    for key in ("frames", "fps", "width", "height", "steps", "max_frames", "max_pixels",
                "max_steps"):
        _positive(getattr(preset, key), f"{where}.{key}")
    _validate_preset_defaults(preset, where)
    _positive(preset.cost_factor, f"{where}.cost_factor")
    _validate_preset_shape(preset, where)
    if preset.frames > preset.max_frames:
        raise ConfigError(f"{where}.frames: above max_frames ({preset.max_frames})")
    if preset.steps > preset.max_steps:
        raise ConfigError(f"{where}.steps: above max_steps ({preset.max_steps})")
    if preset.width * preset.height > preset.max_pixels:
        raise ConfigError(f"{where}.width: width x height above max_pixels")
    from videobot.families import FAMILIES

    if preset.family != "auto" and preset.family not in FAMILIES:
        raise ConfigError(
            f"{where}.family: unknown family {preset.family!r} "
            f"(known: auto, {', '.join(sorted(FAMILIES))})"
        )
    if not preset.model:
        raise ConfigError(f"{where}.model: must name a hub id, a local folder or builtin:NAME")
    _validate_preset_speed(preset, where)


#: The choices of the memory and speed keys of a preset.
OFFLOAD_CHOICES = ("none", "model", "sequential", "group")
COMPILE_CHOICES = ("none", "regional", "full")
CACHE_CHOICES = ("none", "first-block", "pyramid", "faster", "mag", "taylorseer")
#: x264's speed presets, fastest first. At one CRF a faster one writes a larger file of about
#: the same quality (bench/x264_presets.py measures both).
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow")
#: The most steps between two previews (a larger number is a mistake, not a choice).
MAX_PREVIEW_EVERY_STEPS = 1000


def _validate_preset_speed(preset: PresetConfig, where: str) -> None:
    for key, choices in (("offload", OFFLOAD_CHOICES), ("compile", COMPILE_CHOICES),
                         ("cache", CACHE_CHOICES), ("x264_preset", X264_PRESETS)):
        if getattr(preset, key) not in choices:
            raise ConfigError(f"{where}.{key}: must be one of {', '.join(choices)}, "
                              f"not {getattr(preset, key)!r}")
    _positive(preset.group_offload_blocks, f"{where}.group_offload_blocks")
    _positive(preset.time_limit_seconds, f"{where}.time_limit_seconds")
    if not 0 <= preset.cache_threshold < 1:
        raise ConfigError(f"{where}.cache_threshold: must be between 0 and 1 (0: the "
                          f"published setting), not {preset.cache_threshold:g}")
    if not 0 <= preset.preview_every_steps <= MAX_PREVIEW_EVERY_STEPS:
        raise ConfigError(f"{where}.preview_every_steps: must be between 0 (no previews) and "
                          f"{MAX_PREVIEW_EVERY_STEPS}, not {preset.preview_every_steps}")
    if preset.backend == "demo":
        changed = [key for key in _SPEED_KEYS
                   if getattr(preset, key) != getattr(_DIFFUSERS_DEFAULTS, key)]
        if changed:
            raise ConfigError(f"{where}.{changed[0]}: only diffusers presets take the memory "
                              "and speed options")


_SPEED_KEYS = ("motion_adapter", "offload", "group_offload_blocks", "vae_tiling", "vae_slicing",
               "fp8_weights", "compile", "attention_backend", "cache", "cache_threshold",
               "pipeline_args", "preview_every_steps")


def _validate_preset_defaults(preset: PresetConfig, where: str) -> None:
    """Defaults that every request would break are a config error, not a chat refusal."""
    from videobot.limits import MAX_FPS, MAX_GUIDANCE, MIN_SIDE

    if preset.fps > MAX_FPS:
        raise ConfigError(f"{where}.fps: must be at most {MAX_FPS}, not {preset.fps}")
    for key in ("width", "height"):
        if getattr(preset, key) < MIN_SIDE:
            raise ConfigError(f"{where}.{key}: must be at least {MIN_SIDE}, "
                              f"not {getattr(preset, key)}")
    if not 0 <= preset.guidance <= MAX_GUIDANCE:
        raise ConfigError(f"{where}.guidance: must be between 0 and {MAX_GUIDANCE:g}, "
                          f"not {preset.guidance:g}")


def _validate_preset_shape(preset: PresetConfig, where: str) -> None:
    """The aspect-ratio cap, and the options a model may declare it uses."""
    from videobot.options import MODEL_OPTIONS

    if preset.max_aspect_ratio < 1:
        raise ConfigError(f"{where}.max_aspect_ratio: must be 1 or more (the longer side over "
                          f"the shorter), not {preset.max_aspect_ratio:g}")
    ratio = max(preset.width, preset.height) / min(preset.width, preset.height)
    if ratio > preset.max_aspect_ratio:
        raise ConfigError(f"{where}.width: {preset.width}x{preset.height} is wider or taller "
                          f"than max_aspect_ratio ({preset.max_aspect_ratio:g}:1)")
    unknown = [name for name in preset.used_options if name not in MODEL_OPTIONS]
    if unknown:
        raise ConfigError(f"{where}.used_options: unknown option {unknown[0]!r} "
                          f"(the options: {', '.join(MODEL_OPTIONS)})")


def _positive(value: float, where: str) -> None:
    if value <= 0:
        raise ConfigError(f"{where}: must be positive, not {value}")


def _not_negative(value: float, where: str) -> None:
    if value < 0:
        raise ConfigError(f"{where}: must be zero or more, not {value}")


def _with_data_dir(config: Config, data_dir: Path) -> Config:
    from dataclasses import replace

    return replace(config, data_dir=data_dir)
