"""The HTTP API as one front door of the bot process, beside the chat adapters: it starts the
web server and the webhook sender, and to the delivery loop it is the adapter of the jobs
it queued (platform "api"): their changes wake the event streams, and their "delivery" is
that (clients fetch the clip, and hear of the end by webhook or by polling)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from bot.core.commands import Core
from bot.web.dashboard.app import Dashboard
from bot.web.dashboard.metrics import MetricsEndpoint
from bot.web.events import JobWatch
from bot.web.server import RouteGroup, WebServer
from bot.web.videos import VideosApi
from bot.web.webhooks import WebhookSender
from storage.outbox import API_FRONT_DOOR
from storage.records import JobRecord
from videobot.api_config import ApiConfig

log = logging.getLogger(__name__)

#: A webhook in flight at shutdown gets this long to end (it is sent again after a restart).
STOP_TIMEOUT_S = 12.0


class ApiFrontDoor:
    """The `/v1` API (and any other route group, e.g. a dashboard) and its webhooks."""

    platform = API_FRONT_DOOR

    def __init__(self, *, core: Core, api: ApiConfig,
                 more_groups: Sequence[RouteGroup] = ()) -> None:
        self.watch = JobWatch()
        self.videos = VideosApi(core=core, api=api, watch=self.watch)
        self.server = WebServer(host=api.host, port=api.port,
                                max_body_bytes=api.max_upload_bytes,
                                groups=[self.videos, *more_groups])
        self.webhooks = WebhookSender(store=core.store, api=api,
                                      poll_interval=core.config.queue.poll_interval_seconds)
        self._stop = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve the routes and start sending webhooks."""
        await self.videos.warm_up()
        await self.server.start()
        self._stop.clear()
        self._sender = asyncio.create_task(self.webhooks.run(self._stop), name="webhooks")

    async def stop(self) -> None:
        """Stop taking requests, then let the sender end its pass (a send is not cut off in
        the middle of recording it)."""
        await self.server.stop()
        self._stop.set()
        if self._sender is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._sender), STOP_TIMEOUT_S)
            except TimeoutError:
                log.warning("webhooks still sending at shutdown; the next start sends them")
                self._sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._sender
            self._sender = None

    async def show_progress(self, job: JobRecord, text: str) -> None:
        """Wake the job's event streams (the text is the chats')."""
        self.watch.changed(job)

    async def deliver(self, job: JobRecord) -> None:
        """The job ended: its streams send their last event. Clients fetch the clip."""
        self.watch.changed(job)


def web_extras(core: Core, api: ApiConfig) -> list[RouteGroup]:
    """What the web server serves beside the API: `GET /metrics`, and the dashboard unless
    `[api] dashboard = false`."""
    extras: list[RouteGroup] = [MetricsEndpoint(core=core, api=api)]
    if api.dashboard:
        extras.append(Dashboard(core=core, api=api))
    return extras
