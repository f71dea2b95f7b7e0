"""Will a preset fit a device? A rough estimate from the model's weights and the preset's
options, and the first option that would make it fit.

Rough on purpose, and said to be: resident weights are counted exactly (from the model's
safetensors headers, or from the model card for a known hub id not yet downloaded); the
working memory of a render (activations, the VAE decode) is a rule of thumb that errs on the
side of "does not fit".
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from videobot.config import PresetConfig

GIB = 1024**3
#: Bytes per parameter of each weight dtype (the preset's `dtype`; fp8 storage is one byte).
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
#: Components whose weights sit in a folder's subfolders; the denoiser is the big one.
DENOISERS = ("transformer", "unet")
#: Share of free memory a plan may use: the CUDA context and fragmentation take the rest.
USABLE_SHARE = 0.92
#: Fixed working memory of any render (CUDA context, latents, text embeddings).
BASE_WORKING_BYTES = int(1.5 * GIB)
#: Bytes per output pixel of the VAE decode, untiled and tiled (tiles cap the peak).
DECODE_BYTES_PER_PIXEL = 96
TILED_DECODE_BYTES_PER_PIXEL = 8

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
    """Peak bytes on the device: the weights that stay there plus working memory."""
    by_component = weights.bytes(preset)
    denoiser = sum(size for name, size in by_component.items() if name in DENOISERS)
    if not accelerator or preset.offload == "none":
        resident = sum(by_component.values())
    elif preset.offload == "model":
        resident = max(by_component.values(), default=0.0)
    elif preset.offload == "group":
        resident = 0.1 * denoiser
    else:
        resident = 0.02 * denoiser
    pixels = preset.frames * preset.width * preset.height
    per_pixel = TILED_DECODE_BYTES_PER_PIXEL if preset.vae_tiling else DECODE_BYTES_PER_PIXEL
    # Activations scale with the denoiser's size in its compute dtype, whatever it is stored in.
    compute = sum(count for name, count in weights.parameters.items() if name in DENOISERS)
    working = (BASE_WORKING_BYTES + 0.1 * compute * DTYPE_BYTES[preset.dtype]
               + pixels * per_pixel)
    return resident + working


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
