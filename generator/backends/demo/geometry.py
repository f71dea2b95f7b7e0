"""Strict geometric tests of an object's mask: is it a crisp square, triangle or circle?

Each test looks at the mask inside its bounding box, never at a learned model:

- a square is as tall as it is wide, fills its box, and its four corners are filled (a
  corner rounded by more than about a pixel fails);
- a triangle (upright, as the data draws it) widens linearly from a sharp apex at the top,
  centred, to a base that spans the box, with both bottom vertices present;
- a circle is as tall as it is wide, its rows follow a circle's chords, and the box's
  corners are empty.

A blob that is none of these crisply is no shape at all ('').
"""

from __future__ import annotations

import numpy as np

#: Allowed height / width of the bounding box of a square or a circle, and of a triangle.
_ROUND_ASPECT = (0.8, 1.25)
_TRIANGLE_ASPECT = (0.75, 1.35)


def touches_border(mask: np.ndarray) -> bool:
    """Whether the object reaches the frame's edge (so it may be cut off)."""
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def _crop(mask: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    return np.asarray(mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


def _aspect_within(crop: np.ndarray, bounds: tuple[float, float]) -> bool:
    h, w = crop.shape
    return bounds[0] <= h / w <= bounds[1]


def _without_spurs(crop: np.ndarray) -> np.ndarray:
    """`crop` less a first or last row or column holding at most a tenth of the box (a
    pixel standing out of a straight edge where anti-aliasing met the threshold)."""
    for _ in range(2):
        for axis in (0, 1):
            counts = crop.sum(1 - axis)
            limit = max(1, crop.shape[1 - axis] // 10)
            start = 1 if counts[0] <= limit else 0
            stop = len(counts) - (1 if counts[-1] <= limit else 0)
            crop = crop[start:stop] if axis == 0 else crop[:, start:stop]
    return crop


def is_square(mask: np.ndarray) -> bool:
    """A filled box with square corners: each 2x2 corner of the box has 3 of 4 pixels (a
    lone pixel standing out of an edge is not part of the box)."""
    crop = _without_spurs(_crop(mask))
    if min(crop.shape) < 4 or not _aspect_within(crop, _ROUND_ASPECT) or crop.mean() < 0.9:
        return False
    corners = (crop[:2, :2], crop[:2, -2:], crop[-2:, :2], crop[-2:, -2:])
    return all(corner.sum() >= 3 for corner in corners)


def is_triangle(mask: np.ndarray) -> bool:
    """Upright: rows widen linearly (straight sides) from an apex at the top centre to a
    base spanning the box, whose two ends (the bottom vertices) are filled. A last row
    narrower than the one above is where anti-aliasing met the threshold along the base,
    not part of the shape."""
    crop = _crop(mask)
    while len(crop) > 2 and crop[-1].sum() < crop[-2].sum():
        crop = _crop(crop[:-1])
    h, w = crop.shape
    if min(h, w) < 5 or not _aspect_within(crop, _TRIANGLE_ASPECT):
        return False
    if not 0.38 <= crop.mean() <= 0.65:
        return False
    widths = crop.sum(1).astype(np.float64)
    rows = np.arange(h) + 0.5
    slope, intercept = np.polyfit(rows, widths, 1)
    straight = np.abs(widths - (slope * rows + intercept)).max() <= 1.5
    sharp_apex = intercept <= max(2.5, 0.2 * w)  # the sides meet at the top edge
    base = widths[-1] >= 0.85 * w and crop[-1, :2].any() and crop[-1, -2:].any()
    cols = np.arange(w) + 0.5
    centres = (crop * cols).sum(1) / np.maximum(widths, 1)
    centred = np.abs(centres - w / 2).max() <= 1.5
    return bool(straight and sharp_apex and base and centred and slope > 0)


def is_circle(mask: np.ndarray) -> bool:
    """Round: each row as wide as a circle's chord there, the box's corners empty."""
    crop = _crop(mask)
    h, w = crop.shape
    if min(h, w) < 4 or not _aspect_within(crop, _ROUND_ASPECT):
        return False
    if not 0.64 <= crop.mean() <= 0.95:  # pi/4, give or take the pixels of a small one
        return False
    if crop[0, 0] or crop[0, -1] or crop[-1, 0] or crop[-1, -1]:
        return False
    # The circle of the same area and row centroid: each row should be its chord there.
    radius = np.sqrt(crop.sum() / np.pi)
    centre = (crop.sum(1) * (np.arange(h) + 0.5)).sum() / crop.sum()
    offsets = np.arange(h) + 0.5 - centre
    chords = 2 * np.sqrt(np.clip(radius**2 - offsets**2, 0, None))
    misfit = np.abs(crop.sum(1) - chords)
    # The end rows are left out: there a chord changes fastest and pixels are coarsest.
    return bool(misfit[1:-1].max() <= 2.0 and misfit.mean() <= 0.8)


def geometric_shape(mask: np.ndarray) -> str:
    """'square', 'triangle' or 'circle' when the mask (H, W) is that shape, crisply; else ''."""
    if not mask.any():
        return ""
    for name, test in (("square", is_square), ("triangle", is_triangle),
                       ("circle", is_circle)):
        if test(mask):
            return name
    return ""


def measure(coverage: np.ndarray, shape: str) -> tuple[float, float, float]:
    """Centre x, centre y and half-size (pixels, as `data.shape_masks` takes them) of a
    `shape` from its coverage (H, W): how much of each pixel it covers, 0 to 1. From the
    area and the centroid, so it is exact to a fraction of a pixel on anti-aliased edges:
    a circle covers pi r^2, a square (1.7 r)^2, the upright triangle 2 r^2 with its
    centroid a third of r below the centre of its box."""
    area = float(coverage.sum())
    h, w = coverage.shape
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    x, y = float((coverage * xs).sum() / area), float((coverage * ys).sum() / area)
    if shape == "circle":
        return x, y, float(np.sqrt(area / np.pi))
    if shape == "square":
        return x, y, float(np.sqrt(area) / 1.7)
    half = float(np.sqrt(area / 2))
    return x, y - half / 3, half
