"""The error every part of the configuration raises: its message names the key and says why."""

from __future__ import annotations


class ConfigError(Exception):
    """The configuration is invalid."""
