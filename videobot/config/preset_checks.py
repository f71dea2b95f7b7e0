"""The checks of one `[presets.NAME]` table: its backend and dtype, defaults within its own caps
and the request limits, its model family, and the memory and speed keys."""

from __future__ import annotations

from videobot.config.errors import ConfigError
from videobot.config.numbers import positive
from videobot.config.presets import (
    BACKENDS,
    CACHE_CHOICES,
    COMPILE_CHOICES,
    DIFFUSERS_DEFAULTS,
    DTYPES,
    MAX_PREVIEW_EVERY_STEPS,
    OFFLOAD_CHOICES,
    SPEED_KEYS,
    X264_PRESETS,
    PresetConfig,
)
from videobot.families import FAMILIES
from videobot.image_presets import image_key_error
from videobot.limits import MAX_FPS, MAX_GUIDANCE, MIN_SIDE
from videobot.one_size import fixed_size
from videobot.options import MODEL_OPTIONS


def validate_preset(preset: PresetConfig) -> None:
    """Raise `ConfigError` naming the first bad key of `preset`."""
    where = f"presets.{preset.name}"
    if preset.backend not in BACKENDS:
        raise ConfigError(f"{where}.backend: must be 'diffusers' or 'demo'")
    if preset.dtype not in DTYPES:
        raise ConfigError(f"{where}.dtype: must be float32, float16 or bfloat16")
    for key in ("frames", "fps", "width", "height", "steps", "max_frames", "max_pixels",
                "max_steps"):
        positive(getattr(preset, key), f"{where}.{key}")
    _validate_defaults(preset, where)
    positive(preset.cost_factor, f"{where}.cost_factor")
    _validate_shape(preset, where)
    if preset.frames > preset.max_frames:
        raise ConfigError(f"{where}.frames: above max_frames ({preset.max_frames})")
    if preset.steps > preset.max_steps:
        raise ConfigError(f"{where}.steps: above max_steps ({preset.max_steps})")
    if preset.width * preset.height > preset.max_pixels:
        raise ConfigError(f"{where}.width: width x height above max_pixels")
    if preset.family != "auto" and preset.family not in FAMILIES:
        raise ConfigError(
            f"{where}.family: unknown family {preset.family!r} "
            f"(known: auto, {', '.join(sorted(FAMILIES))})"
        )
    if not preset.model:
        raise ConfigError(f"{where}.model: must name a hub id, a local folder or builtin:NAME")
    _validate_speed(preset, where)
    if (error := image_key_error(preset)) is not None:
        raise ConfigError(f"{where}.image: {error}")
    _validate_one_size(preset, where)


def _validate_one_size(preset: PresetConfig, where: str) -> None:
    """A one-size model's preset must default to that size (else every request it serves
    would be set to it, with a note)."""
    size = fixed_size(preset)
    if size is not None and size != (preset.width, preset.height):
        width, height = size
        raise ConfigError(f"{where}.width: the preset's model renders {width}x{height} only; "
                          f"set width = {width} and height = {height}")


def _validate_speed(preset: PresetConfig, where: str) -> None:
    for key, choices in (("offload", OFFLOAD_CHOICES), ("compile", COMPILE_CHOICES),
                         ("cache", CACHE_CHOICES), ("x264_preset", X264_PRESETS)):
        if getattr(preset, key) not in choices:
            raise ConfigError(f"{where}.{key}: must be one of {', '.join(choices)}, "
                              f"not {getattr(preset, key)!r}")
    positive(preset.group_offload_blocks, f"{where}.group_offload_blocks")
    positive(preset.time_limit_seconds, f"{where}.time_limit_seconds")
    clip_seconds = preset.frames / preset.fps
    if preset.max_seconds and not preset.max_seconds > clip_seconds:
        raise ConfigError(f"{where}.max_seconds: must be 0 (four times the clip) or longer "
                          f"than the preset's clip ({clip_seconds:g} s), not "
                          f"{preset.max_seconds:g}")
    if not 0 <= preset.cache_threshold < 1:
        raise ConfigError(f"{where}.cache_threshold: must be between 0 and 1 (0: the "
                          f"published setting), not {preset.cache_threshold:g}")
    if not 0 <= preset.preview_every_steps <= MAX_PREVIEW_EVERY_STEPS:
        raise ConfigError(f"{where}.preview_every_steps: must be between 0 (no previews) and "
                          f"{MAX_PREVIEW_EVERY_STEPS}, not {preset.preview_every_steps}")
    if preset.backend == "demo":
        changed = [key for key in SPEED_KEYS
                   if getattr(preset, key) != getattr(DIFFUSERS_DEFAULTS, key)]
        if changed:
            raise ConfigError(f"{where}.{changed[0]}: only diffusers presets take the memory "
                              "and speed options")


def _validate_defaults(preset: PresetConfig, where: str) -> None:
    """Defaults that every request would break are a config error, not a chat refusal."""
    if preset.fps > MAX_FPS:
        raise ConfigError(f"{where}.fps: must be at most {MAX_FPS}, not {preset.fps}")
    for key in ("width", "height"):
        if getattr(preset, key) < MIN_SIDE:
            raise ConfigError(f"{where}.{key}: must be at least {MIN_SIDE}, "
                              f"not {getattr(preset, key)}")
    if not 0 <= preset.guidance <= MAX_GUIDANCE:
        raise ConfigError(f"{where}.guidance: must be between 0 and {MAX_GUIDANCE:g}, "
                          f"not {preset.guidance:g}")


def _validate_shape(preset: PresetConfig, where: str) -> None:
    """The aspect-ratio cap, and the options a model may declare it uses."""
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

