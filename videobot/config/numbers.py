"""The two sign checks most numeric keys share, naming the key."""

from __future__ import annotations

from videobot.config.errors import ConfigError


def positive(value: float, where: str) -> None:
    """Refuse zero or less for the key `where`."""
    if value <= 0:
        raise ConfigError(f"{where}: must be positive, not {value}")


def not_negative(value: float, where: str) -> None:
    """Refuse a negative value for the key `where`."""
    if value < 0:
        raise ConfigError(f"{where}: must be zero or more, not {value}")
