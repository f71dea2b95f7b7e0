"""`DemoBackend`: the embedded video model behind the `Backend` interface, from text alone
or from a picture (the object in it is animated with the prompt's motion)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from generator.backends.base import (
    Frames,
    GenerationStopped,
    Image,
    OnStep,
    ShouldStop,
)
from generator.backends.demo.anchored import speed_for_change
from generator.backends.demo.batches import anchor_of, pad_tokens
from generator.backends.demo.continuation import Continuation, continue_from
from generator.backends.demo.data import COLOURS, LAYOUT_DIMS, MOTIONS, SHAPES
from generator.backends.demo.loading import WEIGHTS_DIR, load_generator
from generator.backends.demo.model import ANCHOR_DIMS, N_CLASSES, Generator, decide
from generator.backends.demo.picture import ObjectState, read_picture
from generator.backends.demo.reader import PictureReader, load_reader
from generator.backends.demo.vocab import Vocab
from videobot.config import PresetConfig
from videobot.params import RenderRequest

log = logging.getLogger(__name__)

#: The preset `model` value that means "the weights shipped in this package".
BUILTIN = "builtin:demo"
#: Progress pseudo-steps: text (and picture), dynamics, frames, resize.
STEPS = 4
_OBJECT_FACTORS = N_CLASSES[0] + N_CLASSES[1]


def weights_folder(model: str, models_dir: Path) -> Path:
    """The folder holding the generator, reader and vocabulary for a preset's `model`."""
    if model in ("", BUILTIN):
        return WEIGHTS_DIR
    path = Path(model)
    return path if path.is_absolute() else models_dir / path


def seed_layout(seed: int) -> Tensor:
    """The layout (1, 4) a seed picks, uniform in [0, 1): where the object starts, how fast
    it goes and how big it is."""
    return torch.rand(1, LAYOUT_DIMS, generator=torch.Generator().manual_seed(seed % 2**63))


def seed_speed(layout: Tensor) -> float:
    """The speed of an animated picture from the seed's layout: a travel of 18-34 px per
    clip (or a growth of 7-13 px), as fast as the text-only clips go."""
    return 0.3125 + 0.5 * float(layout[0, 2])


def resample_track(track: Tensor, frames: int) -> Tensor:
    """The track (1, T, 3) resampled to `frames` frames (nearest in time)."""
    pick = np.round(np.linspace(0, track.shape[1] - 1, max(frames, 1))).astype(np.int64)
    return track[:, torch.from_numpy(pick)]


def to_uint8(clip: Tensor) -> Frames:
    """(T, 3, H, W) floats in [0, 1] -> uint8 (T, H, W, 3)."""
    out = (clip.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    return np.ascontiguousarray(out.cpu().numpy())


def picture_note(logits: Tensor, start: ObjectState) -> str | None:
    """A note when the prompt clearly names another shape or colour than the picture shows
    (the picture wins)."""
    shape, colour, _ = (p.softmax(0) for p in logits[0].split(list(N_CLASSES)))
    named = [(SHAPES, shape, start.shape), (COLOURS, colour, start.colour)]
    lost = [names[int(p.argmax())] for names, p, seen in named
            if p.max() > 0.8 and names[int(p.argmax())] != seen]
    if not lost:
        return None
    verb = "were" if len(lost) > 1 else "was"
    return (f"the picture shows a {start.colour} {start.shape}, so the prompt's "
            f"{' and '.join(lost)} {verb} not used")


class DemoBackend:
    """The demo generator and its picture reader, loaded once per worker, kept across jobs."""

    def __init__(self, generator: Generator, vocab: Vocab, reader: PictureReader, *,
                 device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.generator = generator.to(self.device).eval()
        self.vocab = vocab
        self.reader = reader.eval()
        with torch.inference_mode():
            self.sprites = self.generator.sprite_bank()  # the same for every request

    @classmethod
    def load(cls, preset: PresetConfig, *, device: str, models_dir: Path) -> DemoBackend:
        """Load the weights named by `preset.model` ("builtin:demo": the shipped ones)."""
        folder = weights_folder(preset.model, models_dir)
        generator, vocab = load_generator(folder)
        return cls(generator, vocab, load_reader(folder), device=device)

    def continue_from(self, frames: Frames) -> Continuation:
        """What extending the clip `frames` starts from: its last frame and its object's
        state there (see `continuation.continue_from`); pass both to `generate`."""
        return continue_from(frames, self.reader)

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop,
                 image: Image | None = None, *, state: ObjectState | None = None) -> Frames:
        """Render `request`: same prompt and seed (and picture) give the same clip. From text
        alone the seed picks where the object starts, how fast it goes and how big it is.
        With `image` (or the `state` read from a clip to extend), the object in it is
        animated from where it stands with the prompt's motion; a picture that cannot be
        read raises `GenerationFailed` saying what the model can animate."""
        gen = self.generator

        def step(done: int) -> None:
            if should_stop():
                raise GenerationStopped()
            if done:
                on_step(done, STEPS)

        step(0)
        with torch.inference_mode():
            tokens = pad_tokens(self.vocab, [request.prompt]).to(self.device)
            logits = gen.text(tokens)
            factors = decide(logits)
            layout = seed_layout(request.seed)
            anchor, background = torch.zeros(1, ANCHOR_DIMS), None
            if state is None and image is not None:
                state = read_picture(image, self.reader)
            if state is not None:
                factors, anchor, background = self._from_picture(logits, factors, layout,
                                                                 state)
                layout = torch.zeros_like(layout)
            step(1)
            track = gen.dynamics(factors, layout.to(self.device), anchor.to(self.device))
            step(2)
            # Drawn at the requested size directly: edges as sharp as the sprite, not an
            # upscaled 64x64 frame.
            clip = gen.decode(factors, resample_track(track, request.frames), background,
                              (request.height, request.width), self.sprites)[0]
            step(3)
            frames = to_uint8(clip)
        on_step(STEPS, STEPS)
        return frames

    def _from_picture(self, logits: Tensor, factors: Tensor, layout: Tensor,
                      state: ObjectState) -> tuple[Tensor, Tensor, Tensor]:
        """Factors with the picture's shape and colour, the anchor, and the background."""
        note = picture_note(logits, state)
        if note:
            log.info("%s", note)
        motion = MOTIONS[int(factors[0, _OBJECT_FACTORS:].argmax())]
        shape, colour = SHAPES.index(state.shape), COLOURS.index(state.colour)
        seen = torch.zeros(1, _OBJECT_FACTORS, device=factors.device)
        seen[0, shape] = seen[0, N_CLASSES[0] + colour] = 1.0
        speed = None if state.change_per_clip is None else speed_for_change(
            motion, state.change_per_clip)
        anchor = torch.tensor([anchor_of((state.x, state.y, state.half),
                                         seed_speed(layout) if speed is None else speed)])
        background = torch.tensor([state.background], device=factors.device) / 255.0
        return torch.cat([seen, factors[:, _OBJECT_FACTORS:]], 1), anchor, background

    def close(self) -> None:
        """Nothing to free beyond what garbage collection does."""
