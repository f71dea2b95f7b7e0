"""Which preview a job's status message shows: the chat adapters' side of live previews.

While a clip renders, its worker stores a preview every few steps (`storage.previews`). A
status message that shows one changes its picture at most once every `every_s` seconds
(`MEDIA_EDIT_EVERY_S`), whatever the render's pace: a media edit uploads a file, and the
platforms limit them harder than text edits (Telegram's flood control per chat, Discord's
per-webhook limits). The progress text goes on at the throttle's pace between pictures.
The adapter asks `due` when it is about to edit, tells `shown` once the platform took the
picture, and keeps `last_shown` to post the picture again when the message was deleted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from storage.models import JobStatus
from storage.previews import PreviewStore
from storage.records import JobRecord, PreviewRecord

#: The fewest seconds between two picture changes of one job's status message.
MEDIA_EDIT_EVERY_S = 5.0


@dataclass(frozen=True)
class _Shown:
    preview: PreviewRecord
    at: float


class StatusPreviews:
    """The previews each job's status message has shown, and when it may show a newer one."""

    def __init__(self, previews: PreviewStore, *, every_s: float = MEDIA_EDIT_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.previews = previews
        self.every_s = every_s
        self.clock = clock
        self._shown: dict[int, _Shown] = {}

    async def due(self, job: JobRecord) -> PreviewRecord | None:
        """The preview to show with this edit, or None: not rendering, none stored, none
        newer than the one shown, or the last picture changed too recently."""
        last = self._shown.get(job.id)
        if job.status != JobStatus.RUNNING or (
                last is not None and self.clock() - last.at < self.every_s):
            return None
        latest = await self.previews.latest(job.id)
        if latest is None or (last is not None and _position(latest) == _position(last.preview)):
            return None
        return latest

    def shown(self, preview: PreviewRecord) -> None:
        """The platform took `preview`: the next picture waits `every_s` from now."""
        self._shown[preview.job_id] = _Shown(preview, self.clock())

    def last_shown(self, job_id: int) -> PreviewRecord | None:
        """The last picture this process showed in the job's status message, if any."""
        last = self._shown.get(job_id)
        return last.preview if last is not None else None

    def forget(self, job_id: int) -> None:
        """The job is over: nothing more to show of it."""
        self._shown.pop(job_id, None)


def _position(preview: PreviewRecord) -> tuple[int, int]:
    return preview.attempt, preview.step
