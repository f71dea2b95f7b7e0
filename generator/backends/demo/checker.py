"""A frame-level judge that needs no learned model: what colour is the object, how does it
move, what shape is it — measured from the pixels against the plain background.

The background is the median colour of each frame's border; object pixels are those far
from it. Colour: the median object pixel, matched to the nearest palette colour. Motion:
the object's area over time (growing/shrinking) or else its centroid track (left, right,
up, down, or still). Shape: how much of its bounding box the object fills (a square fills
it, a circle about 79 %, a triangle half).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from generator.backends.demo.data import PALETTE

_DIFF = 80.0  # summed |RGB difference| that marks a pixel as object, not background
_MOVE = 5.0  # pixels of net travel (at 64x64) below which an object counts as still
_GROW = 1.6  # ratio of last to first area that counts as growing (or its inverse shrinking)


@dataclass(frozen=True)
class Verdict:
    """What the checker saw in one clip; fields are '' when nothing could be seen."""

    colour: str
    motion: str
    shape: str


def _resize64(frames: npt.NDArray[np.uint8]) -> np.ndarray:
    _, h, w, _ = frames.shape
    rows = (np.arange(64) * h // 64).clip(0, h - 1)
    cols = (np.arange(64) * w // 64).clip(0, w - 1)
    return frames[:, rows][:, :, cols].astype(np.float64)


def object_masks(frames: npt.NDArray[np.uint8]) -> tuple[np.ndarray, np.ndarray]:
    """Object masks (T, 64, 64) and the 64x64 frames they were found in (float)."""
    clip = _resize64(frames)
    border = np.concatenate(
        [clip[:, 0], clip[:, -1], clip[:, :, 0], clip[:, :, -1]], axis=1
    )  # (T, 4*64, 3)
    background = np.median(border, axis=1)
    diff = np.abs(clip - background[:, None, None, :]).sum(-1)
    return diff > _DIFF, clip


def _colour(pixels: np.ndarray) -> str:
    mean = np.median(pixels, axis=0)
    names = list(PALETTE)
    dists = [float(np.sum((mean - np.array(PALETTE[n])) ** 2)) for n in names]
    return names[int(np.argmin(dists))]


def _motion(masks: np.ndarray) -> str:
    areas = masks.sum((1, 2)).astype(np.float64)
    k = max(1, len(areas) // 4)
    first, last = areas[:k].mean(), areas[-k:].mean()
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


def _shape(masks: np.ndarray) -> str:
    frame = masks[int(np.argmax(masks.sum((1, 2))))]
    ys, xs = np.nonzero(frame)
    box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
    fill = len(ys) / box
    if fill > 0.9:
        return "square"
    return "circle" if fill > 0.64 else "triangle"


def judge(frames: npt.NDArray[np.uint8]) -> Verdict:
    """Colour, motion and shape of the object in `frames` (uint8 (T, H, W, 3))."""
    masks, clip = object_masks(frames)
    if masks.sum() < 4 * len(masks):
        return Verdict("", "", "")
    return Verdict(_colour(clip[masks]), _motion(masks), _shape(masks))
