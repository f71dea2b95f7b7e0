"""Full-size pipelines with random weights: each family's real transformer and VAE
configurations (diffusers' defaults for these classes are the released models'; Wan's and
Wan 2.2's are set here), and a text encoder of the real width cut to a few layers (a small
share of a clip's time, and most of the download). With no download, any GPU can measure a
family's speed and memory (`bench/gpu.py --random-weights FAMILY`).

Random weights render noise: speed and memory are the real model's, but what a cache skips
depends on the weights, so cache speed-ups measured on these say nothing about real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    AutoencoderKLCogVideoX,
    AutoencoderKLHunyuanVideo,
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    CogVideoXDDIMScheduler,
    CogVideoXPipeline,
    CogVideoXTransformer3DModel,
    FlowMatchEulerDiscreteScheduler,
    HunyuanVideoPipeline,
    HunyuanVideoTransformer3DModel,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    WanPipeline,
    WanTransformer3DModel,
)
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    LlamaConfig,
    LlamaModel,
    T5Config,
    T5EncoderModel,
    UMT5Config,
    UMT5EncoderModel,
)

from generator.backends.stand_in_tokenizers import clip_tokenizer, llama_tokenizer, t5_tokenizer

#: Layers kept of each text encoder (HunyuanVideo reads the hidden states of the third from
#: the end, so its Llama keeps three).
TEXT_LAYERS = 2
#: The released models these builders reproduce, by family.
FULL_SIZE_MODELS = {
    "wan": "Wan 2.1 T2V 1.3B",
    "wan-5b": "Wan 2.2 TI2V 5B",
    "ltx": "LTX-Video 2B (0.9.x)",
    "cogvideox": "CogVideoX-2b",
    "hunyuan": "HunyuanVideo 13B",
}
_WAN_BLOCKS: dict[str, Any] = {"cross_attn_norm": True, "qk_norm": "rms_norm_across_heads"}
_T5_XXL: dict[str, Any] = {"d_model": 4096, "d_ff": 10240, "num_heads": 64, "d_kv": 64,
                           "feed_forward_proj": "gated-gelu"}


def _umt5() -> Any:
    return UMT5EncoderModel(UMT5Config(vocab_size=256384, num_layers=TEXT_LAYERS, **_T5_XXL))


def _t5() -> Any:
    return T5EncoderModel(T5Config(vocab_size=32128, num_layers=TEXT_LAYERS, **_T5_XXL))


def _wan() -> dict[str, Any]:
    return {"transformer": WanTransformer3DModel(num_attention_heads=12, ffn_dim=8960,
                                                 num_layers=30, **_WAN_BLOCKS),
            "vae": AutoencoderKLWan(), "text_encoder": _umt5(),
            "tokenizer": t5_tokenizer(), "scheduler": FlowMatchEulerDiscreteScheduler(shift=3.0)}


def _wan_5b() -> dict[str, Any]:
    vae = AutoencoderKLWan(base_dim=160, decoder_base_dim=256, z_dim=48, is_residual=True,
                           in_channels=12, out_channels=12, patch_size=2,
                           scale_factor_spatial=16, latents_mean=[0.0] * 48,
                           latents_std=[1.0] * 48)
    transformer = WanTransformer3DModel(num_attention_heads=24, ffn_dim=14336, num_layers=30,
                                        in_channels=48, out_channels=48, **_WAN_BLOCKS)
    return {"transformer": transformer, "vae": vae, "text_encoder": _umt5(),
            "tokenizer": t5_tokenizer(), "scheduler": FlowMatchEulerDiscreteScheduler(shift=5.0),
            "expand_timesteps": True}


def _ltx() -> dict[str, Any]:
    return {"transformer": LTXVideoTransformer3DModel(), "vae": AutoencoderKLLTXVideo(),
            "text_encoder": _t5(), "tokenizer": t5_tokenizer(),
            "scheduler": FlowMatchEulerDiscreteScheduler()}


def _cogvideox() -> dict[str, Any]:
    scheduler = CogVideoXDDIMScheduler(clip_sample=False, prediction_type="v_prediction",
                                       rescale_betas_zero_snr=True, timestep_spacing="trailing")
    return {"transformer": CogVideoXTransformer3DModel(), "vae": AutoencoderKLCogVideoX(),
            "text_encoder": _t5(), "tokenizer": t5_tokenizer(), "scheduler": scheduler}


def _hunyuan() -> dict[str, Any]:
    tokenizer, tokenizer_2 = llama_tokenizer(), clip_tokenizer()
    llama = LlamaModel(LlamaConfig(
        vocab_size=128320, hidden_size=4096, intermediate_size=14336, num_attention_heads=32,
        num_key_value_heads=8, num_hidden_layers=TEXT_LAYERS + 1,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id))
    clip = CLIPTextModel(CLIPTextConfig(
        vocab_size=49408, hidden_size=768, intermediate_size=3072, num_attention_heads=12,
        num_hidden_layers=TEXT_LAYERS, projection_dim=768, max_position_embeddings=77,
        bos_token_id=tokenizer_2.bos_token_id, eos_token_id=tokenizer_2.eos_token_id,
        pad_token_id=tokenizer_2.pad_token_id))
    return {"transformer": HunyuanVideoTransformer3DModel(), "vae": AutoencoderKLHunyuanVideo(),
            "text_encoder": llama, "tokenizer": tokenizer, "text_encoder_2": clip,
            "tokenizer_2": tokenizer_2, "scheduler": FlowMatchEulerDiscreteScheduler(shift=7.0)}


_PARTS: dict[str, tuple[Callable[[], dict[str, Any]], Any]] = {
    "wan": (_wan, WanPipeline),
    "wan-5b": (_wan_5b, WanPipeline),
    "ltx": (_ltx, LTXPipeline),
    "cogvideox": (_cogvideox, CogVideoXPipeline),
    "hunyuan": (_hunyuan, HunyuanVideoPipeline),
}


def full_size_parts(family: str, device: str | torch.device = "cpu") -> dict[str, Any]:
    """The pipeline's components (and settings), made on `device` (`"meta"`: no memory, to
    count parameters)."""
    if family not in _PARTS:
        raise ValueError(f"no full-size build for the family {family!r} "
                         f"(there are: {', '.join(sorted(_PARTS))})")
    torch.manual_seed(0)
    with torch.device(device):
        return _PARTS[family][0]()


def build_full_size(family: str, path: Path, *, dtype: torch.dtype = torch.bfloat16,
                    device: str = "cpu") -> Path:
    """Save the family's full-size random pipeline to `path` in `dtype` (made on `device`:
    a GPU makes it in seconds); kept and reused when already there."""
    if (path / "model_index.json").is_file():
        return path
    parts = full_size_parts(family, device)
    for part in parts.values():
        if isinstance(part, torch.nn.Module):
            part.to(dtype)
    pipe: Any = _PARTS[family][1](**parts)
    pipe.save_pretrained(path)
    return path
