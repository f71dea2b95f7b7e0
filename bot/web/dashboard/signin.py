"""Signing in with an API key, and out; and, on every other request, the session it made.

The form has one password field. A wrong key gets the form again with the reason (and counts
against the address: see `throttle`); a right one gets a session cookie (HttpOnly,
SameSite=Strict, Secure over https) and goes on to the page it was sent from. The key is
looked up as the API looks it up (`ApiKeys.find`, by its hash, in constant time); it is
never logged, stored in a cookie or echoed back.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from aiohttp import web

from bot.core import replies
from bot.core.admin import is_admin
from bot.web.dashboard.sessions import SESSION_COOKIE, SIGNIN_COOKIE, new_nonce
from bot.web.dashboard.site import ROOT, Site, Viewer
from bot.web.dashboard.throttle import SignInThrottle
from storage.api_keys import ApiKeys
from storage.errors import ApiKeyNotFound

#: A sign-in form is good for this long (its nonce cookie lives as long).
FORM_SECONDS = 3600
HOME = f"{ROOT}/queue"


class SignIn:
    """The sign-in and sign-out routes, and the session behind every other page."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.keys = ApiKeys(site.store.context)
        self.throttle = SignInThrottle()
        self.lifetime = timedelta(hours=site.api.session_hours)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """`/signin` (GET the form, POST a key) and `/signout` (POST)."""
        router.add_get("/signin", self.form)
        router.add_post("/signin", self.sign_in)
        router.add_post("/signout", self.sign_out)

    async def viewer(self, request: web.Request) -> Viewer | None:
        """The viewer of a request's session cookie; None when there is none, it is forged or
        over, or its key has been revoked since."""
        value = request.cookies.get(SESSION_COOKIE)
        session = self.site.signer.session(value, self.site.store.clock()) if value else None
        if session is None:
            return None
        try:
            key = await self.keys.require(session.key_id)
        except ApiKeyNotFound:
            return None
        if key.revoked:
            return None
        admin = key.admin or is_admin(key.user, self.site.config)
        return Viewer(key, session, admin, self.site.signer.csrf_token(session.nonce))

    async def form(self, request: web.Request) -> web.Response:
        """The sign-in form (with a nonce cookie its token is bound to)."""
        return self._form(request, "", next_path=request.query.get("next", ""))

    async def sign_in(self, request: web.Request) -> web.Response:
        """Check the key; a session and the page asked for, or the form with the reason."""
        address = self.site.addresses.client(request)
        form = await request.post()
        next_path = str(form.get("next", ""))
        wait = self.throttle.wait_left(address)
        if wait > 0:
            return self._form(request, replies.dashboard_signin_wait(wait), status=429,
                              next_path=next_path)
        nonce = request.cookies.get(SIGNIN_COOKIE, "")
        if not self.site.signer.csrf_ok(nonce, str(form.get("csrf", ""))):
            return self._form(request, replies.DASHBOARD_FORM_EXPIRED, status=403,
                              next_path=next_path)
        secret = str(form.get("key", "")).strip()
        if not secret:
            return self._form(request, replies.DASHBOARD_KEY_MISSING, status=400,
                              next_path=next_path)
        key = await self.keys.find(secret)
        if key is None:
            self.throttle.failed(address)
            return self._form(request, replies.API_KEY_UNKNOWN, status=401,
                              next_path=next_path)
        self.throttle.succeeded(address)
        _session, cookie = self.site.signer.new_session(key.id, self.site.store.clock(),
                                                        self.lifetime)
        response = web.HTTPSeeOther(_local_path(next_path))
        response.set_cookie(SESSION_COOKIE, cookie, path=ROOT, httponly=True, samesite="Strict",
                            secure=self.site.addresses.is_https(request),
                            max_age=int(self.lifetime.total_seconds()))
        response.del_cookie(SIGNIN_COOKIE, path=f"{ROOT}/signin")
        raise response

    async def sign_out(self, request: web.Request) -> web.Response:
        """End the session (its form token was checked on the way in)."""
        response = web.HTTPSeeOther(f"{ROOT}/signin")
        response.del_cookie(SESSION_COOKIE, path=ROOT)
        raise response

    def _form(self, request: web.Request, error: str, *, next_path: str,
              status: int = 200) -> web.Response:
        nonce = request.cookies.get(SIGNIN_COOKIE) or new_nonce()
        response = self.site.render(
            request, "signin.html", status=status, title="Sign in", error=error,
            signin_csrf=self.site.signer.csrf_token(nonce), next=_local_path(next_path))
        response.set_cookie(SIGNIN_COOKIE, nonce, path=f"{ROOT}/signin", httponly=True,
                            samesite="Strict", secure=self.site.addresses.is_https(request),
                            max_age=FORM_SECONDS)
        return response


def _local_path(text: str) -> str:
    """`text` if it is a path of the dashboard (never another site), else the queue."""
    parts = urlsplit(text)
    if parts.scheme or parts.netloc or not parts.path.startswith(f"{ROOT}/"):
        return HOME
    if parts.path.startswith(f"{ROOT}/sign"):
        return HOME
    return parts.path + (f"?{parts.query}" if parts.query else "")
