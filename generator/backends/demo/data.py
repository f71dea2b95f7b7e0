"""Procedural captioned clips: one shape on a plain dark background, moving one way.

A clip is fully described by its `ClipSpec`: the three words that matter (shape, colour,
motion) and a four-number *layout* in [0, 1) (position along and across the motion, speed,
size). `render` turns specs into frames; `sample_specs` draws specs and captions from a
seed, so the same seed always gives the same batch. `HELD_OUT` lists the (shape, colour,
motion) combinations that training never sees, to measure generalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SIZE = 64
FRAMES = 16
LAYOUT_DIMS = 4
BACKGROUND = (16, 16, 24)

SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue", "yellow", "purple", "orange", "white")
MOTIONS = ("left", "right", "up", "down", "growing", "shrinking", "still")

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (40, 200, 60),
    "blue": (40, 80, 235),
    "yellow": (235, 220, 40),
    "purple": (150, 50, 200),
    "orange": (245, 140, 20),
    "white": (240, 240, 240),
}

Combo = tuple[str, str, str]


def _held_out() -> tuple[Combo, ...]:
    # 21 of the 147 combinations (one in seven). Shape k with colour c gets motion
    # (c + 2k + 3) mod 7, so every shape, colour and motion is held out a few times, yet every
    # pair of them (shape+colour, colour+motion, shape+motion) still occurs in training.
    return tuple(
        (SHAPES[k], COLOURS[c], MOTIONS[(c + 2 * k + 3) % 7]) for k in range(3) for c in range(7)
    )


#: (shape, colour, motion) combinations never used for training.
HELD_OUT: tuple[Combo, ...] = _held_out()
ALL_COMBOS: tuple[Combo, ...] = tuple((s, c, m) for s in SHAPES for c in COLOURS for m in MOTIONS)
TRAIN_COMBOS: tuple[Combo, ...] = tuple(c for c in ALL_COMBOS if c not in set(HELD_OUT))


@dataclass(frozen=True)
class ClipSpec:
    """Everything that determines one clip's pixels."""

    shape: str
    colour: str
    motion: str
    layout: tuple[float, float, float, float]

    @property
    def labels(self) -> tuple[int, int, int]:
        """Class indices of (shape, colour, motion)."""
        return SHAPES.index(self.shape), COLOURS.index(self.colour), MOTIONS.index(self.motion)


def trajectory(motion: str, layout: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, centre y and half-size per frame (each shape (FRAMES,)) of one clip.

    The layout's four numbers mean: position along the motion, position across it, speed
    (or growth rate), and size. Every layout keeps the whole object inside the frame.
    """
    along, across, speed, size = (float(v) for v in np.asarray(layout, dtype=np.float64))
    t = np.arange(FRAMES, dtype=np.float64) / (FRAMES - 1)
    if motion in ("growing", "shrinking"):
        small, big = 4.0 + 3.0 * size, 12.0 + 5.0 * speed
        half = small + (big - small) * (t if motion == "growing" else 1.0 - t)
        x = np.full(FRAMES, big + 1 + along * (SIZE - 2 * big - 2))
        y = np.full(FRAMES, big + 1 + across * (SIZE - 2 * big - 2))
        return x, y, half
    half = np.full(FRAMES, 6.0 + 6.0 * size)
    lo, hi = half[0] + 1, SIZE - half[0] - 1
    cross = lo + across * (hi - lo)
    if motion == "still":
        return np.full(FRAMES, lo + along * (hi - lo)), np.full(FRAMES, cross), half
    travel = min(18.0 + 16.0 * speed, hi - lo)
    start = lo + along * (hi - lo - travel)
    pos = start + travel * t
    if motion in ("left", "up"):
        pos = hi - (pos - lo)
    if motion in ("left", "right"):
        return pos, np.full(FRAMES, cross), half
    return np.full(FRAMES, cross), pos, half


def track(spec: ClipSpec) -> np.ndarray:
    """(FRAMES, 3): centre x and y as fractions of the frame, half-size as a fraction of
    half the frame; what the generator's dynamics must reproduce."""
    x, y, half = trajectory(spec.motion, spec.layout)
    return np.stack([x / SIZE, y / SIZE, half / (SIZE / 2)], 1)


def shape_masks(
    shape: str, x: np.ndarray, y: np.ndarray, half: np.ndarray, size: int = SIZE
) -> np.ndarray:
    """Boolean masks (len(x), size, size) of `shape` at each centre and half-size (pixels)."""
    grid = np.arange(size, dtype=np.float64) + 0.5
    dx = grid[None, None, :] - x[:, None, None]
    dy = grid[None, :, None] - y[:, None, None]
    r = half[:, None, None]
    if shape == "circle":
        return np.asarray(dx**2 + dy**2 <= r**2)
    if shape == "square":
        side = 0.85 * r
        return np.asarray((np.abs(dx) <= side) & (np.abs(dy) <= side))
    # An upright isosceles triangle: apex at the top, base at the bottom.
    rel = (dy + r) / (2 * r)
    return np.asarray((rel >= 0) & (rel <= 1) & (np.abs(dx) <= r * rel))


def paint(
    shape: str, colour: str, track_px: tuple[np.ndarray, np.ndarray, np.ndarray],
    background: tuple[int, int, int] = BACKGROUND,
) -> npt.NDArray[np.uint8]:
    """Frames uint8 (len(x), SIZE, SIZE, 3) of one `colour` `shape` following `track_px`
    (centre x, centre y, half-size per frame, in pixels) on a plain `background`."""
    mask = shape_masks(shape, *track_px)
    clip = np.empty((len(mask), SIZE, SIZE, 3), dtype=np.uint8)
    clip[:] = background
    clip[mask] = PALETTE[colour]
    return clip


def render(spec: ClipSpec) -> npt.NDArray[np.uint8]:
    """The frames of `spec`: uint8 (FRAMES, SIZE, SIZE, 3), RGB."""
    return paint(spec.shape, spec.colour, trajectory(spec.motion, spec.layout))


def sample_specs(
    rng: np.random.Generator, count: int, combos: tuple[Combo, ...] = TRAIN_COMBOS
) -> list[ClipSpec]:
    """`count` specs with combinations drawn uniformly from `combos` and random layouts."""
    picks = rng.integers(0, len(combos), size=count)
    layouts = rng.random((count, LAYOUT_DIMS))
    return [
        ClipSpec(*combos[int(i)], layout=(float(a), float(b), float(c), float(d)))
        for i, (a, b, c, d) in zip(picks, layouts, strict=True)
    ]
