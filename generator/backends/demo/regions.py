"""Connected regions of a small boolean mask, with numpy alone (no image library)."""

from __future__ import annotations

import numpy as np


def _neighbourhood_max(labels: np.ndarray) -> np.ndarray:
    """Each pixel's largest label among itself and its 8 neighbours."""
    padded = np.pad(labels, 1)
    h, w = labels.shape
    shifted = [padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3)]
    return np.asarray(np.max(shifted, axis=0))


def components(mask: np.ndarray) -> list[np.ndarray]:
    """The 8-connected regions of `mask` (H, W), each as a mask, largest first."""
    labels = np.where(mask, np.arange(1, mask.size + 1).reshape(mask.shape), 0)
    while True:
        spread = np.where(mask, _neighbourhood_max(labels), 0)
        if np.array_equal(spread, labels):
            break
        labels = spread
    regions = [labels == value for value in np.unique(labels[mask])]
    return sorted(regions, key=lambda region: -int(region.sum()))


def erode(mask: np.ndarray) -> np.ndarray:
    """The pixels of `mask` whose four neighbours are all in it too."""
    padded = np.pad(mask, 1)
    return np.asarray(mask & padded[:-2, 1:-1] & padded[2:, 1:-1]
                      & padded[1:-1, :-2] & padded[1:-1, 2:])


def dilate(mask: np.ndarray) -> np.ndarray:
    """`mask` grown by one pixel in each of the eight directions."""
    padded = np.pad(mask, 1)
    h, w = mask.shape
    return np.asarray(np.any([padded[dy:dy + h, dx:dx + w] for dy in range(3)
                              for dx in range(3)], axis=0))
