"""Preview frames to what the job store keeps: one JPEG with the frames side by side."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from generator.backends.base import Frames
from storage.records import PreviewImage

#: JPEG quality of previews: a few kilobytes, enough to see the clip forming.
PREVIEW_QUALITY = 80


def preview_image(step: int, total: int, frames: Frames) -> PreviewImage:
    """The preview after `step` of `total` steps: `frames` in a row, as one JPEG."""
    strip = np.concatenate(list(frames), axis=1)
    buffer = io.BytesIO()
    Image.fromarray(strip).save(buffer, format="JPEG", quality=PREVIEW_QUALITY)
    height, width = strip.shape[:2]
    return PreviewImage(step=step, total=total, width=width, height=height,
                        frames=len(frames), jpeg=buffer.getvalue())
