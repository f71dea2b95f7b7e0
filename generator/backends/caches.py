"""The cache hooks a preset may put on its denoiser (diffusers' `enable_cache`), with the
settings their authors publish for the model's family, checked against the pipeline at load.

- first-block (FirstBlockCache): skip the other blocks while the first block's output
  barely moves (threshold 0.1 from diffusers' guide).
- pyramid (PyramidAttentionBroadcast), faster (FasterCache): diffusers' guide settings.
- mag (MagCache, Ma et al. 2025): skip whole steps while the accumulated error estimated from
  pre-calibrated magnitude ratios stays under a threshold. The ratios belong to a checkpoint;
  its authors publish them for Wan 2.1 T2V 1.3B and 14B, Wan 2.2 TI2V 5B and HunyuanVideo
  (`mag_ratios`), with thresholds of 0.12 (1.3B, 2.8x), 0.24 (14B, HunyuanVideo) and 0.06
  (5B). Other families need a calibration run first, and are refused.
- taylorseer (TaylorSeer, Liu et al. 2025): compute every 5th step in full and forecast the
  blocks' attention and feed-forward outputs in between from a first-order Taylor expansion
  (the authors' N=5, O=1 for HunyuanVideo and Wan 2.1). No calibration, but it keeps two
  copies of those outputs per guidance pass: `videobot doctor` counts that memory.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import torch

from generator.backends import mag_ratios
from videobot.config import PresetConfig
from videobot.families import Family

log = logging.getLogger(__name__)

#: Pipelines whose denoiser output FasterCache understands.
FASTER_CACHE_PIPELINES = ("CogVideoX", "HunyuanVideo")
#: FirstBlockCache thresholds from here on visibly blur motion (diffusers' guide and ours).
BLURRY_CACHE_THRESHOLD = 0.2
#: FirstBlockCache's threshold unless the preset sets one (diffusers' guide: ~2.5x on Wan).
FIRST_BLOCK_THRESHOLD = 0.1
#: Wan 2.1 14B has 40 transformer blocks, 1.3B 30.
WAN_14B_LAYERS = 40


@dataclass(frozen=True)
class MagSettings:
    """MagCache's published settings for one checkpoint."""

    model: str
    ratios: tuple[float, ...]
    threshold: float
    max_skip_steps: int
    retention_ratio: float = 0.2


def mag_settings(family: str, transformer_layers: int | None) -> MagSettings | None:
    """The authors' settings for a family's checkpoint (Wan 2.1 by its depth), or None."""
    if family == "wan" and (transformer_layers or 0) >= WAN_14B_LAYERS:
        return MagSettings("Wan 2.1 T2V 14B", mag_ratios.WAN_21_14B, 0.24, 6)
    if family == "wan":
        return MagSettings("Wan 2.1 T2V 1.3B", mag_ratios.WAN_21_1_3B, 0.12, 4)
    if family == "wan-5b":
        return MagSettings("Wan 2.2 TI2V 5B", mag_ratios.WAN_22_5B, 0.06, 2)
    if family == "hunyuan":
        return MagSettings("HunyuanVideo (544p)", mag_ratios.HUNYUAN_544P, 0.24, 6)
    return None


#: Families MagCache has published ratios for.
MAG_FAMILIES = ("wan", "wan-5b", "hunyuan")

#: TaylorSeer's settings from its authors: a full step every 5, first order, the first step
#: in full.
TAYLORSEER_INTERVAL = 5
TAYLORSEER_ORDER = 1
TAYLORSEER_FULL_STEPS_FIRST = 1
#: The modules TaylorSeer forecasts in each family: every block's attention and feed-forward
#: parts, as in its authors' implementations.
TAYLORSEER_MODULES: dict[str, str] = {
    "wan": r"blocks\.\d+\.(attn1|attn2|ffn)",
    "wan-5b": r"blocks\.\d+\.(attn1|attn2|ffn)",
    "ltx": r"transformer_blocks\.\d+\.(attn1|attn2|ff)",
    "cogvideox": r"transformer_blocks\.\d+\.(attn1|ff)",
    "hunyuan": r"(transformer_blocks|single_transformer_blocks)\.\d+\.(attn|ff|ff_context"
               r"|proj_mlp)",
}


class DenoiserCache:
    """A cache on a pipeline's denoiser, made ready for each render."""

    def __init__(self, model: Any, config: Any, words: str,
                 mag: MagSettings | None = None) -> None:
        self._model = model
        self._config = config
        self._mag = mag
        #: What it is, worded for the log.
        self.words = words

    def before_render(self, steps: int) -> None:
        """Clear what a stopped render left behind (a finished one clears itself), and fit
        MagCache's ratios to this render's number of steps."""
        self._model._reset_stateful_cache()
        if self._mag is not None and self._config.num_inference_steps != steps:
            from diffusers.hooks.mag_cache import nearest_interp

            # The hooks hold this config: changed in place, they are not put on again (and
            # a compiled denoiser is not recompiled).
            self._config.num_inference_steps = steps
            self._config.mag_ratios = nearest_interp(torch.tensor(self._mag.ratios), steps)


def enable_cache(pipe: Any, model: Any, preset: PresetConfig, family: Family) -> DenoiserCache:
    """Put `preset.cache` on `model`, `pipe`'s denoiser; `ValueError` naming the preset when
    the pipeline cannot take it."""
    if not hasattr(model, "enable_cache"):
        raise ValueError(f"preset {preset.name}: cache = {preset.cache!r} needs a denoiser "
                         f"with diffusers' cache hooks; {type(model).__name__} has none")
    if preset.cache == "mag":
        return _mag_cache(model, preset, family)
    if preset.cache == "taylorseer":
        return _taylorseer(model, preset, family)
    config = _cache_config(pipe, preset)
    model.enable_cache(config)
    return DenoiserCache(model, config, f"cache {preset.cache}")


def _mag_cache(model: Any, preset: PresetConfig, family: Family) -> DenoiserCache:
    from diffusers import MagCacheConfig

    settings = mag_settings(family.name, getattr(model.config, "num_layers", None))
    if settings is None:
        raise ValueError(
            f"preset {preset.name}: cache = 'mag' needs magnitude ratios calibrated for the "
            f"model; MagCache's authors publish them for Wan 2.1, Wan 2.2 5B and HunyuanVideo, "
            f"not for the {family.name} family; use taylorseer or first-block")
    threshold = preset.cache_threshold or settings.threshold
    config = MagCacheConfig(threshold=threshold, max_skip_steps=settings.max_skip_steps,
                            retention_ratio=settings.retention_ratio,
                            num_inference_steps=len(settings.ratios),
                            mag_ratios=list(settings.ratios))
    model.enable_cache(config)
    return DenoiserCache(model, config, f"cache mag ({settings.model}'s ratios, threshold "
                                        f"{threshold:g})", settings)


def _taylorseer(model: Any, preset: PresetConfig, family: Family) -> DenoiserCache:
    from diffusers import TaylorSeerCacheConfig

    pattern = TAYLORSEER_MODULES.get(family.kin)
    if pattern is None:
        raise ValueError(f"preset {preset.name}: cache = 'taylorseer' works with the "
                         f"transformers of {', '.join(sorted(TAYLORSEER_MODULES))}, not the "
                         f"{family.name} family")
    if not any(re.fullmatch(pattern, name) for name, _ in model.named_modules()):
        raise ValueError(f"preset {preset.name}: cache = 'taylorseer' found no attention or "
                         f"feed-forward blocks in {type(model).__name__}; check the family")
    config = TaylorSeerCacheConfig(
        cache_interval=TAYLORSEER_INTERVAL, max_order=TAYLORSEER_ORDER,
        disable_cache_before_step=TAYLORSEER_FULL_STEPS_FIRST, cache_identifiers=[pattern],
        taylor_factors_dtype=model.dtype,
    )
    model.enable_cache(config)
    return DenoiserCache(model, config, f"cache taylorseer (a full step every "
                                        f"{TAYLORSEER_INTERVAL}, order {TAYLORSEER_ORDER})")


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
