"""What the demo's three trainings minimise, and how fast they learn."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from generator.backends.demo.batches import UNNAMED
from generator.backends.demo.model import N_CLASSES


def class_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Summed cross-entropy of logits laid out as (shape, colour[, motion]) blocks; labels
    equal to UNNAMED are ignored (a block with none named adds nothing)."""
    sizes = list(N_CLASSES) if logits.shape[1] == sum(N_CLASSES) else list(N_CLASSES[:2])
    total = torch.zeros(())
    for i, part in enumerate(logits.split(sizes, 1)):
        named = labels[:, i] != UNNAMED
        if named.any():
            total = total + F.cross_entropy(part[named], labels[named, i])
    return total


def object_weights(real: Tensor, background: Tensor, extra: float) -> Tensor:
    """1 on background pixels, 1 + `extra` on object pixels (B, T, 1, H, W)."""
    is_object = (real - background[:, None, :, None, None]).abs().sum(2, keepdim=True) > 0.1
    return 1.0 + extra * is_object.float()


def cosine_decay(opt: torch.optim.Optimizer, lr: float, fraction: float) -> None:
    """Set the learning rate to `lr` cosine-decayed to 5 % of it over a run (0 -> 1)."""
    scale = 0.5 * (1 + math.cos(math.pi * min(max(fraction, 0.0), 1.0)))
    for group in opt.param_groups:
        group["lr"] = lr * (0.05 + 0.95 * scale)
