"""Make a stored clip fit a chat's upload limit before an adapter posts it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from videobot.media.clip import EncodedClip
from videobot.media.fit import fit_to_upload_limit


async def prepare_upload(clip: EncodedClip, limit_bytes: int, work_dir: Path) -> EncodedClip:
    """The clip itself when it fits `limit_bytes`; else a re-encoded copy in `work_dir`, its
    `note` saying so (raises `videobot.media.clip.ClipTooLarge` when nothing fits)."""
    if clip.size_bytes <= limit_bytes:
        return clip
    return await asyncio.to_thread(_refit, clip, limit_bytes, work_dir)


def _refit(clip: EncodedClip, limit_bytes: int, work_dir: Path) -> EncodedClip:
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = work_dir / f"{clip.video_path.stem}-fit-{limit_bytes}"
    return fit_to_upload_limit(clip, limit_bytes, stem.with_suffix(".mp4"),
                               poster_path=stem.with_suffix(".jpg"))
