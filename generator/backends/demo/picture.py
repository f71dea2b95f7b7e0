"""Reading a picture for image to video: one known shape on a plain background, or a clear
refusal that says what the demo model can animate.

The pixels are checked first (a plain background, exactly one object, whole, of one plain
colour near a known one); the picture reader then names its shape and colour; where the
object stands and how big it is are measured from its pixels for that shape; last, the shape
named, drawn there, must cover what the pixels show (so a star, a hand-drawn blob or a
tilted triangle is refused, not guessed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from generator.backends.base import GenerationFailed, Image
from generator.backends.demo.checker import area_resize, nearest_colour
from generator.backends.demo.data import COLOURS, SHAPES, SIZE, shape_masks
from generator.backends.demo.geometry import measure, touches_border
from generator.backends.demo.model import N_CLASSES
from generator.backends.demo.reader import PictureReader
from generator.backends.demo.regions import components, dilate, erode

Rgb = tuple[int, int, int]
_OBJECT = 80.0  # summed |RGB difference| from the background that marks an object pixel
_PLAIN = 48.0  # summed |RGB difference| within which a pixel counts as background
_SPECKS = 12  # object pixels outside the one object that a plain picture may have
_KNOWN_COLOUR = 90.0  # summed |RGB difference| from a palette colour still read as it
_FITS = 0.82  # overlap (IoU) of the pixels with the shape read, below which it is refused
_HALF = (3.0, 24.0)  # half-sizes (pixels at 64x64) the demo model can animate


@dataclass(frozen=True)
class ObjectState:
    """The object a clip starts from: what it is, where it stands and how big it is (pixels
    of the 64x64 frame), its background, and (continuing a clip) how far it moved over the
    previous clip: (x, y, half-size) change in pixels, or None when not known."""

    shape: str
    colour: str
    x: float
    y: float
    half: float
    background: Rgb
    change_per_clip: tuple[float, float, float] | None = None


def unreadable(problem: str) -> GenerationFailed:
    """The refusal of a picture, naming its `problem` and what the model can animate."""
    return GenerationFailed(
        f"the demo model cannot read this picture ({problem}); it animates one circle, "
        f"square or triangle in {', '.join(COLOURS[:-1])} or {COLOURS[-1]} on a plain "
        "background")


def to_model_size(image: Image) -> np.ndarray:
    """Any picture (H, W, 3) uint8 -> (64, 64, 3) float in 0..255, area-averaged."""
    return np.asarray(area_resize(image[None], SIZE)[0])


def plain_background(small: np.ndarray) -> Rgb:
    """The colour of the picture's one-pixel border, or a refusal if it is not plain."""
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    colour = np.median(border, axis=0)
    if (np.abs(border - colour).sum(1) <= _PLAIN).mean() < 0.9:
        raise unreadable("its background is not one plain colour")
    return int(colour[0]), int(colour[1]), int(colour[2])


def the_object(small: np.ndarray, background: Rgb) -> np.ndarray:
    """The mask (64, 64) of the picture's one object, or a refusal naming what is wrong."""
    diff = np.abs(small - np.array(background)).sum(-1)
    if ((diff > _PLAIN) & (diff <= _OBJECT)).mean() > 0.25:
        raise unreadable("its background is not one plain colour")
    parts = components(diff > _OBJECT)
    objects = [p for p in parts if p.sum() >= 4]
    if sum(int(p.sum()) for p in parts if p.sum() < 4) > _SPECKS:
        raise unreadable("its background is not one plain colour")
    if not objects:
        raise unreadable("it shows no shape")
    if len(objects) > 1:
        raise unreadable("it shows more than one shape")
    if touches_border(objects[0]):
        raise unreadable("the shape is cut off by the picture's edge")
    return objects[0]


def object_colour(small: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The colour (3,) of the object's inner pixels if it is one plain known colour, or a
    refusal."""
    inner = mask
    for _ in range(2):  # away from the edge, whose pixels blend into the background
        if erode(inner).sum() >= 4:
            inner = erode(inner)
    pixels = small[inner]
    median = np.median(pixels, axis=0)
    if (np.abs(pixels - median).sum(1) <= _PLAIN).mean() < 0.9:
        raise unreadable("the shape is not one plain colour")
    if nearest_colour(median)[1] > _KNOWN_COLOUR:
        raise unreadable("the shape's colour is not one the model knows")
    return np.asarray(median)


def coverage(small: np.ndarray, mask: np.ndarray, background: Rgb,
             colour: np.ndarray) -> np.ndarray:
    """How much of each pixel (64, 64) the object covers, 0 to 1: each pixel near the
    object projected on the line from the background's colour to the object's."""
    back = np.array(background, np.float64)
    towards = colour - back
    share = ((small - back) @ towards) / max(float(towards @ towards), 1.0)
    return np.asarray(np.clip(share, 0, 1) * dilate(mask))


def fitting_shape(
    logits: torch.Tensor, seen: np.ndarray, mask: np.ndarray
) -> tuple[str, tuple[float, float, float]]:
    """The likeliest shape (by the reader's `logits`) that, measured from the object's
    coverage `seen` and drawn there, covers the object's `mask`; or a refusal."""
    for index in logits.argsort(descending=True).tolist():
        where = measure(seen, SHAPES[index])
        x, y, half = (np.array([v]) for v in where)
        drawn = shape_masks(SHAPES[index], x, y, half)[0]
        if (drawn & mask).sum() / max((drawn | mask).sum(), 1) >= _FITS:
            return SHAPES[index], where
    raise unreadable("the shape is not a circle, a square or an upright triangle")


@torch.inference_mode()
def read_picture(image: Image, reader: PictureReader) -> ObjectState:
    """The one object of a picture (uint8 (H, W, 3), any size), or `GenerationFailed`
    saying why the picture cannot be animated."""
    small = to_model_size(image)
    background = plain_background(small)
    mask = the_object(small, background)
    seen = coverage(small, mask, background, object_colour(small, mask))
    logits = reader(torch.from_numpy(small).permute(2, 0, 1)[None].float() / 255.0)
    shapes, colours = logits[0].split(list(N_CLASSES[:2]))
    shape, (x, y, half) = fitting_shape(shapes, seen, mask)
    if not _HALF[0] <= half <= _HALF[1]:
        raise unreadable("the shape is too small" if half < _HALF[0] else "the shape is too big")
    return ObjectState(shape, COLOURS[int(colours.argmax())], x, y, half, background)
