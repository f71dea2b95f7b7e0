"""Writing an MP4 (H.264, yuv420p, BT.709, +faststart) and its poster from PyAV frames, each to
a temporary name in the target folder moved into place, so that a crash never leaves a
half-written file behind. The encoder and the fitting to an upload limit both write here."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from videobot.media.clip import EncodedClip

# H.264 colour tags for BT.709, limited range; the RGB -> YUV conversion uses the same matrix.
BT709 = 1
LIMITED_RANGE = 1
#: The colour matrix of every conversion between RGB and the MP4's YUV.
COLORSPACE = "ITU709"


def write_mp4(frames: Iterable[av.VideoFrame], fps: int, width: int, height: int, path: Path,
              options: dict[str, str]) -> None:
    """Encode yuv420p `frames` (their `pts` counting frames) at constant `fps` to `path`, with
    x264 `options` over the defaults (preset medium, profile high, threads 0)."""
    # +faststart rewrites the file to put `moov` first, so it needs a seekable, readable
    # file. Opened here, not by PyAV: when a write fails (a full disk), PyAV's own close
    # fails too and leaks the descriptor, whose deleted file then holds the space for ever.
    with path.open("w+b") as handle, av.open(handle, mode="w", format="mp4",
                                             options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        ctx = stream.codec_context
        ctx.colorspace = ctx.color_primaries = ctx.color_trc = BT709
        ctx.color_range = LIMITED_RANGE
        # Frame threads (x264's own) use every core; PyAV's default, slices, scales poorly.
        ctx.thread_type = "FRAME"
        stream.options = {"preset": "medium", "threads": "0", "profile": "high", **options}
        for frame in frames:
            # A decoded frame keeps its source's time base; its `pts` counts frames here.
            frame.time_base = Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def finish_clip(poster: Image.Image, *, video_path: Path, poster_path: Path, frames: int,
                fps: int) -> EncodedClip:
    """Write `poster` as the JPEG poster of the MP4 now at `video_path`, and describe the pair
    (its size is the poster's)."""
    with scratch_path(poster_path) as tmp:
        poster.save(tmp, format="JPEG", quality=90)
        os.replace(tmp, poster_path)
    return EncodedClip(
        video_path=video_path,
        poster_path=poster_path,
        width=poster.width,
        height=poster.height,
        frames=frames,
        fps=fps,
        duration_s=frames / fps,
        size_bytes=video_path.stat().st_size,
    )


@contextmanager
def scratch_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside `path` (same filesystem, for os.replace); remove it after."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)
