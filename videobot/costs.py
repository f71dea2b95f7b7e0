"""What a clip costs in credits: its work relative to its preset's default clip."""

from __future__ import annotations

from videobot.config import PresetConfig
from videobot.params import RenderRequest

MIN_COST = 0.01


def credit_cost(request: RenderRequest, preset: PresetConfig) -> float:
    """frames x width x height x steps over the preset default's, times `cost_factor`:
    the default clip of a preset costs exactly its cost factor."""
    work = request.frames * request.width * request.height * request.steps
    default = preset.frames * preset.width * preset.height * preset.steps
    return max(MIN_COST, round(preset.cost_factor * work / default, 2))
