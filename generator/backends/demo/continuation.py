"""Extending a clip: where its object ended up and how it was moving, read from its frames.

`/extend` renders "from the last frame, then concatenates". `continue_from(frames)` gives
what that render needs: the last frame (the picture to start from) and the object's state
at that frame, including how far it moved and grew over the clip, so that the continuation
keeps its speed. The state is read from the frames of the clip's second half where the
object is whole (not touching the edge), with a straight line fitted through its centre
and size over time, and carried on to the last frame (where it may already be leaving the
picture).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from generator.backends.base import Frames, GenerationFailed, Image
from generator.backends.demo.checker import object_masks
from generator.backends.demo.data import SIZE
from generator.backends.demo.geometry import touches_border
from generator.backends.demo.picture import ObjectState, read_picture
from generator.backends.demo.reader import PictureReader

NOTHING_TO_CONTINUE = "the end of this clip shows no whole shape to continue from"


@dataclass(frozen=True)
class Continuation:
    """What a continuation starts from: the clip's last frame and its object's state."""

    image: Image
    state: ObjectState


def _whole_frames(frames: Frames) -> list[int]:
    """Indices of the frames of the clip's second half whose object is whole (seen, not
    touching the edge)."""
    first = len(frames) // 2
    masks, _ = object_masks(frames[first:])
    return [first + i for i, m in enumerate(masks) if m.sum() >= 4 and not touches_border(m)]


def _try_read(frame: Image, reader: PictureReader) -> ObjectState | None:
    try:
        return read_picture(frame, reader)
    except GenerationFailed:
        return None


def continue_from(frames: Frames, reader: PictureReader) -> Continuation:
    """The last frame of `frames` (uint8 (T, H, W, 3)) and the state of its object there,
    or `GenerationFailed` when the clip's end shows no object that can be continued."""
    read = [(i, s) for i in _whole_frames(frames)
            if (s := _try_read(frames[i], reader)) is not None]
    if not read:
        raise GenerationFailed(NOTHING_TO_CONTINUE)
    whole = np.array([i for i, _ in read], dtype=np.float64)
    states = [s for _, s in read]
    last = len(frames) - 1
    if len(states) < 2:
        return Continuation(frames[-1], replace(states[-1], change_per_clip=None))
    track = np.array([[s.x, s.y, s.half] for s in states])
    slope, intercept = np.polyfit(whole, track, 1)
    x, y, half = slope * last + intercept
    if not (0 <= x <= SIZE and 0 <= y <= SIZE and half > 0):  # it has left by the end
        raise GenerationFailed(NOTHING_TO_CONTINUE)
    change = slope * last  # over the clip: its frames span `last` steps
    return Continuation(frames[-1], replace(
        states[-1], x=float(x), y=float(y), half=float(half),
        change_per_clip=(float(change[0]), float(change[1]), float(change[2]))))
