"""The dashboard as a route group of the web server, under `/dashboard`: its pages, its
static files (CSS, a little JavaScript; in the package, no build step), and the checks every
request passes: a session (else the sign-in form), a CSRF token on every POST, strict
security headers, and errors answered as pages (a refusal in words; anything unforeseen
logged with its traceback and answered with one fixed sentence)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from bot.core import replies
from bot.core.commands import Core
from bot.web.dashboard.audit_page import AuditPage
from bot.web.dashboard.clips_page import ClipsPage
from bot.web.dashboard.queue_page import QueuePage
from bot.web.dashboard.sessions import Signer, session_secret
from bot.web.dashboard.signin import SignIn
from bot.web.dashboard.site import ROOT, VIEWER, Page, PageError, Site
from bot.web.dashboard.stats_page import StatsPage
from bot.web.dashboard.users_page import UsersPage
from bot.web.dashboard.workers_page import WorkersPage
from bot.web.errors import Handler
from videobot.api_config import ApiConfig

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
#: Paths served without a session.
_OPEN = (f"{ROOT}/signin", f"{ROOT}/static/")
#: Nothing comes from elsewhere; no inline script or style; no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; media-src 'self'; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; "
                                "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class Dashboard:
    """The route group of `/dashboard`."""

    prefix = ROOT

    def __init__(self, *, core: Core, api: ApiConfig) -> None:
        self.core = core
        self.api = api

    def application(self) -> web.Application:
        """The sub-application, made as the server starts (reading or making the session
        secret in the data folder then)."""
        signer = Signer(session_secret(self.api.session_secret, self.core.config.data_dir))
        self.site = Site(core=self.core, api=self.api, signer=signer)
        self.signin = SignIn(self.site)
        pages: list[Page] = [page(self.site) for page in (
            QueuePage, ClipsPage, WorkersPage, UsersPage, AuditPage, StatsPage)]
        app = web.Application(middlewares=[self._errors, self._headers, self._signed_in])
        app.router.add_get("", self._home)
        app.router.add_get("/", self._home)
        app.router.add_static("/static", STATIC)
        self.signin.add_routes(app.router)
        for page in pages:
            page.add_routes(app.router)
        return app

    async def _home(self, request: web.Request) -> web.Response:
        raise web.HTTPSeeOther(f"{ROOT}/queue")

    @web.middleware
    async def _signed_in(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A session for every page but the sign-in form; a form token on every POST."""
        if request.path.startswith(_OPEN) or request.path in (ROOT, f"{ROOT}/"):
            return await handler(request)
        viewer = await self.signin.viewer(request)
        if viewer is None:
            if request.method == "GET" and not request.path.endswith("/stream"):
                raise web.HTTPSeeOther(f"{ROOT}/signin?next={quote(request.path_qs)}")
            # A stream, or a form sent after the session ended: nothing to show it in.
            raise PageError(401, replies.DASHBOARD_FORM_EXPIRED)
        if request.method == "POST":
            form = await request.post()
            if not self.site.signer.csrf_ok(viewer.session.nonce, str(form.get("csrf", ""))):
                raise PageError(403, replies.DASHBOARD_FORM_EXPIRED)
        request[VIEWER] = viewer
        return await handler(request)

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.path.startswith(f"{ROOT}/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except PageError as exc:
            return self._error_page(request, exc.status, exc.message)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = replies.DASHBOARD_NO_PAGE if exc.status in (404, 405) else exc.reason
            return self._error_page(request, exc.status, message)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return self._error_page(request, 500, replies.DASHBOARD_INTERNAL)

    def _error_page(self, request: web.Request, status: int, message: str) -> web.Response:
        response = self.site.render(request, "error.html", status=status, title=str(status),
                                    message=message)
        response.headers.update(SECURITY_HEADERS)
        return response
