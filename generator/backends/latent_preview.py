"""A cheap preview of a clip while it renders: a few of the current latent frames projected
to RGB with the family's published factors (`latent_rgb`), at a small size. One small matmul
on the device and a copy of a few kilobytes: no VAE call.

The latents are the denoiser's current ones (`callback_on_step_end`'s `latents`), noisy
early on: the preview sharpens as the steps go, and shows the clip's layout, colours and
motion long before the end, which is what a user needs to cancel a clip going wrong.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from generator.backends.base import Frames
from generator.backends.latent_rgb import BY_FAMILY, LatentRGB
from videobot.families import Family
from videobot.params import RenderRequest

#: Latent frames a preview shows, evenly spread over the clip.
PREVIEW_FRAMES = 4
#: The longer side of each preview frame, in pixels.
PREVIEW_SIDE = 160


def vae_latent_channels(pipe: Any) -> int | None:
    """The latent channels of the pipeline's VAE, or None when it has no VAE we know."""
    config = getattr(getattr(pipe, "vae", None), "config", None)
    if config is None:
        return None
    channels = getattr(config, "z_dim", None) or getattr(config, "latent_channels", None)
    return int(channels) if channels else None


def check_previews(pipe: Any, family: Family, preset_name: str) -> LatentRGB:
    """The factors previews of `pipe` use; `ValueError` naming the preset when the family has
    none, or when they do not fit the pipeline's VAE (a wrong `family`)."""
    factors = BY_FAMILY.get(family.kin)
    where = f"preset {preset_name}: preview_every_steps"
    if factors is None:
        known = ", ".join(sorted(BY_FAMILY))
        raise ValueError(f"{where}: no published latent-to-RGB factors for the family "
                         f"{family.name} (previews work for {known}); set it to 0")
    channels = vae_latent_channels(pipe)
    if channels != factors.channels:
        raise ValueError(f"{where}: the {family.name} family's factors are for "
                         f"{factors.channels} latent channels, and this model's VAE has "
                         f"{channels}; check the preset's family")
    return factors


class LatentPreviewer:
    """Turns a pipeline's current latents into preview frames (uint8, small)."""

    def __init__(self, pipe: Any, family: Family, factors: LatentRGB) -> None:
        self._pipe = pipe
        self._family = family
        self._factors = torch.tensor(factors.factors, dtype=torch.float32)
        self._bias = torch.tensor(factors.bias, dtype=torch.float32)

    @torch.no_grad()
    def frames(self, latents: torch.Tensor, request: RenderRequest) -> Frames:
        """Up to `PREVIEW_FRAMES` frames, the longer side `PREVIEW_SIDE` pixels."""
        video = self._as_channels_frames(latents, request)
        count = video.shape[1]
        picks = torch.linspace(0, count - 1, min(PREVIEW_FRAMES, count)).round().long()
        chosen = video[:, picks.to(video.device)].float()
        factors = self._factors.to(chosen.device)
        rgb = torch.einsum("cfhw,cr->frhw", chosen, factors)
        rgb = rgb + self._bias.to(chosen.device).view(1, 3, 1, 1)
        rgb = F.interpolate(rgb, size=_preview_size(*rgb.shape[-2:]), mode="bilinear",
                            align_corners=False)
        pixels = ((rgb + 1.0) * 127.5).clamp(0, 255).round().to(torch.uint8)
        return pixels.permute(0, 2, 3, 1).contiguous().cpu().numpy()

    def _as_channels_frames(self, latents: torch.Tensor, request: RenderRequest) -> torch.Tensor:
        """The first video of the batch as (channels, frames, height, width)."""
        if latents.ndim == 3:  # LTX-Video packs its latents into tokens
            return self._unpack_tokens(latents, request)[0]
        if self._family.kin == "cogvideox":  # (batch, frames, channels, h, w)
            return latents[0].permute(1, 0, 2, 3)
        return latents[0]  # (batch, channels, frames, h, w)

    def _unpack_tokens(self, latents: torch.Tensor, request: RenderRequest) -> torch.Tensor:
        pipe = self._pipe
        frames = (request.frames - 1) // pipe.vae_temporal_compression_ratio + 1
        height = request.height // pipe.vae_spatial_compression_ratio
        width = request.width // pipe.vae_spatial_compression_ratio
        unpacked: torch.Tensor = pipe._unpack_latents(
            latents, frames, height, width, pipe.transformer_spatial_patch_size,
            pipe.transformer_temporal_patch_size)
        return unpacked


def _preview_size(height: int, width: int) -> tuple[int, int]:
    scale = PREVIEW_SIDE / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def preview_every(steps: int, every: int) -> frozenset[int]:
    """The steps (from 1) after which a preview is made: every `every`, and not the last one
    (the clip itself comes right after it)."""
    if every <= 0:
        return frozenset()
    return frozenset(step for step in range(every, steps, every))
