"""Rendering an extension (/extend): the source clip's frames read back (its file, or its
bytes in the database on PostgreSQL), continued from its last frame, and joined into ONE
clip, the original followed by the continuation.

A backend that can read a clip's motion (the demo model's `continue_from`) carries it on;
any other backend that takes a picture (the image-to-video families) animates the last
frame. The continuation opens on that last frame, so its first frame is dropped: no frame
shows twice.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Protocol, TypeGuard

import av
import numpy as np

from generator.backends.base import (
    Backend,
    Frames,
    GenerationFailed,
    Image,
    OnStep,
    ShouldStop,
)
from storage.store import Store
from videobot.media.frames import decode_frames, read_frames
from videobot.params import RenderRequest


def source_gone(job_id: int) -> str:
    """Why an extension cannot render: its source's clip is gone (the user is told)."""
    return f"the clip of job #{job_id}, which this job extends, is no longer stored"


def source_unreadable(job_id: int) -> str:
    return f"the clip of job #{job_id}, which this job extends, cannot be read"


class ClipStart(Protocol):
    """Where a continuation starts: the last frame, and the backend's own reading of it."""

    image: Image
    state: Any


class ContinuingBackend(Protocol):
    """A backend that reads how a clip moves and carries it on (the demo model)."""

    def continue_from(self, frames: Frames) -> ClipStart:
        """The clip's last frame and the state its continuation starts from."""
        ...

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop,
                 image: Image | None = None, *, state: Any = None) -> Frames:
        """`Backend.generate`, from a `state` read by `continue_from`."""
        ...


def continues_clips(backend: Backend) -> TypeGuard[ContinuingBackend]:
    """Whether `backend` carries a clip's motion on (else it animates the last frame)."""
    return callable(getattr(backend, "continue_from", None))


async def read_source(store: Store, job_id: int) -> Frames:
    """The frames of job `job_id`'s clip, or `GenerationFailed` saying it is gone."""
    source = await store.jobs.get(job_id)
    if source is None or source.clip is None:
        raise GenerationFailed(source_gone(job_id))
    try:
        if source.clip.in_database:
            stored = await store.jobs.clip_data(job_id)
            if stored is None:
                raise GenerationFailed(source_gone(job_id))
            return await asyncio.to_thread(decode_frames, stored[0])
        return await asyncio.to_thread(_read_file, source.clip.video_path, job_id)
    except (av.error.FFmpegError, ValueError):  # damaged, or no frame in it
        raise GenerationFailed(source_unreadable(job_id)) from None


def _read_file(path: Path, job_id: int) -> Frames:
    if not path.is_file():
        raise GenerationFailed(source_gone(job_id))
    return read_frames(path)


def render_extension(backend: Backend, request: RenderRequest, source: Frames,
                     on_step: OnStep, should_stop: ShouldStop, **extra: Any) -> Frames:
    """The source clip followed by its continuation, rendered by `backend` for `request`
    (`extra`: the worker's other keyword arguments, e.g. `on_preview`)."""
    if source.shape[1:3] != (request.height, request.width):
        raise GenerationFailed(
            f"the clip to extend is {source.shape[2]}x{source.shape[1]}, not the "
            f"{request.width}x{request.height} this job renders at")
    if continues_clips(backend):
        start = backend.continue_from(source)
        continuation = backend.generate(request, on_step, should_stop, image=start.image,
                                        state=start.state, **extra)
    else:
        last = np.ascontiguousarray(source[-1])
        continuation = backend.generate(request, on_step, should_stop, image=last, **extra)
    return joined(source, continuation)


def joined(source: Frames, continuation: Frames) -> Frames:
    """One clip: `source`, then `continuation` without its first frame (the source's last)."""
    return np.ascontiguousarray(np.concatenate([source, continuation[1:]]))
