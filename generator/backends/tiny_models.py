"""Tiny random text-to-video pipelines, built offline and saved like any local model folder.

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
    AutoencoderKL,
    AutoencoderKLLTXVideo,
    AutoencoderKLWan,
    DDIMScheduler,
    FlowMatchEulerDiscreteScheduler,
    LTXPipeline,
    LTXVideoTransformer3DModel,
    TextToVideoSDPipeline,
    UNet3DConditionModel,
    WanPipeline,
    WanTransformer3DModel,
)
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordLevel
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    CLIPTokenizer,
    PreTrainedTokenizerFast,
    T5Config,
    T5EncoderModel,
)

_SEED = 0
_T5_DIM = 32


def build_tiny_text_to_video_sd(path: Path) -> Path:
    """Save a tiny random `TextToVideoSDPipeline` (3D UNet, DDIM, CLIP) to `path`."""
    torch.manual_seed(_SEED)
    unet = UNet3DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
        cross_attention_dim=4,
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
    vae = AutoencoderKL(
        # Four blocks: 8x spatial compression like the real model, which keeps the UNet's
        # spatial attention small (8x8 latents for a 64x64 clip).
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
    tokenizer = _clip_tokenizer()
    text_encoder = CLIPTextModel(_clip_text_config(len(tokenizer), tokenizer))
    pipe = TextToVideoSDPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler
    )
    return _save(pipe, path)


def build_tiny_wan(path: Path) -> Path:
    """Save a tiny random `WanPipeline` (Wan 2.1 transformer and VAE, flow matching, T5)."""
    torch.manual_seed(_SEED)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=_T5_DIM,
        freq_dim=256,
        ffn_dim=32,
        num_layers=2,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    tokenizer = _t5_tokenizer()
    pipe = WanPipeline(
        tokenizer=tokenizer,
        text_encoder=T5EncoderModel(_t5_config(len(tokenizer))),
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        transformer=transformer,
    )
    return _save(pipe, path)


def build_tiny_ltx(path: Path) -> Path:
    """Save a tiny random `LTXPipeline` (LTX-Video transformer and VAE, flow matching, T5)."""
    torch.manual_seed(_SEED)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=_T5_DIM,
    )
    # 32x spatial and 8x temporal compression, as in LTX-Video, so that the family's rules
    # (sizes of 32, 8k+1 frames) hold.
    vae = AutoencoderKLLTXVideo(
        latent_channels=8,
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
    tokenizer = _t5_tokenizer()
    pipe = LTXPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=T5EncoderModel(_t5_config(len(tokenizer))),
        tokenizer=tokenizer,
        transformer=transformer,
    )
    return _save(pipe, path)


#: Name (as in `model = "builtin:NAME"`) -> builder.
BUILTIN_MODELS: dict[str, Callable[[Path], Path]] = {
    "tiny-text-to-video-sd": build_tiny_text_to_video_sd,
    "tiny-wan": build_tiny_wan,
    "tiny-ltx": build_tiny_ltx,
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


def _save(pipe: Any, path: Path) -> Path:
    # `Any`: mypy resolves diffusers' pipeline classes to its import-time dummies.
    pipe.save_pretrained(path)
    return path


def _clip_tokenizer() -> CLIPTokenizer:
    """A byte-level BPE CLIP tokenizer with no merges: every byte is a token, with and
    without the end-of-word suffix."""
    symbols = list(_bytes_to_unicode().values())
    vocab = {symbol: i for i, symbol in enumerate(symbols)}
    vocab.update({f"{symbol}</w>": len(symbols) + i for i, symbol in enumerate(symbols)})
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def _clip_text_config(vocab_size: int, tokenizer: CLIPTokenizer) -> CLIPTextConfig:
    return CLIPTextConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        hidden_size=4,
        intermediate_size=16,
        layer_norm_eps=1e-05,
        num_attention_heads=2,
        num_hidden_layers=2,
        vocab_size=vocab_size,
        hidden_act="gelu",
        projection_dim=32,
        max_position_embeddings=77,
    )


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table, which byte-level BPE vocabularies use."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return dict(sorted(table.items()))


def _t5_tokenizer() -> PreTrainedTokenizerFast:
    """A stand-in for the T5 tokenizer: one token per character (lowercased ASCII), so that
    different prompts still give different embeddings; `</s>` appended like T5 does."""
    specials = ["<pad>", "</s>", "<unk>"]
    chars = [chr(c) for c in range(ord("!"), ord("~") + 1) if not chr(c).isupper()]
    vocab = {token: i for i, token in enumerate([*specials, *chars])}
    backend = Tokenizer(WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split("", behavior="isolated")]
    )
    backend.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", vocab["</s>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=512,
    )


def _t5_config(vocab_size: int) -> T5Config:
    return T5Config(
        vocab_size=vocab_size,
        d_model=_T5_DIM,
        d_kv=8,
        d_ff=37,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        pad_token_id=0,
        eos_token_id=1,
    )
