"""Frames to a chat-ready MP4 (H.264, yuv420p, +faststart) and a JPEG poster, with PyAV.

Odd widths and heights are padded up to even by repeating the last column or row, so no
pixel of the model's output is lost. Files are written to a temporary name in the target
folder and moved into place, so a crash never leaves a half-written clip behind.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from generator.backends.base import Frames
from videobot.config import X264_PRESETS, PresetConfig

# H.264 colour tags for BT.709, limited range; the RGB -> YUV conversion uses the same matrix.
_BT709 = 1
_LIMITED_RANGE = 1
# Room left in the byte budget for the MP4 boxes: a fixed part plus sample tables per frame.
_CONTAINER_BYTES = 2048
_CONTAINER_BYTES_PER_FRAME = 16
# The share of the remaining budget given to the encoder, against rate-control overshoot.
_BITRATE_HEADROOM = 0.92
# Size of the decoder buffer the bitrate is enforced over; it adds to the worst-case size.
_VBV_SECONDS = 0.5
# x264 refuses to open below about 1 kbit/s; under this rate there is no watchable clip.
_MIN_BIT_RATE = 4000
# Below this many bits per pixel per frame a smaller picture looks better than a blurrier one.
_MIN_BITS_PER_PIXEL = 0.05
_MAX_HALVINGS = 3
_MIN_SIDE = 16
#: The x264 preset of a clip's encode unless its preset says otherwise (README, "Benchmarks").
DEFAULT_X264_PRESET = PresetConfig.x264_preset


class ClipTooLarge(Exception):
    """The clip cannot be made small enough to fit the upload limit."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)


@dataclass(frozen=True)
class EncodedClip:
    """An MP4 on disk and what a chat adapter needs to send it."""

    video_path: Path
    poster_path: Path
    width: int
    height: int
    frames: int
    fps: int
    duration_s: float
    size_bytes: int
    #: A user-facing sentence when the clip was re-encoded to fit a limit, else "".
    note: str = ""


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
    return fit_to_upload_limit(clip, frames, max_bytes, video_path)


def fit_to_upload_limit(
    clip: EncodedClip, frames: Frames, limit_bytes: int, out_path: Path
) -> EncodedClip:
    """Return `clip` if it fits in `limit_bytes`, else re-encode `frames` to `out_path` so that it
    does, with `note` saying so.

    The re-encode uses a bitrate computed from the limit and the duration. It starts at the
    clip's size, or at a halving of it (up to 3) when that bitrate would spread too thin over the
    pixels, and halves again while the result is still too big. The poster is rewritten at the
    new size. Raises `ClipTooLarge` when nothing fits, leaving `out_path` and the poster as
    they were.
    """
    if clip.size_bytes <= limit_bytes:
        return clip
    bit_rate = _target_bit_rate(limit_bytes, clip.frames, clip.fps)
    if bit_rate < _MIN_BIT_RATE:
        raise ClipTooLarge()
    with _scratch_path(out_path) as tmp:
        for width, height in _candidate_sizes(clip, bit_rate):
            sized = _pad_to_even(_resize_unless_padded(frames, width, height))
            _write_mp4(sized, clip.fps, tmp, _bit_rate_options(bit_rate))
            if tmp.stat().st_size <= limit_bytes:
                os.replace(tmp, out_path)
                fitted = _finish(sized, clip.fps, out_path, clip.poster_path)
                return replace(fitted, note=_fit_note(fitted, clip, limit_bytes))
    raise ClipTooLarge()


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
    with _scratch_path(video_path) as tmp:
        _write_mp4(frames, fps, tmp, options)
        os.replace(tmp, video_path)
    return _finish(frames, fps, video_path, poster_path)


def _finish(frames: Frames, fps: int, video_path: Path, poster_path: Path) -> EncodedClip:
    """Write the poster for the MP4 now at `video_path` and describe the pair."""
    count, height, width, _ = frames.shape
    with _scratch_path(poster_path) as tmp:
        Image.fromarray(frames[count // 2]).save(tmp, format="JPEG", quality=90)
        os.replace(tmp, poster_path)
    return EncodedClip(
        video_path=video_path,
        poster_path=poster_path,
        width=width,
        height=height,
        frames=count,
        fps=fps,
        duration_s=count / fps,
        size_bytes=video_path.stat().st_size,
    )


def _write_mp4(frames: Frames, fps: int, path: Path, options: dict[str, str]) -> None:
    height, width = frames.shape[1:3]
    # +faststart rewrites the file to put `moov` first, so it needs a seekable, readable
    # file. Opened here, not by PyAV: when a write fails (a full disk), PyAV's own close
    # fails too and leaks the descriptor, whose deleted file then holds the space for ever.
    with path.open("w+b") as handle, av.open(handle, mode="w", format="mp4",
                                             options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        ctx = stream.codec_context
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = _BT709
        ctx.color_range = _LIMITED_RANGE
        # Frame threads (x264's own) use every core; PyAV's default, slices, scales poorly.
        ctx.thread_type = "FRAME"
        stream.options = {"preset": "medium", "threads": "0", "profile": "high", **options}
        for index, rgb in enumerate(frames):
            out.mux(stream.encode(_yuv_frame(rgb, index)))
        out.mux(stream.encode(None))


def _yuv_frame(rgb: Frames, pts: int) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    frame = frame.reformat(format="yuv420p", dst_colorspace="ITU709")
    frame.pts = pts
    return frame


@contextmanager
def _scratch_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same filesystem, for os.replace); remove it after."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


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


def _resize_unless_padded(frames: Frames, width: int, height: int) -> Frames:
    """Resize to (width, height) unless padding to even sizes already gives that size."""
    height_in, width_in = frames.shape[1:3]
    if (width_in + width_in % 2, height_in + height_in % 2) == (width, height):
        return frames
    return _resize(frames, width, height)


def _target_bit_rate(limit_bytes: int, frames: int, fps: int) -> int:
    budget = limit_bytes - _CONTAINER_BYTES - _CONTAINER_BYTES_PER_FRAME * frames
    seconds = frames / fps + _VBV_SECONDS
    return int(budget * 8 * _BITRATE_HEADROOM / seconds)


def _bit_rate_options(bit_rate: int) -> dict[str, str]:
    # A decoder buffer (VBV) bounds the overshoot that average bitrate alone allows.
    buffer_bits = int(bit_rate * _VBV_SECONDS)
    return {"b": str(bit_rate), "maxrate": str(bit_rate), "bufsize": str(buffer_bits)}


def _candidate_sizes(clip: EncodedClip, bit_rate: int) -> list[tuple[int, int]]:
    """The clip's size and its even halvings, from the largest that `bit_rate` can fill."""
    sizes = [(clip.width, clip.height)]
    for halvings in range(1, _MAX_HALVINGS + 1):
        size = _even(clip.width >> halvings), _even(clip.height >> halvings)
        if min(size) < _MIN_SIDE:
            break
        sizes.append(size)
    for index, (width, height) in enumerate(sizes):
        if bit_rate / (width * height * clip.fps) >= _MIN_BITS_PER_PIXEL:
            return sizes[index:]
    return sizes[-1:]


def _even(side: int) -> int:
    return max(2, side - side % 2)


def _fit_note(fitted: EncodedClip, original: EncodedClip, limit_bytes: int) -> str:
    limit = _format_bytes(limit_bytes)
    if (fitted.width, fitted.height) == (original.width, original.height):
        return f"re-encoded at a lower bitrate to fit the {limit} upload limit"
    return f"re-encoded at {fitted.width}x{fitted.height} to fit the {limit} upload limit"


def _format_bytes(n: int) -> str:
    for size, unit in ((2**20, "MiB"), (10**6, "MB"), (2**10, "KiB")):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n} bytes"
