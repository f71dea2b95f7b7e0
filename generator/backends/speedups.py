"""A preset's memory and speed options, applied to a loaded diffusers pipeline.

Order matters and follows diffusers' guides: weights are cast (fp8 storage) before they are
placed or offloaded; the attention backend and the cache hooks go on the denoiser before it
is compiled, so that the compiled graph includes them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import torch

from generator.backends.caches import DenoiserCache, enable_cache
from videobot.config import PresetConfig
from videobot.families import Family

log = logging.getLogger(__name__)

#: The names of a denoiser's lists of transformer blocks (as diffusers' hooks know them).
BLOCK_LISTS = ("blocks", "transformer_blocks", "single_transformer_blocks", "temporal_blocks",
               "layers")


@dataclass(frozen=True)
class Applied:
    """What `apply_speedups` did, worded for the log, and the cache it put on, if any."""

    words: list[str]
    cache: DenoiserCache | None


def denoiser(pipe: Any) -> Any:
    """The pipeline's denoising model: its transformer, or its UNet in older families."""
    model = getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)
    if model is None:
        raise ValueError(f"{type(pipe).__name__} has neither a transformer nor a UNet")
    return model


def apply_speedups(pipe: Any, preset: PresetConfig, device: str, family: Family) -> Applied:
    """Apply `preset`'s options to `pipe` (of `family`), place it on `device`, and say what
    was done."""
    applied: list[str] = []
    cache = None
    model = denoiser(pipe)
    if preset.fp8_weights:
        model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn,
                                       compute_dtype=model.dtype)
        applied.append("fp8 weight storage")
    _place(pipe, preset, device)
    applied.append(f"offload {preset.offload}" if preset.offload != "none" else f"on {device}")
    vae = getattr(pipe, "vae", None)
    if preset.vae_tiling and vae is not None:
        vae.enable_tiling()
        applied.append("VAE tiling")
    if preset.vae_slicing and vae is not None:
        vae.enable_slicing()
        applied.append("VAE slicing")
    if preset.attention_backend:
        model.set_attention_backend(preset.attention_backend)
        applied.append(f"attention {preset.attention_backend}")
    if preset.cache != "none":
        cache = enable_cache(pipe, model, preset, family)
        applied.append(cache.words)
    if preset.compile != "none":
        applied.append(_compile(model, preset.compile))
    return Applied(applied, cache)


def lighten(pipe: Any, device: str) -> str | None:
    """Make `pipe` use less memory, one measure at a time: VAE tiling, then model offload.
    Returns the measure taken, or None when there is none left."""
    vae = getattr(pipe, "vae", None)
    if vae is not None and hasattr(vae, "enable_tiling") and not getattr(vae, "use_tiling", True):
        vae.enable_tiling()
        return "VAE tiling"
    if getattr(pipe, "_offload_device", None) is None and not _group_offloaded(pipe):
        pipe.enable_model_cpu_offload(device=device)
        return "model CPU offload"
    return None


def free_memory() -> None:
    """Give cached accelerator memory back after an out-of-memory error."""
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _place(pipe: Any, preset: PresetConfig, device: str) -> None:
    if preset.offload == "none":
        pipe.to(device)
    elif preset.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif preset.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        streams = torch.device(device).type == "cuda"
        pipe.enable_group_offload(
            onload_device=torch.device(device), offload_device=torch.device("cpu"),
            offload_type="block_level", num_blocks_per_group=preset.group_offload_blocks,
            use_stream=streams,
        )


def _group_offloaded(pipe: Any) -> bool:
    from diffusers.hooks.group_offloading import _is_group_offload_enabled

    return any(_is_group_offload_enabled(component)
               for component in pipe.components.values()
               if isinstance(component, torch.nn.Module))


def _compile(model: Any, how: str) -> str:
    """Compile in place; regional compilation (the repeated blocks only) compiles in a
    fraction of the time, where the model has repeated blocks."""
    if how == "regional":
        blocks = repeated_blocks(model)
        if blocks:
            # Some models (CogVideoX) do not declare theirs: found, they are named here.
            model._repeated_blocks = blocks
            model.compile_repeated_blocks(fullgraph=True)
            return f"regional compile ({', '.join(blocks)})"
        log.warning("%s has no repeated blocks: compiling the whole model instead",
                    type(model).__name__)
    model.compile()
    return "full compile"


def repeated_blocks(model: Any) -> list[str]:
    """The class names of `model`'s repeated transformer blocks: those it declares, else
    those of its lists of blocks of one class (CogVideoX's `transformer_blocks`)."""
    declared = getattr(model, "_repeated_blocks", None)
    if declared:
        return list(declared)
    found: list[str] = []
    for name in BLOCK_LISTS:
        blocks = getattr(model, name, None)
        if isinstance(blocks, torch.nn.ModuleList) and len(blocks):
            kinds = {type(block).__name__ for block in blocks}
            if len(kinds) == 1 and kinds.isdisjoint(found):
                found.extend(kinds)
    return found
