"""The working memory of a render, by family: what is on the device beside the weights.

A render's peak is the larger of two phases, never their sum (the first's tensors are gone
when the second starts):
- denoising: the transformer's activations, in proportion to its tokens (latent positions
  after patching, plus text) times its width: per token, about six hidden-width tensors
  (norms, q, k, v, attention out) and two feed-forward ones, for each guidance pass run
  together (CogVideoX and LTX batch theirs; Wan runs them one after the other; HunyuanVideo
  has one);
- decoding: the VAE's working set, in proportion to the frames it decodes at once (its
  window: Wan 4 frames at a time, CogVideoX 8, LTX and HunyuanVideo all) times the pixels of
  a frame (of a tile when tiling), times its bytes per pixel, plus the decoded clip in
  float32.

The bytes per pixel of the Wan 2.1, LTX-Video and CogVideoX VAEs are calibrated on the peaks
an H200 measured (README, "Benchmarks": random weights of the real configurations, bfloat16,
81x832x480, 121x768x512 and 49x720x480) so that the estimate is 5 % above them (the decode
is the peak of all three); the other families' are rules of thumb from their decoders'
widths, erring high, and `videobot doctor` says they are unmeasured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

GIB = 1024**3


@dataclass(frozen=True)
class FamilyMemory:
    """How a family's render uses memory (its reference model's shapes)."""

    #: VAE compression: frames (k+1 latent frames per 4k+1), and each side.
    temporal_ratio: int
    spatial_ratio: int
    #: The denoiser's patch: latent frames and latent pixels per side per token.
    patch_t: int
    patch_s: int
    #: Text tokens the denoiser attends to beside the video's.
    text_tokens: int
    #: Guidance passes run as one batch (1 when they run one after the other or not at all).
    batched_passes: int
    #: Guidance passes per step, whether batched or not (for caches that keep one copy each).
    passes: int
    #: The reference denoiser: parameters, hidden width, feed-forward width, blocks.
    ref_parameters: float
    width: int
    ffn: int
    blocks: int
    #: Bytes of the VAE's working set per decoded pixel of its window (untiled).
    decode_bytes_per_pixel: float
    #: Frames decoded at once (None: all), and a tile's pixels and frames when tiling.
    decode_window: int | None
    tile_pixels: int
    tile_frames: int | None
    #: Whether an H200 measured this family's peak (else the estimate is a rule of thumb).
    measured: bool = False


FAMILY_MEMORY: dict[str, FamilyMemory] = {
    # Wan 2.1 T2V 1.3B; its VAE decodes causally, one latent frame (4 frames) at a time.
    "wan": FamilyMemory(4, 8, 1, 2, 512, 1, 2, 1.42e9, 1536, 8960, 30,
                        decode_bytes_per_pixel=1740, decode_window=4, tile_pixels=256 * 256,
                        tile_frames=4, measured=True),
    # Wan 2.2 TI2V 5B: 16x VAE with patches, decoder at half resolution (rule of thumb).
    "wan-5b": FamilyMemory(4, 16, 1, 2, 512, 1, 2, 5.0e9, 3072, 14336, 30,
                           decode_bytes_per_pixel=1740, decode_window=4,
                           tile_pixels=256 * 256, tile_frames=4),
    # LTX-Video 2B: 32x8 VAE, unpatched at 1/4 resolution; decodes every frame at once.
    "ltx": FamilyMemory(8, 32, 1, 1, 128, 2, 2, 1.92e9, 2048, 8192, 28,
                        decode_bytes_per_pixel=95, decode_window=None, tile_pixels=512 * 512,
                        tile_frames=16, measured=True),
    # CogVideoX-2b: two latent frames (8 frames) per decode batch, a heavy 128-wide decoder.
    "cogvideox": FamilyMemory(4, 8, 1, 2, 226, 2, 2, 1.69e9, 1920, 7680, 30,
                              decode_bytes_per_pixel=6080, decode_window=8,
                              tile_pixels=240 * 360, tile_frames=8, measured=True),
    # HunyuanVideo 13B: guidance embedded (one pass); its VAE decodes every frame at once.
    "hunyuan": FamilyMemory(4, 8, 1, 2, 256, 1, 1, 12.8e9, 3072, 12288, 60,
                            decode_bytes_per_pixel=6080, decode_window=None,
                            tile_pixels=256 * 256, tile_frames=16),
    # The Stable Diffusion family's image VAE, on every frame at once; a 3D/motion UNet.
    "text-to-video-sd": FamilyMemory(1, 8, 1, 1, 77, 2, 2, 1.41e9, 1280, 5120, 16,
                                     decode_bytes_per_pixel=4096, decode_window=None,
                                     tile_pixels=512 * 512, tile_frames=None),
}
# Image to video (rules of thumb, none measured): the text-to-video family's profile with the
# picture's tokens beside the text. Wan 2.1 I2V 14B: 257 CLIP image tokens, a 5120-wide
# transformer of 40 blocks, Wan 2.1's VAE.
FAMILY_MEMORY["wan-i2v"] = replace(FAMILY_MEMORY["wan"], text_tokens=512 + 257,
                                   ref_parameters=16.4e9, width=5120, ffn=13824, blocks=40,
                                   measured=False)
# CogVideoX-5b-I2V: the picture's latents are concatenated to the noise (no extra tokens).
FAMILY_MEMORY["cogvideox-i2v"] = replace(FAMILY_MEMORY["cogvideox"], measured=False)
# HunyuanVideo-I2V: the LLaVA encoder's 576 image tokens ride with the text's.
FAMILY_MEMORY["hunyuan-i2v"] = replace(FAMILY_MEMORY["hunyuan"], text_tokens=256 + 576)
FAMILY_MEMORY["animatediff"] = FAMILY_MEMORY["text-to-video-sd"]
FAMILY_MEMORY["generic"] = FAMILY_MEMORY["text-to-video-sd"]
#: Bytes of the decoded clip per pixel: three float32 channels.
DECODED_BYTES_PER_PIXEL = 12
#: TaylorSeer forecasts this many modules' outputs per block, keeping two copies of each.
TAYLORSEER_MODULES_PER_BLOCK = 3
TAYLORSEER_COPIES = 2


def memory_of(family: str) -> FamilyMemory:
    """The family's memory profile (a conservative one for families not listed)."""
    return FAMILY_MEMORY.get(family, FAMILY_MEMORY["generic"])


def latent_frames(family: FamilyMemory, frames: int) -> int:
    return (frames - 1) // family.temporal_ratio + 1 if family.temporal_ratio > 1 else frames


def tokens(family: FamilyMemory, frames: int, width: int, height: int) -> int:
    """The denoiser's video tokens plus its text tokens, for one pass."""
    side = family.spatial_ratio * family.patch_s
    video = (math.ceil(latent_frames(family, frames) / family.patch_t)
             * math.ceil(height / side) * math.ceil(width / side))
    return video + family.text_tokens


def hidden_width(family: FamilyMemory, denoiser_parameters: float) -> float:
    """The denoiser's width, scaled from the reference model's by its size (a model of the
    same depth: parameters grow with the width squared)."""
    if denoiser_parameters <= 0:
        return float(family.width)
    return family.width * math.sqrt(denoiser_parameters / family.ref_parameters)


def denoise_bytes(family: FamilyMemory, frames: int, width: int, height: int,
                  denoiser_parameters: float, compute_bytes: int) -> float:
    """Peak activations of one denoiser call."""
    scale = hidden_width(family, denoiser_parameters) / family.width
    per_token = (6 * family.width + 2 * family.ffn) * scale * compute_bytes
    return tokens(family, frames, width, height) * family.batched_passes * per_token


def decode_bytes(family: FamilyMemory, frames: int, width: int, height: int, *,
                 tiled: bool) -> float:
    """Peak working set of the VAE decode, and the decoded clip."""
    pixels = width * height
    window = family.decode_window or frames
    if tiled:
        pixels = min(pixels, family.tile_pixels)
        window = min(window, family.tile_frames or window)
    working = min(window, frames) * pixels * family.decode_bytes_per_pixel
    return working + frames * width * height * DECODED_BYTES_PER_PIXEL


def cache_bytes(cache: str, family: FamilyMemory, frames: int, width: int, height: int,
                denoiser_parameters: float, compute_bytes: int) -> float:
    """What a cache keeps between steps: TaylorSeer two copies of three outputs per block
    and pass; the others one residual per pass."""
    per_pass = tokens(family, frames, width, height) * hidden_width(
        family, denoiser_parameters) * compute_bytes
    if cache == "taylorseer":
        kept = family.blocks * TAYLORSEER_MODULES_PER_BLOCK * TAYLORSEER_COPIES
        return kept * family.passes * per_pass
    if cache in ("mag", "first-block"):
        return family.passes * per_pass
    return 0.0
