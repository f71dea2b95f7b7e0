"""What a clip costs in credits: its work relative to its preset's default clip, counting only
what the preset's model uses (the demo model has no steps: `--steps 50` costs it nothing)."""

from __future__ import annotations

from videobot.config.presets import PresetConfig
from videobot.options import uses
from videobot.params import RenderRequest

MIN_COST = 0.01
#: The options whose values multiply a clip's work.
WORK_OPTIONS = ("frames", "width", "height", "steps")


def credit_cost(request: RenderRequest, preset: PresetConfig) -> float:
    """frames x width x height x steps over the preset default's, times `cost_factor`: the
    default clip of a preset costs exactly its cost factor. An option the preset's model does
    not use counts at its default."""
    work = default = 1
    for option in WORK_OPTIONS:
        preset_value = getattr(preset, option)
        work *= getattr(request, option) if uses(preset, option) else preset_value
        default *= preset_value
    return max(MIN_COST, round(preset.cost_factor * work / default, 2))
