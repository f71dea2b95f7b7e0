"""The checks of a whole configuration, run once it is built: values within their ranges and
bounds, names that refer to something, and the platforms' required keys. Every error names
the key (`ConfigError`)."""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from videobot.api_config import ApiConfigError, validate_api
from videobot.config.errors import ConfigError
from videobot.config.numbers import not_negative, positive
from videobot.config.platforms import (
    ENV_DISCORD_TOKEN,
    ENV_TELEGRAM_TOKEN,
    ENV_TELEGRAM_WEBHOOK_SECRET,
    DiscordConfig,
    TelegramConfig,
)
from videobot.config.preset_checks import validate_preset
from videobot.config.quotas import ModerationConfig, QuotasConfig
from videobot.config.schema import SECTIONS, Config
from videobot.config_bounds import bound_error
from videobot.devices import DEVICE_FORMS, is_device_name
from videobot.users import BadUserName, parse_user

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def validate(config: Config) -> None:
    """Raise `ConfigError` naming the first bad key of `config`."""
    for preset in config.presets.values():
        validate_preset(preset)
    if config.default_preset not in config.presets:
        raise ConfigError(
            f"default_preset: no preset named {config.default_preset!r} "
            f"(have: {', '.join(sorted(config.presets))}); set default_preset"
        )
    _validate_queue(config)
    not_negative(config.worker.restart_delay_seconds, "worker.restart_delay_seconds")
    not_negative(config.worker.shutdown_grace_seconds, "worker.shutdown_grace_seconds")
    not_negative(config.worker.switch_after_seconds, "worker.switch_after_seconds")
    if not config.console.user.strip() or ":" in config.console.user:
        raise ConfigError("console.user: must be a non-empty name without ':'")
    if config.storage.clips not in {"auto", "database", "files"}:
        raise ConfigError("storage.clips: must be auto, database or files")
    if config.storage.keep_clips_days < 0 or config.storage.drop_delivered_clip_data_hours < 0:
        raise ConfigError("storage.keep_clips_days: retention periods must be zero or more")
    _validate_worker(config)
    if config.logging.level.upper() not in LOG_LEVELS:
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


def _validate_queue(config: Config) -> None:
    positive(config.limits.max_prompt_chars, "limits.max_prompt_chars")
    positive(config.limits.max_queued_per_user, "limits.max_queued_per_user")
    positive(config.limits.max_image_mb, "limits.max_image_mb")
    positive(config.queue.lease_seconds, "queue.lease_seconds")
    positive(config.queue.poll_interval_seconds, "queue.poll_interval_seconds")
    positive(config.queue.max_attempts, "queue.max_attempts")
    if not 0 < config.queue.heartbeat_seconds < config.queue.lease_seconds:
        raise ConfigError("queue.heartbeat_seconds: must be positive and below lease_seconds")


def _validate_worker(config: Config) -> None:
    """The devices and presets of the local workers."""
    if not config.worker.devices:
        raise ConfigError("worker.devices: must name at least one device")
    for device in config.worker.devices:
        if not is_device_name(device):
            raise ConfigError(f"worker.devices: {device!r} is not a device; use {DEVICE_FORMS}")
    for name in config.worker.presets:
        if name not in config.presets:
            raise ConfigError(f"worker.presets: no preset named {name!r} "
                              f"(have: {', '.join(sorted(config.presets))})")


def _check_bounds(config: Config) -> None:
    """Every numeric key within its bound (`videobot.config_bounds`), every id in 64 bits."""
    sections: list[tuple[str, Any]] = [
        (name, getattr(config, name)) for name in SECTIONS if getattr(config, name) is not None]
    sections += [(f"presets.{name}", preset) for name, preset in config.presets.items()]
    sections += [(f"quotas.tiers.{name}", tier) for name, tier in config.quotas.tiers.items()]
    for where, section in sections:
        for key in fields(section):
            error = bound_error(type(section).__name__, key.name, getattr(section, key.name))
            if error is not None:
                raise ConfigError(f"{where}.{key.name}: {error}")


def _validate_quotas(quotas: QuotasConfig) -> None:
    not_negative(quotas.credits, "quotas.credits")
    positive(quotas.window_hours, "quotas.window_hours")
    if not -1 <= quotas.reset_hour_utc <= 23:
        raise ConfigError("quotas.reset_hour_utc: must be an hour 0 to 23, or -1 (rolling "
                          f"window), not {quotas.reset_hour_utc}")
    not_negative(quotas.max_running_per_user, "quotas.max_running_per_user")
    not_negative(quotas.max_queue_length, "quotas.max_queue_length")
    not_negative(quotas.min_interval_seconds, "quotas.min_interval_seconds")
    not_negative(quotas.describe_credits, "quotas.describe_credits")
    for tier in quotas.tiers.values():
        where = f"quotas.tiers.{tier.name}"
        not_negative(tier.credits, f"{where}.credits")
        if not -100 <= tier.priority <= 100:
            raise ConfigError(f"{where}.priority: must be between -100 and 100")
        for user in tier.users:
            try:
                parse_user(user)
            except BadUserName as exc:
                raise ConfigError(f"{where}.users: {exc}") from None


def _validate_moderation(moderation: ModerationConfig) -> None:
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
    positive(telegram.progress_interval_seconds, "telegram.progress_interval_seconds")


def _validate_discord(discord: DiscordConfig) -> None:
    if not discord.token:
        raise ConfigError(f"discord.token: missing; set it or {ENV_DISCORD_TOKEN}")
    if not discord.api_base_url.startswith(("http://", "https://")):
        raise ConfigError("discord.api_base_url: must be an http(s) URL")
    if not discord.gateway_url.startswith(("ws://", "wss://")):
        raise ConfigError("discord.gateway_url: must be a ws(s) URL")
    positive(discord.interaction_token_seconds, "discord.interaction_token_seconds")
    positive(discord.progress_interval_seconds, "discord.progress_interval_seconds")
