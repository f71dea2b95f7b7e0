"""The caps on a request, checked before it is queued and again in the worker."""

from __future__ import annotations

from videobot.config.presets import PresetConfig
from videobot.config.schema import LimitsConfig
from videobot.params import RenderRequest

MIN_SIDE = 16
MAX_FPS = 60
MAX_GUIDANCE = 30.0
MAX_SEED = 2**32 - 1


class LimitExceeded(ValueError):
    """A parameter is outside what this bot allows; the message names it and the limit."""


def check_request(request: RenderRequest, preset: PresetConfig, limits: LimitsConfig) -> None:
    """Raise `LimitExceeded` naming the first parameter that breaks a cap."""
    prompt = request.prompt.strip()
    if not prompt:
        raise LimitExceeded("the prompt is empty: describe the clip, e.g. /video a red ball")
    for name, text in (("prompt", request.prompt), ("negative prompt", request.negative_prompt)):
        if len(text) > limits.max_prompt_chars:
            raise LimitExceeded(
                f"the {name} is {len(text)} characters long; the limit is "
                f"{limits.max_prompt_chars}"
            )
    _in_range("frames", request.frames, 1, preset.max_frames)
    _in_range("fps", request.fps, 1, MAX_FPS)
    _in_range("steps", request.steps, 1, preset.max_steps)
    _in_range("width", request.width, MIN_SIDE, preset.max_pixels // MIN_SIDE)
    _in_range("height", request.height, MIN_SIDE, preset.max_pixels // MIN_SIDE)
    if request.width * request.height > preset.max_pixels:
        raise LimitExceeded(
            f"{request.width}x{request.height} is {request.width * request.height} pixels per "
            f"frame; the limit for preset {preset.name} is {preset.max_pixels}"
        )
    _aspect_ratio(request.width, request.height, preset)
    if not 0 <= request.guidance <= MAX_GUIDANCE:
        raise LimitExceeded(f"guidance must be between 0 and {MAX_GUIDANCE:g}")
    _in_range("seed", request.seed, 0, MAX_SEED)


def _aspect_ratio(width: int, height: int, preset: PresetConfig) -> None:
    cap = preset.max_aspect_ratio
    if max(width, height) / min(width, height) > cap:
        shape = f"{width / height:.3g}:1" if width >= height else f"1:{height / width:.3g}"
        raise LimitExceeded(f"{width}x{height} has an aspect ratio of {shape}; preset "
                            f"{preset.name} allows from 1:{cap:g} to {cap:g}:1")


def _in_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise LimitExceeded(f"{name} must be between {low} and {high}, not {value}")
