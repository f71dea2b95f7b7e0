"""The small parts the tiny random pipelines share (tiny_models, tiny_i2v_models): text
encoder configurations and saving a pipeline as a model folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diffusers import AutoencoderKL
from transformers import (
    CLIPTextConfig,
    CLIPTokenizer,
    LlamaConfig,
    PreTrainedTokenizerFast,
    T5Config,
)

SEED = 0
T5_DIM = 32
CLIP_DIM = 4
LLAMA_DIM = 16
# The latent channels of the real VAEs (16 for CogVideoX and HunyuanVideo, 128 for LTX-Video,
# 48 for Wan 2.2 5B), so that code reading latents (previews) meets the real layouts.
VIDEO_LATENT_CHANNELS = 16


def save_pipeline(pipe: Any, path: Path) -> Path:
    # `Any`: mypy resolves diffusers' pipeline classes to its import-time dummies.
    pipe.save_pretrained(path)
    return path


def sd_vae() -> AutoencoderKL:
    """A Stable Diffusion style image VAE. Four blocks: 8x spatial compression like the real
    one, which keeps the UNet's spatial attention small (8x8 latents for a 64x64 clip)."""
    return AutoencoderKL(
        block_out_channels=(4, 4, 4, 4),
        layers_per_block=1,
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        sample_size=32,
        norm_num_groups=2,
    )


def clip_text_config(vocab_size: int, tokenizer: CLIPTokenizer) -> CLIPTextConfig:
    return CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        hidden_size=CLIP_DIM,
        intermediate_size=16,
        layer_norm_eps=1e-05,
        num_attention_heads=2,
        num_hidden_layers=2,
        vocab_size=vocab_size,
        hidden_act="gelu",
        projection_dim=32,
        max_position_embeddings=77,
    )


def t5_config(vocab_size: int) -> T5Config:
    return T5Config(
        vocab_size=vocab_size,
        d_model=T5_DIM,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
    )


def llama_config(tokenizer: PreTrainedTokenizerFast) -> LlamaConfig:
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=LLAMA_DIM,
        intermediate_size=37,
        num_attention_heads=4,
        # The pipeline takes the hidden states two layers before the last: those of layer 1.
        num_hidden_layers=3,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
