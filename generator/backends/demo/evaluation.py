"""How well the demo generator does on a fixed batch: its loss, and what the checker sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from generator.backends.demo import data
from generator.backends.demo.batches import MixedBatch, mixed_batch, render_batch, slice_batch
from generator.backends.demo.checker import judge
from generator.backends.demo.loading import load_generator
from generator.backends.demo.losses import object_weights
from generator.backends.demo.model import Generator, decide


@torch.no_grad()
def render_mixed(gen: Generator, mixed: MixedBatch) -> Tensor:
    """Full 16-frame clips (B, T, 3, H, W) of a mixed batch, in chunks of 32."""
    gen.eval()
    out = []
    for i in range(0, len(mixed.anchor), 32):
        part = slice_batch(mixed, slice(i, i + 32))
        factors = decide(gen.text(part.batch.tokens))
        out.append(render_batch(gen, part, factors, list(range(data.FRAMES)))[1])
    gen.train()
    return torch.cat(out)


def evaluate(gen: Generator, mixed: MixedBatch, extra: float) -> dict[str, float]:
    """Object-weighted L1 and checker accuracies of the generator on a fixed batch."""
    clips = render_mixed(gen, mixed)
    weights = object_weights(mixed.batch.clips, mixed.background, extra)
    loss = (weights * (clips - mixed.batch.clips).abs()).mean().item()
    frames = (clips.permute(0, 1, 3, 4, 2) * 255).round().byte().numpy()
    hits = np.zeros(3)
    for clip, label in zip(frames, mixed.batch.labels.tolist(), strict=True):
        v = judge(clip)
        hits += [v.shape == data.SHAPES[label[0]], v.colour == data.COLOURS[label[1]],
                 v.motion == data.MOTIONS[label[2]]]
    acc = hits / len(frames)
    return {"loss": loss, "shape": acc[0], "colour": acc[1], "motion": acc[2]}


def final_report(out_dir: Path, seed: int, count: int = 210) -> dict[str, float]:
    """Checker accuracies of the saved generator on validation and held-out combinations
    (half the clips from text alone, half from a picture)."""
    gen, vocab = load_generator(out_dir)
    report: dict[str, float] = {}
    for name, combos in (("val", data.TRAIN_COMBOS), ("heldout", data.HELD_OUT)):
        batch = mixed_batch(np.random.default_rng(seed + 7), vocab, count, 0.5, combos)
        for key, value in evaluate(gen, batch, 0.0).items():
            report[f"{name}_{'l1' if key == 'loss' else key}"] = value
    return report
