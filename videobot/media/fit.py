"""Fitting a clip to a chat's upload limit: re-encode its MP4 at a bitrate computed from the
limit (and at a smaller size when that bitrate would spread too thin), with PyAV's own frame
objects, so that the bot process needs no numpy."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import av

from videobot.media.clip import ClipTooLarge, EncodedClip
from videobot.media.mp4 import finish_clip, scratch_path, write_mp4

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


def fit_to_upload_limit(clip: EncodedClip, limit_bytes: int, out_path: Path, *,
                        poster_path: Path | None = None) -> EncodedClip:
    """Return `clip` if it fits in `limit_bytes`, else re-encode its MP4 to `out_path` so that
    it does, with `note` saying so, and its poster at the new size to `poster_path` (default:
    the clip's own).

    The re-encode uses a bitrate computed from the limit and the duration. It starts at the
    clip's size, or at a halving of it (up to 3) when that bitrate would spread too thin over the
    pixels, and halves again while the result is still too big. Raises `ClipTooLarge` when
    nothing fits, leaving `out_path` and the poster as they were.
    """
    if clip.size_bytes <= limit_bytes:
        return clip
    bit_rate = _target_bit_rate(limit_bytes, clip.frames, clip.fps)
    if bit_rate < _MIN_BIT_RATE:
        raise ClipTooLarge()
    frames = _decode(clip.video_path)
    with scratch_path(out_path) as tmp:
        for width, height in _candidate_sizes(clip, bit_rate):
            write_mp4(_sized(frames, width, height), clip.fps, width, height, tmp,
                      _bit_rate_options(bit_rate))
            if tmp.stat().st_size <= limit_bytes:
                os.replace(tmp, out_path)
                poster = frames[len(frames) // 2].to_image(width=width, height=height)
                fitted = finish_clip(poster, video_path=out_path,
                                     poster_path=poster_path or clip.poster_path,
                                     frames=len(frames), fps=clip.fps)
                return replace(fitted, note=_fit_note(fitted, clip, limit_bytes))
    raise ClipTooLarge()


def _decode(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(container.streams.video[0]))


def _sized(frames: Sequence[av.VideoFrame], width: int, height: int) -> Iterator[av.VideoFrame]:
    """`frames` at `width` x `height` (bilinear), yuv420p, numbered from 0."""
    for index, frame in enumerate(frames):
        sized = frame.reformat(width=width, height=height, format="yuv420p")
        sized.pts = index
        yield sized


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
