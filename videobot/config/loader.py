"""Reading the configuration: the TOML file, secrets from the environment, and each value
coerced to its key's type, naming the first bad key (`ConfigError`).

Secrets may come from the environment instead of the file: `VIDEOBOT_DATABASE_URL`
overrides `[database] url`, and each token and webhook secret has its own variable.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_type_hints

from videobot.api_config import ENV_API_SESSION_SECRET, ENV_API_WEBHOOK_SECRET
from videobot.config.checks import validate
from videobot.config.errors import ConfigError
from videobot.config.platforms import (
    ENV_DISCORD_TOKEN,
    ENV_TELEGRAM_TOKEN,
    ENV_TELEGRAM_WEBHOOK_SECRET,
)
from videobot.config.presets import PresetConfig
from videobot.config.quotas import TierConfig
from videobot.config.schema import ENV_DATABASE_URL, SECTIONS, Config

#: (section, key, environment variable) for secrets that may stay out of the file.
SECRETS_FROM_ENV = (
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
    for section, key, variable in SECRETS_FROM_ENV:
        if env.get(variable) and isinstance(raw.get(section), dict):
            raw[section] = {**raw[section], key: env[variable]}
    config = config_from_dict(raw)
    # Absolute, so that paths in replies and in the worker processes agree.
    return replace(config, data_dir=(data_dir or config.data_dir).expanduser().absolute())


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Build a `Config` from parsed TOML, naming the first bad key."""
    raw = dict(raw)
    kwargs: dict[str, Any] = {}
    if "data_dir" in raw:
        kwargs["data_dir"] = Path(_check(raw.pop("data_dir"), str, "data_dir"))
    if "default_preset" in raw:
        kwargs["default_preset"] = _check(raw.pop("default_preset"), str, "default_preset")
    for section, cls in SECTIONS.items():
        if section in raw:
            kwargs[section] = _build(cls, raw.pop(section), section)
    if "presets" in raw:
        kwargs["presets"] = _build_presets(raw.pop("presets"))
    if raw:
        raise ConfigError(f"{sorted(raw)[0]}: unknown key")
    config = Config(**kwargs)
    validate(config)
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
