"""The one way to make a `RenderRequest` from a preset: its defaults, with the given values
over them. The chat's `/video`, the worker's warm-up, `generate` and the benchmarks all build
their requests here, so a new request field has one default to set."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from videobot.config.presets import PresetConfig
from videobot.limits import MAX_SEED
from videobot.params import RenderRequest


def request_from_preset(preset: PresetConfig, prompt: str,
                        overrides: Mapping[str, Any] | None = None) -> RenderRequest:
    """A request for `prompt` at `preset`'s defaults, each request field in `overrides` (by its
    name: frames, fps, width, height, steps, guidance, seed, negative_prompt) replacing the
    default; a random seed unless one is given. Nothing is checked here (see
    `videobot.limits.check_request`)."""
    given = dict(overrides or {})
    return RenderRequest(
        prompt=prompt,
        negative_prompt=given.get("negative_prompt", preset.negative_prompt),
        frames=given.get("frames", preset.frames),
        fps=given.get("fps", preset.fps),
        width=given.get("width", preset.width),
        height=given.get("height", preset.height),
        steps=given.get("steps", preset.steps),
        guidance=float(given.get("guidance", preset.guidance)),
        seed=given["seed"] if "seed" in given else secrets.randbelow(MAX_SEED + 1),
        preset=preset.name,
    )
