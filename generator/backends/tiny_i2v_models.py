"""Tiny random image-to-video pipelines, built offline like the text-to-video ones
(tiny_models), for the families whose image-to-video weights are a model of their own:
Wan 2.1 I2V 14B, CogVideoX-5b-I2V and HunyuanVideo-I2V. (Wan 2.2 TI2V 5B and LTX-Video
animate pictures with their text-to-video weights: tiny-wan22 and tiny-ltx do both.)

Their shapes follow the real models' (latent channels, the picture's channels concatenated to
the noise, Wan's CLIP image encoder, CogVideoX-I2V's learned position embeddings,
HunyuanVideo-I2V's LLaVA text encoder that reads the picture as 576 tokens), at a few
thousand parameters: they render noise, fast, on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from diffusers import (
    CogVideoXImageToVideoPipeline,
    CogVideoXTransformer3DModel,
    FlowMatchEulerDiscreteScheduler,
    HunyuanVideoImageToVideoPipeline,
    WanImageToVideoPipeline,
)
from transformers import (
    CLIPImageProcessor,
    CLIPTextModel,
    CLIPVisionConfig,
    CLIPVisionModel,
    LlavaConfig,
    LlavaForConditionalGeneration,
    T5EncoderModel,
)

from generator.backends.stand_in_tokenizers import (
    IMAGE_TOKEN,
    clip_tokenizer,
    llava_llama_tokenizer,
    t5_tokenizer,
)
from generator.backends.tiny_parts import (
    SEED,
    T5_DIM,
    VIDEO_LATENT_CHANNELS,
    clip_text_config,
    llama_config,
    save_pipeline,
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
from videobot.one_size import BUILTIN_SIZES

#: The CLIP vision encoder's width and picture size (Wan 2.1 I2V's is a ViT-H/14 at 224).
_VISION_DIM = 4
_VISION_SIZE = 32
#: The tiny CogVideoX-I2V's one size (its learned position embeddings are made for it, as the
#: real model's are for 720x480): 64x64 pixels, 8x8 latents. Declared on the shared ground,
#: where the bot snaps a request to it before queuing.
COGVIDEOX_I2V_SIZE = BUILTIN_SIZES["tiny-cogvideox-i2v"][0]


def build_tiny_wan_i2v(path: Path) -> Path:
    """Save a tiny random Wan 2.1 I2V-style `WanImageToVideoPipeline`: the Wan 2.1 VAE, a
    transformer that takes the noise, the picture's latents and a first-frame mask (16 + 16 +
    4 channels) and the picture's CLIP embedding, and a CLIP vision encoder."""
    torch.manual_seed(SEED)
    vae = wan21_vae()
    transformer = wan_transformer(2 * VIDEO_LATENT_CHANNELS + 4, VIDEO_LATENT_CHANNELS,
                                  image_dim=_VISION_DIM)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(
        hidden_size=_VISION_DIM,
        projection_dim=_VISION_DIM,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=_VISION_SIZE,
        intermediate_size=16,
        patch_size=4,
    ))
    tokenizer = t5_tokenizer()
    pipe = WanImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=T5EncoderModel(t5_config(len(tokenizer))),
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=5.0),
        transformer=transformer,
        image_encoder=image_encoder,
        image_processor=CLIPImageProcessor(crop_size=_VISION_SIZE, size=_VISION_SIZE),
    )
    return save_pipeline(pipe, path)


def build_tiny_cogvideox_i2v(path: Path) -> Path:
    """Save a tiny random CogVideoX-5b-I2V-style `CogVideoXImageToVideoPipeline`: the
    picture's latents concatenated to the noise (2 x 16 channels), rotary and learned position
    embeddings (so it renders one size, `COGVIDEOX_I2V_SIZE`, and at most 49 frames)."""
    torch.manual_seed(SEED)
    latent_side = COGVIDEOX_I2V_SIZE // 8
    transformer = CogVideoXTransformer3DModel(
        # RoPE needs a head width divisible by 16; the inner width (32) matches the T5 one.
        num_attention_heads=2,
        attention_head_dim=16,
        in_channels=2 * VIDEO_LATENT_CHANNELS,
        out_channels=VIDEO_LATENT_CHANNELS,
        time_embed_dim=2,
        text_embed_dim=T5_DIM,
        num_layers=1,
        sample_width=latent_side,
        sample_height=latent_side,
        sample_frames=49,
        patch_size=2,
        use_rotary_positional_embeddings=True,
        use_learned_positional_embeddings=True,
    )
    vae = cogvideox_vae()
    scheduler = cogvideox_scheduler()
    tokenizer = t5_tokenizer()
    pipe = CogVideoXImageToVideoPipeline(
        tokenizer=tokenizer,
        text_encoder=T5EncoderModel(t5_config(len(tokenizer))),
        vae=vae,
        transformer=transformer,
        scheduler=scheduler,
    )
    return save_pipeline(pipe, path)


def build_tiny_hunyuan_i2v(path: Path) -> Path:
    """Save a tiny random HunyuanVideo-I2V-style `HunyuanVideoImageToVideoPipeline`: a LLaVA
    text encoder (a tiny Llama with a CLIP vision tower at 336 px in patches of 14: the 576
    image tokens the pipeline's template makes room for), a transformer that puts the
    picture's latents in place of the first frame's (`token_replace`), a CLIP text encoder for
    the pooled embedding, and HunyuanVideo's VAE."""
    torch.manual_seed(SEED)
    tokenizer = llava_llama_tokenizer()
    vision = CLIPVisionConfig(hidden_size=8, intermediate_size=16, projection_dim=8,
                              num_attention_heads=2, num_hidden_layers=2, image_size=336,
                              patch_size=14)
    image_token = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    assert isinstance(image_token, int)
    # The pipeline pads the picture's tokens with the config's pad_token_id, a key
    # LlavaConfig takes without declaring it.
    padding: dict[str, Any] = {"pad_token_id": tokenizer.pad_token_id}
    text_encoder = LlavaForConditionalGeneration(LlavaConfig(
        vision_config=vision, text_config=llama_config(tokenizer),
        image_token_index=image_token, **padding))
    transformer = hunyuan_transformer(image_condition_type="token_replace")
    vae = hunyuan_vae()
    tokenizer_2 = clip_tokenizer()
    pipe = HunyuanVideoImageToVideoPipeline(
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder_2=CLIPTextModel(clip_text_config(len(tokenizer_2), tokenizer_2)),
        tokenizer_2=tokenizer_2,
        image_processor=CLIPImageProcessor(crop_size=336, size=336),
    )
    return save_pipeline(pipe, path)


#: Name (as in `model = "builtin:NAME"`) -> builder.
BUILTIN_I2V_MODELS: dict[str, Callable[[Path], Path]] = {
    "tiny-wan-i2v": build_tiny_wan_i2v,
    "tiny-cogvideox-i2v": build_tiny_cogvideox_i2v,
    "tiny-hunyuan-i2v": build_tiny_hunyuan_i2v,
}
