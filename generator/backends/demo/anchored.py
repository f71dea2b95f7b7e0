"""Procedural clips that start from a picture: the image-to-video half of the data.

An `AnchoredSpec` names the object (shape, colour), where it stands in the first frame (its
centre and half-size in pixels of the 64x64 frame), the motion with a speed in [0, 1], and
the plain background it stands on. Unlike the text-only layouts, nothing keeps the object
in frame: a ball near the right edge that moves right leaves the picture, as it would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from generator.backends.demo.data import (
    BACKGROUND,
    COLOURS,
    FRAMES,
    MOTIONS,
    PALETTE,
    SHAPES,
    SIZE,
    TRAIN_COMBOS,
    Combo,
    paint,
)

#: Travel of a move over one clip (pixels) at speed 0 and at speed 1.
TRAVEL = (8.0, 40.0)
#: Change of half-size over one clip (pixels) when growing or shrinking, at speed 0 and 1.
GROWTH = (3.0, 15.0)
#: A shrinking object stops shrinking at this half-size (pixels).
MIN_HALF = 2.5
#: Half-sizes (pixels) of the objects in the pictures training shows.
START_HALF = (4.0, 18.0)
#: Direction of each move: (x, y) per unit of travel; image y grows downwards.
DIRECTIONS = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}

Rgb = tuple[int, int, int]


@dataclass(frozen=True)
class AnchoredSpec:
    """Everything that determines the pixels of a clip that starts from a picture."""

    shape: str
    colour: str
    motion: str
    start: tuple[float, float, float]  # centre x, centre y, half-size (pixels, frame 0)
    speed: float
    background: Rgb = BACKGROUND

    @property
    def labels(self) -> tuple[int, int, int]:
        """Class indices of (shape, colour, motion)."""
        return SHAPES.index(self.shape), COLOURS.index(self.colour), MOTIONS.index(self.motion)


def change_per_clip(motion: str, speed: float, half: float) -> float:
    """How far (pixels) an object of half-size `half` moves or grows over one clip."""
    if motion in DIRECTIONS:
        return TRAVEL[0] + (TRAVEL[1] - TRAVEL[0]) * speed
    if motion == "still":
        return 0.0
    growth = GROWTH[0] + (GROWTH[1] - GROWTH[0]) * speed
    return growth if motion == "growing" else min(growth, max(half - MIN_HALF, 0.0))


def anchored_trajectory(
    motion: str, start: tuple[float, float, float], speed: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre x, centre y and half-size per frame (pixels) of a clip starting at `start`."""
    x0, y0, h0 = start
    t = np.arange(FRAMES, dtype=np.float64) / (FRAMES - 1)
    change = change_per_clip(motion, speed, h0) * t
    dx, dy = DIRECTIONS.get(motion, (0.0, 0.0))
    dh = {"growing": 1.0, "shrinking": -1.0}.get(motion, 0.0)
    return x0 + dx * change, y0 + dy * change, h0 + dh * change


def anchored_track(spec: AnchoredSpec) -> np.ndarray:
    """(FRAMES, 3) in the units of `data.track`: centre as fractions of the frame,
    half-size as a fraction of half the frame."""
    x, y, half = anchored_trajectory(spec.motion, spec.start, spec.speed)
    return np.stack([x / SIZE, y / SIZE, half / (SIZE / 2)], 1)


def render_anchored(spec: AnchoredSpec) -> npt.NDArray[np.uint8]:
    """The frames of `spec`: uint8 (FRAMES, SIZE, SIZE, 3), RGB; frame 0 is the picture."""
    track = anchored_trajectory(spec.motion, spec.start, spec.speed)
    return paint(spec.shape, spec.colour, track, spec.background)


def random_background(rng: np.random.Generator, colour: str) -> Rgb:
    """The usual dark background half the time, else a random plain colour that stands
    well apart from the object's `colour`."""
    if rng.random() < 0.5:
        return BACKGROUND
    while True:
        rgb = rng.integers(0, 256, 3)
        if np.abs(rgb - np.array(PALETTE[colour])).sum() >= 240:
            return int(rgb[0]), int(rgb[1]), int(rgb[2])


def random_start(rng: np.random.Generator, at_edge: bool) -> tuple[float, float, float]:
    """A centre and half-size: the whole object in frame, or (`at_edge`) only its centre,
    as in the last frame of a clip whose object is leaving."""
    half = float(rng.uniform(*START_HALF))
    margin = 2.0 if at_edge else half + 1
    x, y = rng.uniform(margin, SIZE - margin, 2)
    return float(x), float(y), half


def sample_anchored(
    rng: np.random.Generator, count: int, combos: tuple[Combo, ...] = TRAIN_COMBOS,
    edge_share: float = 0.15,
) -> list[AnchoredSpec]:
    """`count` specs with combinations drawn uniformly from `combos`, random starts,
    speeds and backgrounds (`edge_share` of them start with the object partly outside)."""
    specs = []
    for pick in rng.integers(0, len(combos), size=count):
        shape, colour, motion = combos[int(pick)]
        start = random_start(rng, at_edge=bool(rng.random() < edge_share))
        specs.append(AnchoredSpec(shape, colour, motion, start, float(rng.random()),
                                  random_background(rng, colour)))
    return specs


def speed_for_change(motion: str, change: tuple[float, float, float]) -> float | None:
    """The speed in [0, 1] at which `motion` goes on as fast as an object that moved or
    grew by `change` (x, y, half-size pixels) over a clip; None if it did not go that way."""
    dx, dy, dh = change
    if motion in DIRECTIONS:
        ux, uy = DIRECTIONS[motion]
        along, (low, high) = dx * ux + dy * uy, TRAVEL
    elif motion in ("growing", "shrinking"):
        along, (low, high) = (dh if motion == "growing" else -dh), GROWTH
    else:
        return None
    if along < 2.0:  # pixels over a clip: it was not going that way
        return None
    return float(np.clip((along - low) / (high - low), 0.0, 1.0))
