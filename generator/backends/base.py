"""The interface every text-to-video backend implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeGuard

import numpy as np
import numpy.typing as npt

from videobot.params import RenderRequest

#: Called after each denoising step with (step, total_steps), step counting from 1.
OnStep = Callable[[int, int], None]
#: Polled between steps; True asks the backend to stop as soon as it can.
ShouldStop = Callable[[], bool]
#: A clip: uint8 array of shape (frames, height, width, 3), RGB.
Frames = npt.NDArray[np.uint8]
#: An input picture: uint8 array of shape (height, width, 3), RGB, already fitted to the
#: request's width and height.
Image = npt.NDArray[np.uint8]
#: Called every few steps with (step, total_steps, frames): a cheap preview of the clip
#: forming, a few small frames.
OnPreview = Callable[[int, int, Frames], None]


class GenerationStopped(Exception):
    """The render was stopped on request before it finished."""


class GenerationFailed(Exception):
    """The render cannot be done, for a reason the user is told (`reason`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Backend(Protocol):
    """A loaded model. Made once per worker process and kept across jobs."""

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop,
                 image: Image | None = None) -> Frames:
        """Render `request` and return its frames; raise `GenerationStopped` if `should_stop`
        turned true before the end. With `image`, animate that picture (image to video; the
        last frame of a clip to extend it), or raise `GenerationFailed` saying why not."""
        ...

    def close(self) -> None:
        """Free what the model holds (memory, devices)."""
        ...


class PreviewingBackend(Backend, Protocol):
    """A backend that can show the clip forming, every few steps (diffusers pipelines, with
    a preset's `preview_every_steps`)."""

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop,
                 image: Image | None = None, on_preview: OnPreview | None = None) -> Frames:
        """`Backend.generate`, calling `on_preview` every few steps."""
        ...


def renders_previews(backend: Backend) -> TypeGuard[PreviewingBackend]:
    """Whether `backend` makes previews (its preset asked for them and its family can)."""
    return getattr(backend, "renders_previews", False) is True
