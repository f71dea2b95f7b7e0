"""A frame-level judge that needs no learned model: what colour is the object, how does it
move, what shape is it — measured from the pixels against the plain background.

The background is the median colour of each frame's border; object pixels are those far
from it. Colour: the median object pixel, matched to the nearest palette colour. Motion:
the object's area over time (growing/shrinking) or else its centroid track (left, right,
up, down, or still). Shape: geometry of the object's mask in its largest whole frame, strict
enough to tell a crisp shape from a blob (`geometry.py`): a square fills its bounding box
up to the corners, a triangle has its apex on top and a base spanning the box with straight
sides between, a circle's rows follow a circle's chords.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from generator.backends.demo.data import PALETTE
from generator.backends.demo.geometry import geometric_shape, touches_border

_DIFF = 80.0  # summed |RGB difference| that marks a pixel as object, not background
_MOVE = 5.0  # pixels of net travel (at 64x64) below which an object counts as still
_GROW = 1.6  # ratio of last to first area that counts as growing (or its inverse shrinking)


@dataclass(frozen=True)
class Verdict:
    """What the checker saw in one clip; fields are '' when nothing could be seen (shape:
    also when the object is no crisp circle, square or triangle)."""

    colour: str
    motion: str
    shape: str


def _area_weights(size: int, out: int) -> np.ndarray:
    """(out, size) weights averaging each output pixel's span of input pixels."""
    edges = np.arange(out + 1) * size / out
    starts, ends = edges[:-1, None], edges[1:, None]
    pixels = np.arange(size)[None, :]
    overlap = np.clip(np.minimum(ends, pixels + 1) - np.maximum(starts, pixels), 0, None)
    return np.asarray(overlap / overlap.sum(1, keepdims=True))


def area_resize(frames: npt.NDArray[np.uint8], size: int = 64) -> np.ndarray:
    """Frames (T, H, W, 3) -> float (T, size, size, 3), each pixel the average of the area
    it covers (so an upscaled clip comes back as it was, without a half-pixel shift)."""
    t, h, w, c = frames.shape
    pixels = frames.astype(np.float32)
    if h % size == 0 and w % size == 0:  # whole blocks (and 64x64 itself): a plain mean
        return np.asarray(pixels.reshape(t, size, h // size, size, w // size, c).mean((2, 4)))
    tall = np.tensordot(_area_weights(h, size), pixels, axes=(1, 1))  # (size, t, w, c)
    wide = np.tensordot(tall, _area_weights(w, size), axes=(2, 1))  # (size, t, c, size)
    return np.asarray(wide.transpose(1, 0, 3, 2))


def border_background(clip: np.ndarray) -> np.ndarray:
    """The median colour (T, 3) of each frame's one-pixel border, frames (T, H, W, 3)."""
    border = np.concatenate(
        [clip[:, 0], clip[:, -1], clip[:, :, 0], clip[:, :, -1]], axis=1
    )  # (T, 2H + 2W, 3)
    return np.asarray(np.median(border, axis=1))


def object_masks(frames: npt.NDArray[np.uint8]) -> tuple[np.ndarray, np.ndarray]:
    """Object masks (T, 64, 64) and the 64x64 frames they were found in (float)."""
    clip = area_resize(frames)
    diff = np.abs(clip - border_background(clip)[:, None, None, :]).sum(-1)
    return diff > _DIFF, clip


def nearest_colour(rgb: np.ndarray) -> tuple[str, float]:
    """The palette colour nearest to `rgb` (least squared distance) and its summed |RGB
    difference| to it."""
    name = min(PALETTE, key=lambda n: float(np.sum((rgb - np.array(PALETTE[n])) ** 2)))
    return name, float(np.abs(rgb - np.array(PALETTE[name])).sum())


def _motion(masks: np.ndarray) -> str:
    areas = masks.sum((1, 2)).astype(np.float64)
    # Growth is read from the frames where the object is whole: one that leaves the
    # frame loses area without shrinking.
    whole = areas[[not touches_border(m) for m in masks] & (areas > 0)]
    if len(whole) >= 2:
        k = max(1, len(whole) // 4)
        first, last = whole[:k].mean(), whole[-k:].mean()
        if last > _GROW * first:
            return "growing"
        if first > _GROW * last:
            return "shrinking"
    ys, xs = np.mgrid[0:64, 0:64]
    seen = areas > 0
    cx = (masks * xs).sum((1, 2))[seen] / areas[seen]
    cy = (masks * ys).sum((1, 2))[seen] / areas[seen]
    k = max(1, len(cx) // 4)
    dx, dy = cx[-k:].mean() - cx[:k].mean(), cy[-k:].mean() - cy[:k].mean()
    if max(abs(dx), abs(dy)) < _MOVE:
        return "still"
    if abs(dx) >= abs(dy):
        return "right" if dx > 0 else "left"
    return "down" if dy > 0 else "up"


def largest_whole(masks: np.ndarray) -> np.ndarray:
    """The mask of the frame where the object is largest without touching the border (or
    the largest of all when it always touches it)."""
    areas = masks.sum((1, 2))
    whole = np.array([not touches_border(m) for m in masks]) & (areas > 0)
    pool = np.flatnonzero(whole) if whole.any() else np.arange(len(masks))
    return np.asarray(masks[pool[int(np.argmax(areas[pool]))]])


def judge(frames: npt.NDArray[np.uint8]) -> Verdict:
    """Colour, motion and shape of the object in `frames` (uint8 (T, H, W, 3))."""
    masks, clip = object_masks(frames)
    if masks.sum() < 4 * len(masks):
        return Verdict("", "", "")
    colour = nearest_colour(np.median(clip[masks], axis=0))[0]
    return Verdict(colour, _motion(masks), geometric_shape(largest_whole(masks)))
