"""A preset's memory and speed options, applied to a loaded diffusers pipeline.

Order matters and follows diffusers' guides: weights are cast (fp8 storage) before they are
placed or offloaded; the attention backend and the cache hooks go on the denoiser before it
is compiled, so that the compiled graph includes them.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from videobot.config import PresetConfig

log = logging.getLogger(__name__)

#: Pipelines whose denoiser output FasterCache understands.
FASTER_CACHE_PIPELINES = ("CogVideoX", "HunyuanVideo")
#: FirstBlockCache thresholds from here on visibly blur motion (diffusers' guide and ours).
BLURRY_CACHE_THRESHOLD = 0.2
#: FirstBlockCache's threshold unless the preset sets one (diffusers' guide: ~2.5x on Wan).
FIRST_BLOCK_THRESHOLD = 0.1


def denoiser(pipe: Any) -> Any:
    """The pipeline's denoising model: its transformer, or its UNet in older families."""
    model = getattr(pipe, "transformer", None) or getattr(pipe, "unet", None)
    if model is None:
        raise ValueError(f"{type(pipe).__name__} has neither a transformer nor a UNet")
    return model


def apply_speedups(pipe: Any, preset: PresetConfig, device: str) -> list[str]:
    """Apply `preset`'s options to `pipe`, place it on `device`, and return what was done,
    worded for the log."""
    applied: list[str] = []
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
        if not hasattr(model, "enable_cache"):
            raise ValueError(f"preset {preset.name}: cache = {preset.cache!r} needs a denoiser "
                             f"with diffusers' cache hooks; {type(model).__name__} has none")
        model.enable_cache(_cache_config(pipe, preset))
        applied.append(f"cache {preset.cache}")
    if preset.compile != "none":
        applied.append(_compile(model, preset.compile))
    return applied


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


def _cache_config(pipe: Any, preset: PresetConfig) -> Any:
    from diffusers import FasterCacheConfig, FirstBlockCacheConfig, PyramidAttentionBroadcastConfig

    if preset.cache == "first-block":
        if preset.cache_threshold >= BLURRY_CACHE_THRESHOLD:
            log.warning("preset %s: a first-block cache threshold of %g or more blurs motion",
                        preset.name, BLURRY_CACHE_THRESHOLD)
        return FirstBlockCacheConfig(threshold=preset.cache_threshold or FIRST_BLOCK_THRESHOLD)
    if not isinstance(getattr(type(pipe), "current_timestep", None), property):
        raise ValueError(f"preset {preset.name}: cache = {preset.cache!r} needs a pipeline "
                         f"that reports its timestep, and {type(pipe).__name__} does not")
    if preset.cache == "pyramid":
        return PyramidAttentionBroadcastConfig(
            spatial_attention_block_skip_range=2,
            spatial_attention_timestep_skip_range=(100, 800),
            current_timestep_callback=lambda: pipe.current_timestep,
        )
    kind = type(pipe).__name__
    if not kind.startswith(FASTER_CACHE_PIPELINES):
        raise ValueError(f"preset {preset.name}: cache = 'faster' works with CogVideoX and "
                         f"HunyuanVideo pipelines (it needs a batched or distilled guidance "
                         f"and unpacked latents), not {kind}; use first-block or pyramid")
    # FasterCache: the settings of diffusers' guide; CogVideoX lays frames out first.
    layout = "BFCHW" if kind.startswith("CogVideoX") else "BCFHW"
    return FasterCacheConfig(
        spatial_attention_block_skip_range=2,
        spatial_attention_timestep_skip_range=(-1, 681),
        current_timestep_callback=lambda: pipe.current_timestep,
        attention_weight_callback=lambda _: 0.3,
        low_frequency_weight_update_timestep_range=(99, 901),
        high_frequency_weight_update_timestep_range=(-1, 301),
        tensor_format=layout,
        # HunyuanVideo embeds guidance: there is no unconditional batch to skip.
        is_guidance_distilled="HunyuanVideo" in type(pipe).__name__,
    )


def _compile(model: Any, how: str) -> str:
    """Compile in place; regional compilation (the repeated blocks only) compiles in a
    fraction of the time, where the model declares its blocks."""
    if how == "regional":
        if getattr(model, "_repeated_blocks", None):
            model.compile_repeated_blocks(fullgraph=True)
            return "regional compile"
        log.warning("%s declares no repeated blocks: compiling the whole model instead",
                    type(model).__name__)
    model.compile()
    return "full compile"
