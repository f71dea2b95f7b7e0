"""The Queue page: waiting and rendering jobs in the fair order, updated live by a stream of
server-sent events (the rows, rendered here, whenever they change), a rendering job's latest
preview in its row (a newer one changes the row, so the browser loads it); cancel, and for
admins pause and resume. Every action goes through the core, as the chat commands do."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

from bot.core import replies
from bot.core.commands import Reply
from bot.web.dashboard.queue_feed import QueueFeed, QueueView
from bot.web.dashboard.site import ROOT, Site, Viewer
from storage.previews import PreviewStore

LOOK_AGAIN_S = 1.0
PING_S = 15.0
#: A stream ends after this long and the browser opens a new one, which checks the session
#: again (so a revoked key or an ended session stops the updates).
STREAM_S = 300.0
QUEUE = f"{ROOT}/queue"


class QueuePage:
    """`/queue`, its stream, and the queue's actions."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.feed = QueueFeed(site.store, lease_seconds=site.config.queue.lease_seconds,
                              previews=PreviewStore.of(site.store.context, site.config))

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/queue", self.page)
        router.add_get("/queue/stream", self.stream)
        router.add_post("/jobs/{job_id:[0-9]{1,18}}/cancel", self.cancel)
        router.add_post("/queue/pause", self.pause)
        router.add_post("/queue/resume", self.resume)

    async def page(self, request: web.Request) -> web.Response:
        """The queue as it is now; the page's script then follows the stream."""
        viewer = self.site.viewer(request)
        view = await self.feed.view()
        return self.site.render(request, "queue.html", title="Queue", view=view,
                                rows_html=self._rows(viewer, view),
                                summary=_summary(view))

    async def stream(self, request: web.Request) -> web.StreamResponse:
        """`event: queue` with `{"rows", "summary", "paused"}` whenever they change."""
        viewer = self.site.viewer(request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n")
        shown, last_write, ends = "", time.monotonic(), time.monotonic() + STREAM_S
        try:
            while time.monotonic() < ends and not _gone(request):
                view = await self.feed.view()
                data = json.dumps({"rows": self._rows(viewer, view), "summary": _summary(view),
                                   "paused": view.paused})
                if data != shown:
                    await response.write(f"event: queue\ndata: {data}\n\n".encode())
                    shown, last_write = data, time.monotonic()
                elif time.monotonic() - last_write >= PING_S:
                    await response.write(b": ping\n\n")
                    last_write = time.monotonic()
                await asyncio.sleep(LOOK_AGAIN_S)
        except ConnectionResetError:
            return response  # the page was closed
        await response.write_eof()
        return response

    async def cancel(self, request: web.Request) -> web.Response:
        """Cancel a job: the owner's `/cancel`, or an admin's `/admin cancel` (audited)."""
        viewer = self.site.viewer(request)
        job_id = int(request.match_info["job_id"])
        if viewer.admin:
            reply = await self.site.core.admin_request(viewer.user, f"cancel {job_id}",
                                                       admin=True)
        else:
            reply = await self.site.core.cancel_job(viewer.user, job_id)
        self.site.done(request, reply, to=QUEUE)

    async def pause(self, request: web.Request) -> web.Response:
        """`/admin pause`: no new job starts."""
        self.site.done(request, await self._admin(request, "pause"), to=QUEUE)

    async def resume(self, request: web.Request) -> web.Response:
        """`/admin resume`."""
        self.site.done(request, await self._admin(request, "resume"), to=QUEUE)

    async def _admin(self, request: web.Request, words: str) -> Reply:
        viewer = self.site.admin(request)
        return await self.site.core.admin_request(viewer.user, words, admin=True)

    def _rows(self, viewer: Viewer, view: QueueView) -> str:
        owner = viewer.owner_filter()
        return self.site.fragment("queue_rows.html", rows=view.of(owner.key if owner else None),
                                  viewer=viewer, csrf=viewer.csrf)


def _gone(request: web.Request) -> bool:
    """Whether the browser has closed the stream (the page was left): stop at once rather
    than at the next write, so that nothing waits for it (a server stopping, for one)."""
    return request.transport is None or request.transport.is_closing()


def _summary(view: QueueView) -> str:
    return replies.queue_summary(view.running, view.waiting, view.paused)
