"""Will a preset fit a device? An estimate from the model's weights, the family's working
memory and the preset's options, and the first option that would make it fit.

Resident weights are counted exactly (from the model's safetensors headers, or from the
model card for a known hub id not yet downloaded). The working memory of a render comes
from `memory_model`: the denoiser's activations by token count, the VAE decode by frames
times pixels (with and without tiling), a cache's copies; calibrated on GPU measurements for
the families measured so far (said so in `videobot doctor`), erring high for the others.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator.memory_model import (
    cache_bytes,
    decode_bytes,
    denoise_bytes,
    memory_of,
)
from videobot.config import PresetConfig
from videobot.families import family_for_preset

GIB = 1024**3
#: Bytes per parameter of each weight dtype (the preset's `dtype`; fp8 storage is one byte).
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
#: Components whose weights sit in a folder's subfolders; the denoiser is the big one.
DENOISERS = ("transformer", "unet")
#: Share of free memory a plan may use: the allocator's fragmentation takes the rest.
USABLE_SHARE = 0.92
#: What a GPU process holds beyond its tensors (CUDA context, cuBLAS workspace).
CUDA_CONTEXT_BYTES = int(0.75 * GIB)

#: Parameters by component of the hub models the example presets name, from their model
#: cards, for an estimate before anything is downloaded.
KNOWN_PARAMETERS: Mapping[str, Mapping[str, float]] = {
    "Wan-AI/Wan2.1-T2V-1.3B-Diffusers":
        {"transformer": 1.42e9, "text_encoder": 5.68e9, "vae": 0.13e9},
    "Wan-AI/Wan2.2-TI2V-5B-Diffusers":
        {"transformer": 5.0e9, "text_encoder": 5.68e9, "vae": 0.71e9},
    "Lightricks/LTX-Video":
        {"transformer": 1.92e9, "text_encoder": 4.76e9, "vae": 0.42e9},
    "THUDM/CogVideoX-2b": {"transformer": 1.69e9, "text_encoder": 4.76e9, "vae": 0.22e9},
    "THUDM/CogVideoX-5b": {"transformer": 5.57e9, "text_encoder": 4.76e9, "vae": 0.22e9},
    "hunyuanvideo-community/HunyuanVideo": {
        "transformer": 12.82e9, "text_encoder": 7.5e9, "text_encoder_2": 0.12e9,
        "vae": 0.25e9,
    },
    # Image to video: Wan 2.1 I2V's transformer adds image cross-attention to the 14B; its
    # image encoder is CLIP ViT-H/14; HunyuanVideo-I2V's text encoder is LLaVA-Llama-3-8B
    # (language model, vision tower and head).
    "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers": {
        "transformer": 16.4e9, "text_encoder": 5.68e9, "image_encoder": 0.63e9, "vae": 0.13e9,
    },
    "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers": {
        "transformer": 16.4e9, "text_encoder": 5.68e9, "image_encoder": 0.63e9, "vae": 0.13e9,
    },
    "THUDM/CogVideoX-5b-I2V": {"transformer": 5.57e9, "text_encoder": 4.76e9, "vae": 0.22e9},
    "hunyuanvideo-community/HunyuanVideo-I2V": {
        "transformer": 12.82e9, "text_encoder": 8.35e9, "text_encoder_2": 0.12e9,
        "vae": 0.25e9,
    },
    "ali-vilab/text-to-video-ms-1.7b":
        {"unet": 1.41e9, "text_encoder": 0.35e9, "vae": 0.08e9},
    "cerspense/zeroscope_v2_576w": {"unet": 1.41e9, "text_encoder": 0.35e9, "vae": 0.08e9},
}


@dataclass(frozen=True)
class Weights:
    """Parameter counts by pipeline component."""

    parameters: Mapping[str, float]

    def bytes(self, preset: PresetConfig) -> dict[str, float]:
        """Resident bytes of each component in the preset's dtype (fp8 denoiser if set)."""
        size = DTYPE_BYTES[preset.dtype]
        return {
            name: count * (1 if preset.fp8_weights and name in DENOISERS else size)
            for name, count in self.parameters.items()
        }


@dataclass(frozen=True)
class Estimate:
    """What a preset needs on one device, and what to change if it does not fit."""

    need_bytes: float
    free_bytes: float
    fits: bool
    advice: str


def estimate(preset: PresetConfig, weights: Weights, free_bytes: float, *,
             accelerator: bool) -> Estimate:
    """The memory `preset` needs with its options, against `free_bytes` of a device; if it
    does not fit, the first lighter setting that would."""
    need = need_bytes(preset, weights, accelerator=accelerator)
    usable = free_bytes * USABLE_SHARE
    if need <= usable:
        return Estimate(need, free_bytes, True, "")
    if accelerator:
        for change, words in _LIGHTER:
            lighter = replace(preset, **change)
            if lighter != preset and need_bytes(lighter, weights, accelerator=True) <= usable:
                return Estimate(need, free_bytes, False, f"set {words}")
    return Estimate(need, free_bytes, False,
                    "too large for this device even with every memory option")


#: Lighter settings, in the order of their cost in speed.
_LIGHTER: tuple[tuple[dict[str, Any], str], ...] = (
    ({"vae_tiling": True}, "vae_tiling = true"),
    ({"vae_tiling": True, "offload": "model"}, 'offload = "model" and vae_tiling = true'),
    ({"vae_tiling": True, "offload": "model", "fp8_weights": True},
     'offload = "model", fp8_weights = true and vae_tiling = true'),
    ({"vae_tiling": True, "offload": "group"}, 'offload = "group" and vae_tiling = true'),
    ({"vae_tiling": True, "offload": "group", "fp8_weights": True},
     'offload = "group", fp8_weights = true and vae_tiling = true'),
    ({"vae_tiling": True, "offload": "sequential"},
     'offload = "sequential" and vae_tiling = true (slow)'),
)


def need_bytes(preset: PresetConfig, weights: Weights, *, accelerator: bool) -> float:
    """Bytes the device must have free: the render's peak, and on a GPU its context."""
    peak = peak_bytes(preset, weights, accelerator=accelerator)
    return peak + (CUDA_CONTEXT_BYTES if accelerator else 0)


def peak_bytes(preset: PresetConfig, weights: Weights, *, accelerator: bool) -> float:
    """The most a render allocates at once (what `torch.cuda.max_memory_allocated` reports):
    the weights on the device plus the larger of the denoising and the decoding working
    sets, or with offload the component running with its own working set."""
    by_component = weights.bytes(preset)
    denoiser = sum(size for name, size in by_component.items() if name in DENOISERS)
    vae = by_component.get("vae", 0.0)
    denoising, decoding = working_bytes(preset, weights)
    if not accelerator or preset.offload == "none":
        return sum(by_component.values()) + max(denoising, decoding)
    if preset.offload == "model":
        others = [size for name, size in by_component.items()
                  if name not in DENOISERS and name != "vae"]
        return max(max(others, default=0.0), denoiser + denoising, vae + decoding)
    # Group and sequential offload keep a block's worth of the running component only.
    share = 0.1 if preset.offload == "group" else 0.02
    return max(share * denoiser + denoising, share * vae + decoding)


def working_bytes(preset: PresetConfig, weights: Weights) -> tuple[float, float]:
    """(denoising, decoding) working memory of `preset`'s default clip."""
    family = memory_of(family_for_preset(preset).name)
    # Activations follow the compute dtype, whatever the weights are stored in.
    parameters = sum(count for name, count in weights.parameters.items() if name in DENOISERS)
    compute = DTYPE_BYTES[preset.dtype]
    clip = (preset.frames, preset.width, preset.height)
    denoising = (denoise_bytes(family, *clip, parameters, compute)
                 + cache_bytes(preset.cache, family, *clip, parameters, compute))
    return denoising, decode_bytes(family, *clip, tiled=preset.vae_tiling)


def measured(preset: PresetConfig) -> bool:
    """Whether a GPU measured the preset's family (else its estimate is a rule of thumb)."""
    return memory_of(family_for_preset(preset).name).measured


def folder_weights(folder: Path) -> Weights:
    """Parameter counts of a diffusers model folder, from its safetensors headers (no tensor
    is read); `.bin` files count by size, as float32."""
    parameters: dict[str, float] = {}
    for component in sorted(p for p in folder.iterdir() if p.is_dir()):
        count = model_parameters(component)
        if count:
            parameters[component.name] = count
    return Weights(parameters)


def model_parameters(folder: Path) -> float:
    """Parameters of one model's folder (a pipeline component, a motion adapter)."""
    count = sum(_safetensors_parameters(f) for f in folder.glob("*.safetensors"))
    return count + sum(f.stat().st_size / 4 for f in folder.glob("*.bin"))


def _safetensors_parameters(path: Path) -> float:
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    total = 0
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for dim in tensor["shape"]:
            count *= dim
        total += count
    return float(total)
