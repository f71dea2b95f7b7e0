"""The one type of a finished clip, from the encoder to the upload."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EncodedClip:
    """An MP4 and its JPEG poster, and what they hold: what the encoder returns, the job store
    records and reads back, and a chat adapter uploads."""

    video_path: Path
    poster_path: Path
    width: int
    height: int
    frames: int
    fps: int
    duration_s: float
    size_bytes: int
    #: The worker's own time on the clip, render and encode, in seconds (0 until recorded).
    render_seconds: float = 0.0
    #: True when the files travel in the database (`store.jobs.clip_data`); the paths are then
    #: the files' names.
    in_database: bool = False
    #: A user-facing sentence when the clip was re-encoded to fit an upload limit, else "".
    note: str = ""


class ClipTooLarge(Exception):
    """The clip cannot be made small enough to fit the upload limit."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)
