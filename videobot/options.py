"""The `/video` options a model may use, and which of them each preset's model does use: an
option a model ignores is not applied, not charged, and the acknowledgement says so."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

#: The options that change what a model renders, by the name users type (`--negative`).
MODEL_OPTIONS = ("frames", "fps", "width", "height", "steps", "guidance", "seed", "negative")
#: The request field each option sets, where the names differ.
_FIELDS = {"negative": "negative_prompt"}
#: What a backend's models use when a preset does not say (`used_options`). The demo model
#: renders one pass with no denoising steps, no classifier-free guidance, no negative prompt.
BACKEND_OPTIONS = {
    "diffusers": MODEL_OPTIONS,
    "demo": ("frames", "fps", "width", "height", "seed"),
}


class PresetConfig(Protocol):
    """What these rules read of a preset (videobot.config.PresetConfig; no import of it:
    the config validates `used_options` with `MODEL_OPTIONS` from here)."""

    @property
    def backend(self) -> str: ...

    @property
    def used_options(self) -> tuple[str, ...]: ...


def field_of(option: str) -> str:
    """The request field an option sets (`negative` -> `negative_prompt`)."""
    return _FIELDS.get(option, option)


def options_used(preset: PresetConfig) -> tuple[str, ...]:
    """The options the preset's model uses: its `used_options`, else its backend's."""
    return preset.used_options or BACKEND_OPTIONS.get(preset.backend, MODEL_OPTIONS)


def uses(preset: PresetConfig, option: str) -> bool:
    """Whether the preset's model uses `option` (e.g. `steps`)."""
    return option in options_used(preset)


def counts_steps(presets: Mapping[str, PresetConfig], name: str) -> bool:
    """Whether progress in steps means anything for jobs of preset `name` (an unknown preset
    is assumed to count them)."""
    preset = presets.get(name)
    return preset is None or uses(preset, "steps")


def ignored_fields(fields: Iterable[str], preset: PresetConfig) -> list[str]:
    """The options (by name) among request `fields` that the preset's model ignores."""
    used = {field_of(option) for option in options_used(preset)}
    by_field = {field_of(option): option for option in MODEL_OPTIONS}
    return [by_field[f] for f in fields if f in by_field and f not in used]
