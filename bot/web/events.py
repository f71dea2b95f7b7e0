"""`GET /v1/videos/{id}/events`: a server-sent-events stream of a video's status and progress
until it ends (our addition; OpenAI's clients poll, and `create_and_poll` needs none of this).

Each event is the whole video object, named by its status (`video.queued`,
`video.in_progress`, then `video.completed` or `video.failed`, which ends the stream), sent
when the status, progress or queue position changes. The delivery loop wakes the streams of
the jobs it sees change (`JobWatch`); each stream also looks again every second, so a job
queued from a chat, or a change the loop did not see, still shows.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from storage.records import JobRecord

LOOK_AGAIN_S = 1.0
PING_S = 15.0
#: (the job, its video object), read afresh.
Snapshot = Callable[[], Awaitable[tuple[JobRecord, dict[str, Any]]]]


class JobWatch:
    """Wakes the event streams of a job when the delivery loop sees it change."""

    def __init__(self) -> None:
        self._streams: dict[int, set[asyncio.Event]] = {}

    def changed(self, job: JobRecord) -> None:
        """Wake the streams of `job` to look at it again."""
        for woken in self._streams.get(job.id, ()):
            woken.set()

    @contextmanager
    def watching(self, job_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever the job changes, while the block runs."""
        woken = asyncio.Event()
        self._streams.setdefault(job_id, set()).add(woken)
        try:
            yield woken
        finally:
            streams = self._streams[job_id]
            streams.discard(woken)
            if not streams:
                del self._streams[job_id]


async def stream_events(request: web.Request, watch: JobWatch, job_id: int,
                        snapshot: Snapshot) -> web.StreamResponse:
    """Send the video's changes as events until it ends or the client goes."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    with watch.watching(job_id) as woken:
        job, video = await snapshot()  # after subscribing: no change can fall in between
        await response.prepare(request)
        shown: tuple[Any, ...] | None = None
        last_write = time.monotonic()
        try:
            while True:
                state = (video["status"], video["progress"], video["queue_position"])
                if state != shown:
                    await response.write(_event(video))
                    shown, last_write = state, time.monotonic()
                if job.is_final:
                    break
                if time.monotonic() - last_write >= PING_S:
                    await response.write(b": ping\n\n")
                    last_write = time.monotonic()
                woken.clear()
                try:
                    await asyncio.wait_for(woken.wait(), LOOK_AGAIN_S)
                except TimeoutError:
                    pass
                job, video = await snapshot()
        except ConnectionResetError:
            return response  # the client went away
    await response.write_eof()
    return response


def _event(video: dict[str, Any]) -> bytes:
    return f"event: video.{video['status']}\ndata: {json.dumps(video)}\n\n".encode()
