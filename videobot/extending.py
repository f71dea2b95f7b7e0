"""Extending a clip (/extend): which presets can continue one, and how long it may grow.

A preset that takes a picture can continue a clip from its last frame (the demo model also
carries on its motion); a text-only preset cannot. Torch-free: the bot checks an extension
before queuing it, the worker renders it.
"""

from __future__ import annotations

from collections.abc import Iterable

from videobot.config.presets import PresetConfig
from videobot.image_presets import takes_picture

#: A preset's clip may grow to this many times its own length unless `max_seconds` says.
DEFAULT_LENGTHS = 4


def can_extend(preset: PresetConfig) -> bool:
    """Whether `preset` can continue a clip: it renders from a picture (the last frame)."""
    return takes_picture(preset)


def extending_presets(presets: Iterable[PresetConfig]) -> list[str]:
    """The names of the presets among `presets` that can continue a clip, sorted."""
    return sorted(preset.name for preset in presets if can_extend(preset))


def max_seconds(preset: PresetConfig) -> float:
    """The longest an extended clip of `preset` may be, in seconds."""
    return preset.max_seconds or DEFAULT_LENGTHS * preset.frames / preset.fps


def extended_frames(source_frames: int, added_frames: int) -> int:
    """The frames of a clip extended by a render of `added_frames`: the continuation opens on
    the source's last frame, which is not repeated."""
    return source_frames + added_frames - 1
