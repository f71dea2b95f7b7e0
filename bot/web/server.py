"""The one web server of the bot process (aiohttp): route groups plug in under their prefix
(`/v1`, the API; a dashboard next), each a sub-application with its own middlewares, so
that each answers errors in its own shape."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from aiohttp import web

log = logging.getLogger(__name__)

#: A stream (server-sent events) still open at shutdown is ended after this long.
SHUTDOWN_TIMEOUT_S = 2.0
#: Connections waiting to be accepted: a burst of clients must not wait for a SYN retry.
LISTEN_BACKLOG = 1024


class RouteGroup(Protocol):
    """Routes under one prefix of the server."""

    prefix: str

    def application(self) -> web.Application:
        """The sub-application serving the prefix."""
        ...


class WebServer:
    """Serves its route groups on `host:port` (port 0: any free one, see `port`)."""

    def __init__(self, *, host: str, port: int, max_body_bytes: int,
                 groups: Sequence[RouteGroup]) -> None:
        self.host = host
        self.requested_port = port
        self.max_body_bytes = max_body_bytes
        self.groups = list(groups)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    @property
    def port(self) -> int:
        """The port listened on (the one chosen, when 0 was asked)."""
        server = self._site._server if self._site is not None else None
        sockets = getattr(server, "sockets", None)
        return int(sockets[0].getsockname()[1]) if sockets else self.requested_port

    async def start(self) -> None:
        """Listen; `WebServerError` naming `api.listen` when the address cannot be bound."""
        app = web.Application(client_max_size=self.max_body_bytes)
        for group in self.groups:
            app.add_subapp(group.prefix, group.application())
        runner = web.AppRunner(app, access_log=None, handle_signals=False,
                               shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.requested_port, backlog=LISTEN_BACKLOG)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise WebServerError(f"cannot listen on api.listen {self.host}:"
                                 f"{self.requested_port} ({exc.strerror or exc})") from None
        self._runner, self._site = runner, site
        log.info("web server listening on %s:%s (%s)", self.host, self.port,
                 ", ".join(group.prefix for group in self.groups))

    async def stop(self) -> None:
        """Stop listening; open streams get `SHUTDOWN_TIMEOUT_S` to end."""
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = self._site = None


class WebServerError(Exception):
    """The web server could not start; the message names the setting."""
