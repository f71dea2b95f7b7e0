"""A clip as a numpy array of RGB frames, and an MP4 read back into one (the generator's and
the tests' side: the bot never holds frames)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
import numpy.typing as npt

#: A clip: uint8 array of shape (frames, height, width, 3), RGB.
Frames = npt.NDArray[np.uint8]


def read_frames(source: Path | BinaryIO) -> Frames:
    """Decode an MP4 (a path, or its bytes in a file object) back into RGB uint8 frames
    (frames, height, width, 3)."""
    with av.open(str(source) if isinstance(source, Path) else source, "r") as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return np.stack(frames)


def decode_frames(mp4: bytes) -> Frames:
    """`read_frames` of an MP4 held in memory (a clip stored in the database)."""
    with av.open(io.BytesIO(mp4), mode="r") as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return np.stack(frames)
