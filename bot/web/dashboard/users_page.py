"""The Users page (admins): each user's credits used and left, tier, ban and API keys, with
the `/admin` actions as forms (quota set, ban, unban, key revoke). Each form becomes the words
of the `/admin` command and goes through the core's admin commands, so the rules, the replies
and the audit log are the chat's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, NoReturn

from aiohttp import web
from multidict import MultiDictProxy

from bot.core import replies
from bot.core.commands import Reply
from bot.web.dashboard.site import ROOT, Site
from storage.api_keys import ApiKeyRecord, ApiKeys
from storage.people import People

USERS = f"{ROOT}/users"
MAX_SEARCH = 100
MAX_FIELD = 200
Form = MultiDictProxy[Any]


class UsersPage:
    """`/users?q=` and its forms."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.people = People(site.store.context)
        self.keys = ApiKeys(site.store.context)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/users", self.page)
        router.add_post("/users/quota", self.quota)
        router.add_post("/users/ban", self.ban)
        router.add_post("/users/unban", self.unban)
        router.add_post("/keys/{key_id:[0-9]{1,18}}/revoke", self.revoke)

    async def page(self, request: web.Request) -> web.Response:
        self.site.admin(request)
        search = request.query.get("q", "").strip()[:MAX_SEARCH]
        people = await self.people.listing(search=search)
        keys: defaultdict[str, list[ApiKeyRecord]] = defaultdict(list)
        for key in await self.keys.of(None):
            keys[key.user.key].append(key)
        return self.site.render(request, "users.html", title="Users", people=people,
                                keys=keys, search=search)

    async def quota(self, request: web.Request) -> web.Response:
        """`/admin quota set <user> <credits> [--window <hours>h]`."""

        def words(form: Form) -> list[str]:
            window = _text(form, "window")
            hours = ["--window", window if window[-1:].isalpha() else f"{window}h"]
            return ["quota", "set", _word(form, "user"), _word(form, "credits"),
                    *(hours if window else [])]

        await self._run(request, words)

    async def ban(self, request: web.Request) -> web.Response:
        """`/admin ban <user> [reason]`."""
        await self._run(request, lambda form: ["ban", _word(form, "user"),
                                               *_text(form, "reason").split()])

    async def unban(self, request: web.Request) -> web.Response:
        """`/admin unban <user>`."""
        await self._run(request, lambda form: ["unban", _word(form, "user")])

    async def revoke(self, request: web.Request) -> web.Response:
        """`/admin apikey revoke <key>`: the key stops working at once, its sessions too."""
        key_id = request.match_info["key_id"]
        await self._run(request, lambda _form: ["apikey", "revoke", key_id])

    async def _run(self, request: web.Request,
                   words_of: Callable[[Form], list[str]]) -> NoReturn:
        viewer = self.site.admin(request)
        try:
            words = words_of(await request.post())
        except BadField as exc:
            self.site.done(request, Reply(str(exc), refused=True), to=USERS)
        reply = await self.site.core.admin_request(viewer.user, " ".join(words), admin=True)
        self.site.done(request, reply, to=USERS)


class BadField(Exception):
    """A form field that cannot be one word of the command; the message says which."""


def _text(form: Form, name: str) -> str:
    return str(form.get(name, "")).strip()[:MAX_FIELD]


def _word(form: Form, name: str) -> str:
    """A field that is one word of the command."""
    text = _text(form, name)
    if len(text.split()) != 1:
        raise BadField(replies.form_one_word(name, text))
    return text
