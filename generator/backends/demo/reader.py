"""The picture reader: which shape and which colour stand in a 64x64 picture.

A CNN with coordinate channels; a global max-pool of its feature map (what the object looks
like, wherever it is) feeds the shape and colour heads. It is trained on procedural pictures
of the training combinations' objects at random places and sizes, on dark and random plain
backgrounds, lightly blurred, noised and tinted. Where the object stands and how big it is
are measured from its pixels once its shape is known (`geometry.measure`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from generator.backends.demo import anchored
from generator.backends.demo.augment import degrade
from generator.backends.demo.batches import clips_to_tensor
from generator.backends.demo.losses import class_loss, cosine_decay
from generator.backends.demo.model import N_CLASSES, coords
from generator.backends.demo.progress import Progress

READER_FILE = "reader.safetensors"


class PictureReader(nn.Module):
    """Pictures (B, 3, 64, 64) in [0, 1] -> shape and colour logits (B, 3 + 7)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(5, width // 2, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width // 2, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 3, 1, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 2 * width, 3, 1, 1), nn.LeakyReLU(0.2),
        )
        self.what = nn.Linear(2 * width, N_CLASSES[0] + N_CLASSES[1])

    def forward(self, pictures: Tensor) -> Tensor:
        return self.what(self.convs(coords(pictures * 2 - 1)).amax((2, 3)))


def picture_batch(rng: np.random.Generator, count: int) -> tuple[Tensor, Tensor]:
    """`count` procedural pictures (B, 3, 64, 64) and their (shape, colour) labels."""
    specs = anchored.sample_anchored(rng, count, edge_share=0.0)
    frames = np.stack([anchored.render_anchored(s)[:1] for s in specs])
    return clips_to_tensor(frames)[:, 0], torch.tensor([s.labels[:2] for s in specs])


def train_reader(
    out_dir: Path, *, seconds: float, seed: int, progress: bool, batch: int = 64
) -> dict[str, float]:
    """Train the reader for `seconds` and save it; returns its validation figures."""
    torch.manual_seed(seed)
    rng, gen = np.random.default_rng(seed + 31), torch.Generator().manual_seed(seed)
    model = PictureReader()
    opt = torch.optim.Adam(model.parameters(), 2e-3)
    bar, start, steps = Progress(seconds, enabled=progress), time.monotonic(), 0
    while time.monotonic() - start < seconds:
        cosine_decay(opt, 2e-3, (time.monotonic() - start) / seconds)
        pictures, labels = picture_batch(rng, batch)
        loss = class_loss(model(degrade(pictures[:, None], gen)[:, 0]), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
        bar.update(time.monotonic() - start, f"reader step {steps} loss {loss.item():.3f}")
    bar.close()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(out_dir / READER_FILE))
    return {"reader_steps": float(steps)} | validate_reader(model.eval(), seed)


@torch.no_grad()
def validate_reader(model: PictureReader, seed: int, count: int = 256) -> dict[str, float]:
    """Accuracy of the reader on fresh procedural pictures."""
    pictures, labels = picture_batch(np.random.default_rng(seed + 99), count)
    shape, colour = (p.argmax(1) for p in model(pictures).split(list(N_CLASSES[:2]), 1))
    return {"reader_val_shape": (shape == labels[:, 0]).float().mean().item(),
            "reader_val_colour": (colour == labels[:, 1]).float().mean().item()}


def load_reader(folder: Path) -> PictureReader:
    """The reader saved in `folder`, in eval mode."""
    model = PictureReader()
    model.load_state_dict(load_file(str(folder / READER_FILE)))
    return model.eval()
