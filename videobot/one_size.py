"""Models that render one size only (CogVideoX-5b-I2V: its learned position embeddings are
made for 720x480), and a request snapped to that size before it is queued.

Torch-free, like the other family rules: the bot snaps a request at submission, with a note,
so that a request of another size is never queued, charged and then failed by the worker
(which checks the loaded model's own size again).
"""

from __future__ import annotations

from videobot.config.presets import PresetConfig
from videobot.families import family_for_preset
from videobot.params import RenderRequest

#: Builtin models whose one size is not their family's: the tiny random CogVideoX-I2V is
#: built at 64x64 (its position embeddings are learned for that, as the real model's are for
#: 720x480).
BUILTIN_SIZES: dict[str, tuple[int, int]] = {"tiny-cogvideox-i2v": (64, 64)}


def fixed_size(preset: PresetConfig) -> tuple[int, int] | None:
    """The one (width, height) `preset`'s model renders, or None when it renders any size
    its family's rounding allows."""
    if preset.model.startswith("builtin:"):
        size = BUILTIN_SIZES.get(preset.model.removeprefix("builtin:"))
        if size is not None:
            return size
    return family_for_preset(preset).fixed_size


def snap_to_fixed_size(request: RenderRequest,
                       preset: PresetConfig) -> tuple[RenderRequest, list[str]]:
    """`request` at the one size `preset`'s model renders, with a note when that changed
    its size (no change, no note)."""
    size = fixed_size(preset)
    if size is None or size == (request.width, request.height):
        return request, []
    width, height = size
    note = (f"size {request.width}x{request.height} set to {width}x{height} (the preset "
            f"{preset.name} renders {width}x{height} only)")
    return request.replace(width=width, height=height), [note]
