"""Make a stored clip fit a chat's upload limit before an adapter posts it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from generator.encode import EncodedClip, fit_to_upload_limit
from storage.records import ClipRecord


@dataclass(frozen=True)
class Upload:
    """The file to post, its poster, and a note for the caption when it was re-encoded."""

    video_path: Path
    poster_path: Path
    width: int
    height: int
    duration_s: float
    size_bytes: int
    note: str = ""


async def prepare_upload(clip: ClipRecord, limit_bytes: int, work_dir: Path) -> Upload:
    """The clip itself when it fits `limit_bytes`; else a re-encoded copy in `work_dir`
    (raises `generator.encode.ClipTooLarge` when nothing fits)."""
    if clip.size_bytes <= limit_bytes:
        return Upload(Path(clip.video_path), Path(clip.poster_path), clip.width, clip.height,
                      clip.duration_s, clip.size_bytes)
    return await asyncio.to_thread(_refit, clip, limit_bytes, work_dir)


def _refit(clip: ClipRecord, limit_bytes: int, work_dir: Path) -> Upload:
    frames = read_frames(Path(clip.video_path))
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = work_dir / f"{Path(clip.video_path).stem}-fit-{limit_bytes}"
    original = EncodedClip(
        video_path=Path(clip.video_path), poster_path=stem.with_suffix(".jpg"),
        width=clip.width, height=clip.height, frames=clip.frames, fps=clip.fps,
        duration_s=clip.duration_s, size_bytes=clip.size_bytes,
    )
    fitted = fit_to_upload_limit(original, frames, limit_bytes, stem.with_suffix(".mp4"))
    return Upload(fitted.video_path, fitted.poster_path, fitted.width, fitted.height,
                  fitted.duration_s, fitted.size_bytes, fitted.note)


def read_frames(path: Path) -> np.ndarray:
    """Decode an MP4 back into RGB uint8 frames (frames, height, width, 3)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    return np.stack(frames)
