"""The tiny video components that a family's text-to-video and image-to-video pipelines
share (tiny_models, tiny_i2v_models): the same VAE, scheduler and transformer shapes, so that
an image-to-video pipeline differs from its text-to-video sibling only where the real models
do (the picture's channels, an image encoder)."""

from __future__ import annotations

from typing import Any

from diffusers import (
    AutoencoderKLCogVideoX,
    AutoencoderKLHunyuanVideo,
    AutoencoderKLWan,
    CogVideoXDDIMScheduler,
    HunyuanVideoTransformer3DModel,
    WanTransformer3DModel,
)

from generator.backends.tiny_parts import CLIP_DIM, LLAMA_DIM, T5_DIM, VIDEO_LATENT_CHANNELS


def wan21_vae() -> AutoencoderKLWan:
    """Wan 2.1's VAE layout (16 latent channels, 8x spatial and 4x temporal compression)."""
    return AutoencoderKLWan(
        base_dim=3,
        z_dim=VIDEO_LATENT_CHANNELS,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )


def wan_transformer(in_channels: int, out_channels: int, **extra: Any) -> WanTransformer3DModel:
    """A two-layer Wan transformer; `extra`: what a variant adds (an image width)."""
    return WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=in_channels,
        out_channels=out_channels,
        text_dim=T5_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
        **extra,
    )


def cogvideox_vae() -> AutoencoderKLCogVideoX:
    """CogVideoX's VAE layout: 8x spatial and 4x temporal compression."""
    return AutoencoderKLCogVideoX(
        block_out_channels=(8, 8, 8, 8),
        latent_channels=VIDEO_LATENT_CHANNELS,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )


def cogvideox_scheduler() -> CogVideoXDDIMScheduler:
    """CogVideoX's scheduler (v-prediction, zero terminal SNR, trailing timesteps)."""
    return CogVideoXDDIMScheduler(
        clip_sample=False,
        prediction_type="v_prediction",
        rescale_betas_zero_snr=True,
        timestep_spacing="trailing",
    )


def hunyuan_transformer(**extra: Any) -> HunyuanVideoTransformer3DModel:
    """A one-layer HunyuanVideo transformer reading Llama and CLIP text embeddings; `extra`:
    what a variant adds (how the picture conditions it)."""
    return HunyuanVideoTransformer3DModel(
        in_channels=VIDEO_LATENT_CHANNELS,
        out_channels=VIDEO_LATENT_CHANNELS,
        num_attention_heads=2,
        attention_head_dim=10,
        num_layers=1,
        num_single_layers=1,
        num_refiner_layers=1,
        patch_size=2,
        patch_size_t=1,
        guidance_embeds=True,
        text_embed_dim=LLAMA_DIM,
        pooled_projection_dim=CLIP_DIM,
        rope_axes_dim=(2, 4, 4),
        **extra,
    )


def hunyuan_vae() -> AutoencoderKLHunyuanVideo:
    """HunyuanVideo's VAE layout: 8x spatial and 4x temporal compression."""
    return AutoencoderKLHunyuanVideo(
        latent_channels=VIDEO_LATENT_CHANNELS,
        block_out_channels=(8, 8, 8, 8),
        layers_per_block=1,
        norm_num_groups=4,
        spatial_compression_ratio=8,
        temporal_compression_ratio=4,
    )
