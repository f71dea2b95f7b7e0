"""Pictures for checking image to video (the bench and the tests): unseen pictures of one
object that the model must animate, and pictures it must refuse."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from generator.backends.demo import anchored, data
from generator.backends.demo.batches import picture_prompt

Picture = npt.NDArray[np.uint8]


def picture_spec(
    rng: np.random.Generator, combo: data.Combo, speed: float, half: tuple[float, float] = (5, 12)
) -> anchored.AnchoredSpec:
    """A fresh picture of `combo`'s object, whole, at a random place and size (`half`
    pixels), on the dark or a random plain background, to be animated at `speed`."""
    shape, colour, motion = combo
    h = float(rng.uniform(*half))
    x, y = (float(v) for v in rng.uniform(h + 1, data.SIZE - h - 1, 2))
    return anchored.AnchoredSpec(shape, colour, motion, (x, y, h), speed,
                                 anchored.random_background(rng, colour))


def picture_of(spec: anchored.AnchoredSpec) -> Picture:
    """The picture (64, 64, 3) of a spec: its clip's first frame."""
    return anchored.render_anchored(spec)[0]


def prompt_for(rng: np.random.Generator, spec: anchored.AnchoredSpec) -> str:
    """A prompt for animating `spec`: its motion alone, or a full caption whose shape and
    colour are random (often not the picture's)."""
    return picture_prompt(rng, spec)[0]


def upscale(picture: Picture, size: int) -> Picture:
    """`picture` enlarged to size x size by repeating pixels (as a user's drawing may be)."""
    rows = np.arange(size) * picture.shape[0] // size
    cols = np.arange(size) * picture.shape[1] // size
    return np.ascontiguousarray(picture[rows][:, cols])


def photograph(rng: np.random.Generator, size: int = 128) -> Picture:
    """A photograph-like scene: a sky gradient, textured ground, soft blobs, sensor noise."""
    ys, xs = np.mgrid[0:size, 0:size] / size
    sky = np.stack([120 + 60 * ys, 160 + 50 * ys, 230 - 30 * ys], -1)
    ground = np.stack([70 + 40 * xs, 110 + 30 * np.sin(9 * xs + 4 * ys), 50 + 20 * ys], -1)
    horizon = 0.45 + 0.1 * np.sin(5 * xs + rng.uniform(0, 6))
    image = np.where((ys > horizon)[..., None], ground, sky)
    for _ in range(6):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.2)
        blob = np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / r**2)[..., None]
        image = image * (1 - blob) + rng.uniform(0, 255, 3) * blob
    image = image + rng.normal(0, 12, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def noise(rng: np.random.Generator, size: int = 64) -> Picture:
    """Uniform random pixels."""
    return rng.integers(0, 256, (size, size, 3), dtype=np.uint8)


def two_shapes(rng: np.random.Generator) -> Picture:
    """Two known shapes, apart, on the dark background."""
    first, second = rng.choice(len(data.COLOURS), 2, replace=False)
    picture = np.empty((data.SIZE, data.SIZE, 3), np.uint8)
    picture[:] = data.BACKGROUND
    for colour, x in ((first, 16.0), (second, 46.0)):
        shape = data.SHAPES[int(rng.integers(3))]
        mask = data.shape_masks(shape, np.array([x]), np.array([32.0]), np.array([8.0]))[0]
        picture[mask] = data.PALETTE[data.COLOURS[int(colour)]]
    return picture


def empty(rng: np.random.Generator) -> Picture:
    """A plain picture with nothing on it, in a random colour."""
    picture = np.empty((data.SIZE, data.SIZE, 3), np.uint8)
    picture[:] = rng.integers(0, 256, 3)
    return picture


def cut_off(rng: np.random.Generator) -> Picture:
    """A known shape half outside the picture."""
    spec = anchored.AnchoredSpec(data.SHAPES[int(rng.integers(3))], "red", "still",
                                 (2.0, 32.0, 10.0), 0.0)
    return picture_of(spec)


#: Pictures the demo model must refuse, by kind.
UNREADABLE: dict[str, Callable[[np.random.Generator], Picture]] = {
    "photograph": photograph, "noise": noise, "two shapes": two_shapes, "empty": empty,
    "cut off": cut_off,
}
