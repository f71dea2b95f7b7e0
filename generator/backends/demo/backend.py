"""`DemoBackend`: the embedded text-to-video model behind the `Backend` interface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from generator.backends.base import Frames, GenerationStopped, OnStep, ShouldStop
from generator.backends.demo.batches import pad_tokens
from generator.backends.demo.data import LAYOUT_DIMS
from generator.backends.demo.loading import WEIGHTS_DIR, load_generator
from generator.backends.demo.model import Generator
from generator.backends.demo.vocab import Vocab
from videobot.config import PresetConfig
from videobot.params import RenderRequest

#: The preset `model` value that means "the weights shipped in this package".
BUILTIN = "builtin:demo"
#: Progress pseudo-steps: text, dynamics, frames, resize.
STEPS = 4


def weights_folder(model: str, models_dir: Path) -> Path:
    """The folder holding generator.safetensors and vocab.json for a preset's `model`."""
    if model in ("", BUILTIN):
        return WEIGHTS_DIR
    path = Path(model)
    return path if path.is_absolute() else models_dir / path


def layout_noise(seed: int, free_dims: int) -> Tensor:
    """The noise vector (1, 4 + free_dims) of a seed: layout uniform in [0, 1), rest normal."""
    gen = torch.Generator().manual_seed(seed % 2**63)
    layout = torch.rand(1, LAYOUT_DIMS, generator=gen)
    return torch.cat([layout, torch.randn(1, free_dims, generator=gen)], 1)


def fit_clip(clip: Tensor, frames: int, height: int, width: int) -> Frames:
    """(T, 3, h, w) floats in [0, 1] -> uint8 (frames, height, width, 3), resampled in time
    (nearest frame) and space (bilinear)."""
    pick = np.round(np.linspace(0, clip.shape[0] - 1, max(frames, 1))).astype(np.int64)
    clip = clip[torch.from_numpy(pick)]
    if (height, width) != tuple(clip.shape[2:]):
        clip = F.interpolate(clip, size=(height, width), mode="bilinear", align_corners=False)
    out = (clip.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    return np.ascontiguousarray(out.cpu().numpy())


class DemoBackend:
    """The demo generator, loaded once per worker and kept across jobs."""

    def __init__(self, generator: Generator, vocab: Vocab, *, device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.generator = generator.to(self.device).eval()
        self.vocab = vocab

    @classmethod
    def load(cls, preset: PresetConfig, *, device: str, models_dir: Path) -> DemoBackend:
        """Load the weights named by `preset.model` ("builtin:demo": the shipped ones)."""
        generator, vocab = load_generator(weights_folder(preset.model, models_dir))
        return cls(generator, vocab, device=device)

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop) -> Frames:
        """Render `request`: same prompt and seed give the same clip; the seed picks where
        the object starts, how fast it goes and how big it is."""
        gen = self.generator

        def step(done: int) -> None:
            if should_stop():
                raise GenerationStopped()
            if done:
                on_step(done, STEPS)

        step(0)
        with torch.inference_mode():
            tokens = pad_tokens(self.vocab, [request.prompt]).to(self.device)
            noise = layout_noise(request.seed, gen.cfg.free_noise).to(self.device)
            cond = gen.text(tokens)
            step(1)
            trajectory = gen.dynamics(cond, noise)
            step(2)
            clip = gen.decode(cond, trajectory)[0]
            step(3)
            frames = fit_clip(clip, request.frames, request.height, request.width)
        on_step(STEPS, STEPS)
        return frames

    def close(self) -> None:
        """Nothing to free beyond what garbage collection does."""
