"""Training-time changes to procedural clips, so that the captioner and the picture reader
also read softer, noisier, tinted frames (the generator's, a user's picture) and objects on
any plain background."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from generator.backends.demo import data
from generator.backends.demo.anchored import random_background


def degrade(clips: Tensor, gen: torch.Generator) -> Tensor:
    """Clips (B, T, 3, H, W) in [0, 1], 30 % of them blurred, all lightly tinted and noised."""
    b = clips.shape[0]
    blur = F.avg_pool2d(clips.flatten(0, 1), 3, 1, 1).view_as(clips)
    pick = (torch.rand(b, 1, 1, 1, 1, generator=gen) < 0.3).float()
    clips = pick * blur + (1 - pick) * clips
    tint = 1 + 0.15 * (torch.rand(b, 1, 3, 1, 1, generator=gen) - 0.5)
    noise = 0.03 * torch.randn(clips.shape, generator=gen)
    return (clips * tint + noise).clamp(0, 1)


def recolour_backgrounds(clips: Tensor, colours: Tensor, rng: np.random.Generator) -> Tensor:
    """Clips (B, T, 3, H, W) of procedural data (dark background) with about half of their
    backgrounds repainted in a random plain colour that stands apart from the object's
    (`colours`: (B,) colour indices)."""
    dark = torch.tensor(data.BACKGROUND, dtype=clips.dtype).view(1, 1, 3, 1, 1) / 255.0
    is_background = (clips - dark).abs().sum(2, keepdim=True) < 1e-3
    paint = torch.tensor([random_background(rng, data.COLOURS[int(c)]) for c in colours])
    paint = paint.to(clips.dtype).view(-1, 1, 3, 1, 1) / 255.0
    return torch.where(is_background, paint, clips)
