"""Frames to a chat-ready MP4 (H.264, yuv420p, +faststart) and a JPEG poster, with PyAV.

Odd widths and heights are padded up to even by repeating the last column or row, so no
pixel of the model's output is lost. Files are written to a temporary name in the target
folder and moved into place, so a crash never leaves a half-written clip behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
from PIL import Image

from videobot.config.presets import X264_PRESETS, PresetConfig
from videobot.media.clip import EncodedClip
from videobot.media.fit import fit_to_upload_limit
from videobot.media.frames import Frames
from videobot.media.mp4 import COLORSPACE, finish_clip, scratch_path, write_mp4

#: The x264 preset of a clip's encode unless its preset says otherwise (README, "Benchmarks").
DEFAULT_X264_PRESET = PresetConfig.x264_preset


def encode_clip(
    frames: Frames,
    fps: int,
    video_path: Path,
    poster_path: Path,
    *,
    crf: int = 20,
    max_bytes: int | None = None,
    upscale_to: tuple[int, int] | None = None,
    speed: str = DEFAULT_X264_PRESET,
    threads: int = 0,
) -> EncodedClip:
    """Encode `frames` at constant `fps` to `video_path` and its middle frame to `poster_path`.

    `upscale_to` is a (width, height) to resize to first (bilinear), for small native models.
    With `max_bytes`, the result is passed through `fit_to_upload_limit`. `speed` is x264's
    preset; `threads` its thread count (0: as many as suit the CPU's cores).
    """
    if not 1 <= crf <= 51:
        raise ValueError(f"crf must be between 1 and 51, got {crf}")
    if speed not in X264_PRESETS:
        raise ValueError(f"speed must be one of {', '.join(X264_PRESETS)}, got {speed!r}")
    _check_frames(frames, fps)
    if upscale_to is not None:
        frames = _resize(frames, *upscale_to)
    options = {"crf": str(crf), "preset": speed, "threads": str(threads)}
    clip = _encode(frames, fps, video_path, poster_path, options)
    if max_bytes is None:
        return clip
    return fit_to_upload_limit(clip, max_bytes, video_path)


def _check_frames(frames: Frames, fps: int) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    if frames.shape[0] == 0:
        raise ValueError("frames is empty")
    if fps < 1:
        raise ValueError(f"fps must be positive, got {fps}")


def _encode(
    frames: Frames, fps: int, video_path: Path, poster_path: Path, options: dict[str, str]
) -> EncodedClip:
    frames = _pad_to_even(frames)
    count, height, width = frames.shape[:3]
    with scratch_path(video_path) as tmp:
        write_mp4(_yuv_frames(frames), fps, width, height, tmp, options)
        os.replace(tmp, video_path)
    return finish_clip(Image.fromarray(frames[count // 2]), video_path=video_path,
                       poster_path=poster_path, frames=count, fps=fps)


def _yuv_frames(frames: Frames) -> Iterator[av.VideoFrame]:
    for index, rgb in enumerate(frames):
        yield _yuv_frame(rgb, index)


def _yuv_frame(rgb: Frames, pts: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    frame = frame.reformat(format="yuv420p", dst_colorspace=COLORSPACE)
    frame.pts = pts
    return frame


def _pad_to_even(frames: Frames) -> Frames:
    height, width = frames.shape[1:3]
    if height % 2 == 0 and width % 2 == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")


def _resize(frames: Frames, width: int, height: int) -> Frames:
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {width}x{height}")
    if frames.shape[1:3] == (height, width):
        return frames
    resized = (_resize_one(frame, width, height) for frame in frames)
    return np.stack(list(resized))


def _resize_one(frame: Frames, width: int, height: int) -> Frames:
    image = Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)
