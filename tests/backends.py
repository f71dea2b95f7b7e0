"""A stand-in model for worker tests: deterministic frames, a configurable pace, and the
Backend protocol's stop behaviour. (The real diffusers and demo backends have their own
tests; this one keeps worker tests fast.)"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from generator.backends.base import (
    Frames,
    GenerationStopped,
    Image,
    OnPreview,
    OnStep,
    ShouldStop,
)
from generator.backends.loader import ResidentBackend
from generator.finishing import Encoder, encode
from generator.worker import Worker
from storage.store import Store
from videobot.config import Config
from videobot.params import RenderRequest


class StripesBackend:
    """Renders a bar sliding across the frame; `step_seconds` per denoising step."""

    def __init__(self, *, step_seconds: float = 0.0, error: Exception | None = None) -> None:
        self.step_seconds = step_seconds
        self.error = error
        self.started = threading.Event()
        self.calls = 0

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop,
                 image: Frames | None = None) -> Frames:
        """The bar; with `image` (a picture, or a clip's last frame to extend), the clip
        opens on that picture."""
        self.calls += 1
        self.started.set()
        for step in range(1, request.steps + 1):
            if should_stop():
                raise GenerationStopped
            time.sleep(self.step_seconds)
            if self.error is not None:
                raise self.error
            on_step(step, request.steps)
        frames = np.zeros((request.frames, request.height, request.width, 3), np.uint8)
        rng = np.random.default_rng(request.seed)
        colour = rng.integers(0, 256, 3, dtype=np.uint8)
        for index in range(request.frames):
            x = index * request.width // max(request.frames, 1)
            frames[index, :, x : x + 4] = colour
        if image is not None:
            frames[0] = image
        return frames

    def close(self) -> None:
        pass


def stand_in_worker(store: Store, config: Config, backend: StripesBackend, *,
                    worker_id: str = "w1", clips_dir: Path | None = None,
                    encoder: Encoder = encode) -> Worker:
    """A worker whose every preset renders with `backend` (and encodes with `encoder`)."""
    resident = ResidentBackend(device="cpu", models_dir=config.data_dir / "models",
                               loader=lambda _preset: backend)
    return Worker(store=store, config=config, backends=resident, worker_id=worker_id,
                  clips_dir=clips_dir or config.data_dir / "clips", encoder=encoder)


class PreviewingStripes(StripesBackend):
    """`StripesBackend` showing the clip forming: a preview after every step but the last,
    two small frames of a grey that brightens as the steps go."""

    renders_previews = True

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop,
                 image: Image | None = None, on_preview: OnPreview | None = None) -> Frames:
        def step(done: int, total: int) -> None:
            on_step(done, total)
            if on_preview is not None and done < total:
                shade = 255 * done // total
                on_preview(done, total, np.full((2, 16, 24, 3), shade, np.uint8))

        return super().generate(request, step, should_stop)


async def render_every_preset(store: Store, config: Config) -> int:
    """Drain the queue whatever the jobs' presets (a worker that may switch between them),
    with a fast `StripesBackend`; returns how many jobs it took."""
    switching = replace(config, worker=replace(config.worker, switch_presets=True,
                                               switch_after_seconds=0))
    return await stand_in_worker(store, switching, StripesBackend()).run(burst=True)
