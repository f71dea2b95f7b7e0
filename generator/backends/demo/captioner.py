"""Video to text: a small classifier that names a clip's shape, colour and motion.

A per-frame CNN at 64x64 (with coordinate channels, so it keeps where the object is) on
four frames spread over the clip feeds a GRU across them; three heads classify shape,
colour and motion, and `describe` turns them into a sentence such as "a red circle moving
left". It is trained on the procedural
clips of the training combinations, lightly blurred, noised and tinted so that it also
reads the generator's softer clips.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from generator.backends.demo.batches import make_batch
from generator.backends.demo.data import COLOURS, FRAMES, MOTIONS, SHAPES, SIZE
from generator.backends.demo.loading import WEIGHTS_DIR
from generator.backends.demo.losses import class_loss
from generator.backends.demo.model import N_CLASSES, _coords
from generator.backends.demo.progress import Progress
from generator.backends.demo.vocab import Vocab

CAPTIONER_FILE = "captioner.safetensors"
MOTION_TEXT = {
    "left": "moving left", "right": "moving right", "up": "moving up", "down": "moving down",
    "growing": "growing", "shrinking": "shrinking", "still": "staying still",
}


#: The frames the captioner looks at: four, evenly spread over the clip.
LOOK_AT = (0, 5, 10, 15)


class Captioner(nn.Module):
    """Clips (B, 16, 3, 64, 64) in [0, 1] -> logits (B, 3 + 7 + 7): shape, colour, motion.

    Each looked-at frame gives two features: a global max-pool of the convolutional map
    (where-invariant: what the object looks like) and a linear read-out of the whole map
    (where it is); a GRU runs over the frames.
    """

    def __init__(self, width: int = 32, hidden: int = 128) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv2d(5, width // 2, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width // 2, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 3, 1, 1), nn.LeakyReLU(0.2),
        )
        self.where = nn.Linear(2 * width * 8 * 8 // 4, hidden)
        self.rnn = nn.GRU(hidden + 2 * width, hidden, batch_first=True)
        self.head = nn.Linear(2 * hidden + 2 * width, sum(N_CLASSES))

    def forward(self, clips: Tensor) -> Tensor:
        picked = clips[:, list(LOOK_AT)]
        b, t = picked.shape[:2]
        maps = self.convs(_coords(picked.reshape(b * t, 3, SIZE, SIZE) * 2 - 1))
        what = maps.amax((2, 3))
        where = F.leaky_relu(self.where(F.avg_pool2d(maps, 2).flatten(1)), 0.2)
        states, _ = self.rnn(torch.cat([where, what], 1).view(b, t, -1))
        looks = what.view(b, t, -1).amax(1)
        return self.head(torch.cat([states[:, -1], states.mean(1), looks], 1))


def _augment(clips: Tensor, gen: torch.Generator) -> Tensor:
    b = clips.shape[0]
    blur = F.avg_pool2d(clips.flatten(0, 1), 3, 1, 1).view_as(clips)
    pick = (torch.rand(b, 1, 1, 1, 1, generator=gen) < 0.3).float()
    clips = pick * blur + (1 - pick) * clips
    tint = 1 + 0.15 * (torch.rand(b, 1, 3, 1, 1, generator=gen) - 0.5)
    noise = 0.03 * torch.randn(clips.shape, generator=gen)
    return (clips * tint + noise).clamp(0, 1)


def train_captioner(
    out_dir: Path, *, seconds: float, seed: int, progress: bool, batch: int = 32
) -> dict[str, float]:
    """Train the captioner for `seconds` and save it; returns its validation accuracy."""
    torch.manual_seed(seed)
    rng, gen = np.random.default_rng(seed + 17), torch.Generator().manual_seed(seed)
    vocab, model = Vocab.build(), Captioner()
    opt = torch.optim.Adam(model.parameters(), 2e-3)
    bar, start, steps = Progress(seconds, enabled=progress), time.monotonic(), 0
    while time.monotonic() - start < seconds:
        b = make_batch(rng, vocab, batch)
        loss = class_loss(model(_augment(b.clips, gen)), b.labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        steps += 1
        bar.update(time.monotonic() - start, f"captioner step {steps} loss {loss.item():.3f}")
        if progress and steps % 100 == 0:
            bar.note(f"captioner step {steps} loss {loss.item():.3f}")
    bar.close()
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              str(out_dir / CAPTIONER_FILE))
    val = make_batch(np.random.default_rng(seed + 99), vocab, 128)
    with torch.no_grad():
        hits = (predict_labels(model.eval(), val.clips) == val.labels).float()
    return {"captioner_steps": float(steps), "captioner_val_shape": hits[:, 0].mean().item(),
            "captioner_val_colour": hits[:, 1].mean().item(),
            "captioner_val_motion": hits[:, 2].mean().item(),
            "captioner_val_all3": hits.all(1).float().mean().item()}


def predict_labels(model: Captioner, clips: Tensor) -> Tensor:
    """Class indices (B, 3) of (shape, colour, motion) for clips (B, T, 3, 64, 64)."""
    parts = model(clips).split(list(N_CLASSES), 1)
    return torch.stack([p.argmax(1) for p in parts], 1)


@lru_cache(maxsize=2)
def load_captioner(folder: Path = WEIGHTS_DIR) -> Captioner:
    """The captioner saved in `folder`, in eval mode."""
    model = Captioner()
    model.load_state_dict(load_file(str(folder / CAPTIONER_FILE)))
    return model.eval()


def frames_to_input(frames: npt.NDArray[np.uint8]) -> Tensor:
    """uint8 (T, H, W, 3) of any size -> float (1, 16, 3, 64, 64), nearest resampling."""
    t, h, w, _ = frames.shape
    pick = np.round(np.linspace(0, t - 1, FRAMES)).astype(np.int64)
    rows = (np.arange(SIZE) * h // SIZE).clip(0, h - 1)
    cols = (np.arange(SIZE) * w // SIZE).clip(0, w - 1)
    small = np.ascontiguousarray(frames[pick][:, rows][:, :, cols])
    return torch.from_numpy(small).permute(0, 3, 1, 2).float().div(255.0)[None]


def classify(frames: npt.NDArray[np.uint8], folder: Path = WEIGHTS_DIR) -> tuple[str, str, str]:
    """(shape, colour, motion) the captioner sees in `frames`."""
    with torch.inference_mode():
        s, c, m = predict_labels(load_captioner(folder), frames_to_input(frames))[0].tolist()
    return SHAPES[s], COLOURS[c], MOTIONS[m]


def describe(frames: npt.NDArray[np.uint8], folder: Path = WEIGHTS_DIR) -> str:
    """A one-line description of a clip, e.g. "a red circle moving left"."""
    shape, colour, motion = classify(frames, folder)
    return f"a {colour} {shape} {MOTION_TEXT[motion]}"
