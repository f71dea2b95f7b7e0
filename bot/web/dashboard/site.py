"""What every dashboard page shares: who is looking (`Viewer`), the templates (Jinja2, every
value escaped), and how an action answers: a redirect back to the page with a one-time
message (a signed cookie), so that reloading the page does not send the form again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn, Protocol

import jinja2
from aiohttp import web
from markupsafe import Markup

from bot.core import replies
from bot.core.commands import Core, Reply
from bot.web.dashboard.addresses import Addresses
from bot.web.dashboard.sessions import FLASH_COOKIE, Session, Signer
from storage.api_keys import ApiKeyRecord
from videobot.api_config import ApiConfig
from videobot.users import UserRef

ROOT = "/dashboard"
FLASH_SECONDS = 60
#: Pages every viewer has, then those only admins have: (path, title).
PAGES = (("queue", "Queue"), ("clips", "Clips"))
ADMIN_PAGES = (("workers", "Workers"), ("users", "Users"), ("audit", "Audit"),
               ("stats", "Stats"))


@dataclass(frozen=True)
class Viewer:
    """A signed-in browser: its API key, its session, and whether it sees everything."""

    key: ApiKeyRecord
    session: Session
    admin: bool
    csrf: str

    @property
    def user(self) -> UserRef:
        """The chat identity the key acts as."""
        return self.key.user

    def owner_filter(self) -> UserRef | None:
        """Whose jobs this viewer may see: their own, or (admin) everyone's (None)."""
        return None if self.admin else self.key.user


#: Where the sign-in check leaves a request's viewer.
VIEWER = web.RequestKey("dashboard_viewer", Viewer)


class Page(Protocol):
    """One page (or group of pages) of the dashboard."""

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Add the page's routes (paths under `/dashboard`)."""
        ...


class Site:
    """The dashboard's shared parts, handed to each page."""

    def __init__(self, *, core: Core, api: ApiConfig, signer: Signer) -> None:
        self.core = core
        self.store = core.store
        self.config = core.config
        self.api = api
        self.signer = signer
        self.addresses = Addresses(api.trusted_proxies)
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("bot.web.dashboard", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
            lstrip_blocks=True)
        self.templates.filters.update(duration=replies.duration_words, when=_when)
        # Templates take their sentences from the replies module, as every front door does.
        self.templates.globals.update(root=ROOT, pages=PAGES, admin_pages=ADMIN_PAGES,
                                      replies=replies)

    def viewer(self, request: web.Request) -> Viewer:
        """The signed-in viewer of a request (the sign-in check put it there)."""
        return request[VIEWER]

    def admin(self, request: web.Request) -> Viewer:
        """The viewer, who must be an admin (else 403)."""
        viewer = self.viewer(request)
        if not viewer.admin:
            raise PageError(403, replies.ADMIN_ONLY)
        return viewer

    def render(self, request: web.Request, template: str, *, status: int = 200,
               **context: Any) -> web.Response:
        """A page from `template`, with the viewer, its form token and any message."""
        viewer = request.get(VIEWER)
        flash = self._flash(request)
        html = self.templates.get_template(template).render(
            viewer=viewer, csrf=viewer.csrf if viewer else "", flash=flash,
            path=request.path, **context)
        response = web.Response(text=html, status=status, content_type="text/html")
        if flash is not None:
            response.del_cookie(FLASH_COOKIE, path=ROOT)
        return response

    def fragment(self, template: str, **context: Any) -> Markup:
        """A piece of a page (e.g. the queue's rows, sent again as they change), escaped."""
        return Markup(self.templates.get_template(template).render(**context))

    def done(self, request: web.Request, reply: Reply | str, *, to: str) -> NoReturn:
        """Answer an action: to the page `to`, with `reply` shown there once."""
        text, refused = (reply, False) if isinstance(reply, str) else (reply.text, reply.refused)
        response = web.HTTPSeeOther(to)
        response.set_cookie(FLASH_COOKIE, self.signer.seal("flash", {"m": text, "r": refused}),
                            max_age=FLASH_SECONDS, path=ROOT, httponly=True, samesite="Strict",
                            secure=self.addresses.is_https(request))
        raise response

    def _flash(self, request: web.Request) -> dict[str, Any] | None:
        value = request.cookies.get(FLASH_COOKIE)
        payload = self.signer.unseal("flash", value) if value else None
        if payload is None or not isinstance(payload.get("m"), str):
            return None
        return {"text": payload["m"], "refused": bool(payload.get("r"))}


class PageError(Exception):
    """A page answered with an error: its status and the sentence the viewer reads."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def not_found() -> NoReturn:
    """404, the same for what does not exist and what the viewer may not see."""
    raise PageError(404, replies.DASHBOARD_NO_PAGE)


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "—"
