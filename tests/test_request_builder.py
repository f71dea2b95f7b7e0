"""The one builder of a request from a preset's defaults."""

from __future__ import annotations

import dataclasses

from videobot.config import PresetConfig, load_config
from videobot.limits import MAX_SEED
from videobot.params import RenderRequest
from videobot.request_builder import request_from_preset


def test_a_request_takes_every_default_of_its_preset() -> None:
    preset = load_config(None).presets["demo"]
    request = request_from_preset(preset, "a red ball", {"seed": 3})
    assert request == RenderRequest(
        prompt="a red ball", negative_prompt=preset.negative_prompt, frames=preset.frames,
        fps=preset.fps, width=preset.width, height=preset.height, steps=preset.steps,
        guidance=preset.guidance, seed=3, preset="demo")


def test_given_values_replace_the_defaults_and_the_seed_is_random_unless_given() -> None:
    preset = dataclasses.replace(PresetConfig(name="p", backend="demo"), guidance=7)
    request = request_from_preset(preset, "x", {"frames": 9, "negative_prompt": "blur",
                                                "steps": 1})
    assert (request.frames, request.negative_prompt, request.steps) == (9, "blur", 1)
    assert request.guidance == 7.0 and isinstance(request.guidance, float)
    seeds = {request_from_preset(preset, "x").seed for _ in range(8)}
    assert len(seeds) > 1 and all(0 <= seed <= MAX_SEED for seed in seeds)
