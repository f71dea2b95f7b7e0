"""Tensors for training: captioned clips drawn from the procedural generator."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from generator.backends.demo import data
from generator.backends.demo.captions import caption
from generator.backends.demo.vocab import Vocab


@dataclass(frozen=True)
class Batch:
    """B captioned clips: tokens (B, L), layout (B, 4), labels (B, 3), clips
    (B, T, 3, H, W) and object tracks (B, T, 3) (see `data.track`)."""

    tokens: Tensor
    layout: Tensor
    labels: Tensor
    clips: Tensor
    captions: tuple[str, ...]
    tracks: Tensor


def pad_tokens(vocab: Vocab, texts: list[str] | tuple[str, ...]) -> Tensor:
    """Token ids of `texts`, right-padded with 0 to the longest."""
    ids = [vocab.encode(t) for t in texts]
    out = torch.zeros(len(ids), max(len(i) for i in ids), dtype=torch.long)
    for row, seq in enumerate(ids):
        out[row, : len(seq)] = torch.tensor(seq)
    return out


def clips_to_tensor(clips: np.ndarray) -> Tensor:
    """uint8 (B, T, H, W, 3) -> float (B, T, 3, H, W) in [0, 1]."""
    return torch.from_numpy(clips).permute(0, 1, 4, 2, 3).float() / 255.0


def make_batch(
    rng: np.random.Generator,
    vocab: Vocab,
    count: int,
    combos: tuple[data.Combo, ...] = data.TRAIN_COMBOS,
) -> Batch:
    """`count` random clips of `combos`, each with a random caption."""
    specs = data.sample_specs(rng, count, combos)
    texts = tuple(caption(rng, s.shape, s.colour, s.motion) for s in specs)
    clips = np.stack([data.render(s) for s in specs])
    return Batch(
        tokens=pad_tokens(vocab, texts),
        layout=torch.tensor([s.layout for s in specs], dtype=torch.float32),
        labels=torch.tensor([s.labels for s in specs], dtype=torch.long),
        clips=clips_to_tensor(clips),
        captions=texts,
        tracks=torch.tensor(np.stack([data.track(s) for s in specs]), dtype=torch.float32),
    )
