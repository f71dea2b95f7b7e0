"""Tiny random text-to-video pipelines, built offline and saved like any local model folder
(and the registry of every builtin, the image-to-video ones of tiny_i2v_models included).

They render noise, fast, on a CPU: the default preset until a real model is configured, and
the pipelines the backend tests run. Each builder seeds torch first, so a build is
reproducible; the tokenizers are made from generated vocabularies, never downloaded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    AnimateDiffPipeline,
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    CogVideoXPipeline,
    CogVideoXTransformer3DModel,
    DDIMScheduler,
    FlowMatchEulerDiscreteScheduler,
    HunyuanVideoPipeline,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    MotionAdapter,
    TextToVideoSDPipeline,
    UNet2DConditionModel,
    UNet3DConditionModel,
    WanPipeline,
)
from transformers import CLIPTextModel, LlamaModel, T5EncoderModel

from generator.backends.stand_in_tokenizers import clip_tokenizer, llama_tokenizer, t5_tokenizer
from generator.backends.tiny_i2v_models import BUILTIN_I2V_MODELS
from generator.backends.tiny_parts import (
    CLIP_DIM,
    SEED,
    T5_DIM,
    VIDEO_LATENT_CHANNELS,
    clip_text_config,
    llama_config,
    save_pipeline,
    sd_vae,
    t5_config,
)
from generator.backends.tiny_video_parts import (
    cogvideox_scheduler,
    cogvideox_vae,
    hunyuan_transformer,
    hunyuan_vae,
    wan21_vae,
    wan_transformer,
)

_LTX_LATENT_CHANNELS = 128
_WAN22_LATENT_CHANNELS = 48


def build_tiny_text_to_video_sd(path: Path) -> Path:
    """Save a tiny random `TextToVideoSDPipeline` (3D UNet, DDIM, CLIP) to `path`."""
    torch.manual_seed(SEED)
    unet = UNet3DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=CLIP_DIM,
        attention_head_dim=4,
        norm_num_groups=2,
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
    )
    vae = sd_vae()
    tokenizer = clip_tokenizer()
    text_encoder = CLIPTextModel(clip_text_config(len(tokenizer), tokenizer))
    pipe = TextToVideoSDPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler
    )
    return save_pipeline(pipe, path)


def build_tiny_wan(path: Path) -> Path:
    """Save a tiny random `WanPipeline` (Wan 2.1 transformer and VAE, flow matching, T5)."""
    torch.manual_seed(SEED)
    vae = wan21_vae()
    transformer = wan_transformer(VIDEO_LATENT_CHANNELS, VIDEO_LATENT_CHANNELS)
    tokenizer = t5_tokenizer()
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=T5EncoderModel(t5_config(len(tokenizer))),
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        transformer=transformer,
    )
    return save_pipeline(pipe, path)


def build_tiny_wan22(path: Path) -> Path:
    """Save a tiny random Wan 2.2 TI2V 5B-style `WanPipeline`: its 48-channel VAE that
    compresses 16x (patches of 2 on top of 8x), timesteps per latent frame."""
    torch.manual_seed(SEED)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=_WAN22_LATENT_CHANNELS,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
        is_residual=True,
        in_channels=12,
        out_channels=12,
        patch_size=2,
        scale_factor_spatial=16,
        latents_mean=[0.0] * _WAN22_LATENT_CHANNELS,
        latents_std=[1.0] * _WAN22_LATENT_CHANNELS,
    )
    transformer = wan_transformer(_WAN22_LATENT_CHANNELS, _WAN22_LATENT_CHANNELS)
    tokenizer = t5_tokenizer()
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=T5EncoderModel(t5_config(len(tokenizer))),
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        transformer=transformer,
        expand_timesteps=True,
    )
    return save_pipeline(pipe, path)


def build_tiny_ltx(path: Path) -> Path:
    """Save a tiny random `LTXPipeline` (LTX-Video transformer and VAE, flow matching, T5)."""
    torch.manual_seed(SEED)
    transformer = LTXVideoTransformer3DModel(
        in_channels=_LTX_LATENT_CHANNELS,
        out_channels=_LTX_LATENT_CHANNELS,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=T5_DIM,
    )
    # 32x spatial and 8x temporal compression, as in LTX-Video, so that the family's rules
    # (sizes of 32, 8k+1 frames) hold.
    vae = AutoencoderKLLTXVideo(
        latent_channels=_LTX_LATENT_CHANNELS,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        patch_size=4,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    tokenizer = t5_tokenizer()
    pipe = LTXPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=T5EncoderModel(t5_config(len(tokenizer))),
        tokenizer=tokenizer,
        transformer=transformer,
    )
    return save_pipeline(pipe, path)


def build_tiny_cogvideox(path: Path) -> Path:
    """Save a tiny random `CogVideoXPipeline` (CogVideoX 1.0 transformer and VAE, DDIM, T5)."""
    torch.manual_seed(SEED)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2,
        attention_head_dim=8,
        in_channels=VIDEO_LATENT_CHANNELS,
        out_channels=VIDEO_LATENT_CHANNELS,
        time_embed_dim=2,
        text_embed_dim=T5_DIM,
        num_layers=1,
        # The latent size its position embeddings are made for; other sizes get theirs made
        # on the fly. The text length stays at 226, the pipeline's `max_sequence_length`.
        sample_width=4,
        sample_height=4,
        sample_frames=9,
        patch_size=2,
    )
    vae = cogvideox_vae()
    scheduler = cogvideox_scheduler()
    tokenizer = t5_tokenizer()
    pipe = CogVideoXPipeline(
        tokenizer=tokenizer,
        text_encoder=T5EncoderModel(t5_config(len(tokenizer))),
        vae=vae,
        transformer=transformer,
        scheduler=scheduler,
    )
    return save_pipeline(pipe, path)


def build_tiny_hunyuan(path: Path) -> Path:
    """Save a tiny random `HunyuanVideoPipeline` (HunyuanVideo transformer and VAE, flow
    matching, a Llama text encoder and a CLIP one for the pooled embedding)."""
    torch.manual_seed(SEED)
    transformer = hunyuan_transformer()
    vae = hunyuan_vae()
    tokenizer = llama_tokenizer()
    tokenizer_2 = clip_tokenizer()
    pipe = HunyuanVideoPipeline(
        text_encoder=LlamaModel(llama_config(tokenizer)),
        tokenizer=tokenizer,
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder_2=CLIPTextModel(clip_text_config(len(tokenizer_2), tokenizer_2)),
        tokenizer_2=tokenizer_2,
    )
    return save_pipeline(pipe, path)


def build_tiny_animatediff(path: Path) -> Path:
    """Save a tiny random `AnimateDiffPipeline` (2D UNet with a motion adapter, DDIM, CLIP)."""
    return save_pipeline(AnimateDiffPipeline(**tiny_animatediff_parts()), path)


def tiny_animatediff_parts() -> dict[str, Any]:
    """The components of the tiny AnimateDiff pipeline: a Stable Diffusion 1.5-shaped set
    (`vae`, `text_encoder`, `tokenizer`, `unet`, `scheduler`) plus a `motion_adapter`."""
    torch.manual_seed(SEED)
    block_out_channels = (4, 8)
    unet = UNet2DConditionModel(
        block_out_channels=block_out_channels,
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=CLIP_DIM,
        attention_head_dim=4,
        norm_num_groups=2,
    )
    motion_adapter = MotionAdapter(
        block_out_channels=block_out_channels,
        motion_layers_per_block=1,
        motion_num_attention_heads=2,
        motion_norm_num_groups=2,
    )
    # The scheduler settings AnimateDiff is documented with.
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="linear",
        clip_sample=False,
        timestep_spacing="linspace",
        steps_offset=1,
    )
    tokenizer = clip_tokenizer()
    return {
        "vae": sd_vae(),
        "text_encoder": CLIPTextModel(clip_text_config(len(tokenizer), tokenizer)),
        "tokenizer": tokenizer,
        "unet": unet,
        "motion_adapter": motion_adapter,
        "scheduler": scheduler,
    }


#: Name (as in `model = "builtin:NAME"`) -> builder.
BUILTIN_MODELS: dict[str, Callable[[Path], Path]] = {
    "tiny-text-to-video-sd": build_tiny_text_to_video_sd,
    "tiny-wan": build_tiny_wan,
    "tiny-wan22": build_tiny_wan22,
    "tiny-ltx": build_tiny_ltx,
    "tiny-cogvideox": build_tiny_cogvideox,
    "tiny-hunyuan": build_tiny_hunyuan,
    "tiny-animatediff": build_tiny_animatediff,
    **BUILTIN_I2V_MODELS,
}


def ensure_builtin_model(name: str, models_dir: Path) -> Path:
    """Return `models_dir/name`, building it first if it is not there yet.

    The build goes to a temporary folder beside it and is renamed into place, so that an
    interrupted build or a second process building at the same time never leaves a
    half-written model behind.
    """
    if name not in BUILTIN_MODELS:
        known = ", ".join(sorted(BUILTIN_MODELS))
        raise ValueError(f"no builtin model named {name!r} (known: {known})")
    target = models_dir / name
    if (target / "model_index.json").is_file():
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=models_dir))
    try:
        BUILTIN_MODELS[name](staging)
        _move_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _move_into_place(staging: Path, target: Path) -> None:
    try:
        os.replace(staging, target)
    except OSError:
        # Another process won the race and its folder is complete: keep that one.
        if not (target / "model_index.json").is_file():
            raise
