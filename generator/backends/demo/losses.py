"""The classification loss both demo trainers use: the generator's (its discriminators and text
condition classify) and the captioner's."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from generator.backends.demo.model import N_CLASSES


def class_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Summed cross-entropy of logits laid out as (shape, colour[, motion]) blocks."""
    sizes = list(N_CLASSES) if logits.shape[1] == sum(N_CLASSES) else list(N_CLASSES[:2])
    parts = logits.split(sizes, 1)
    return sum((F.cross_entropy(p, labels[:, i]) for i, p in enumerate(parts)), torch.zeros(()))
