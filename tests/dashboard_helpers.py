"""The dashboard under test: the real server (with the API, the core and the job store on
SQLite or PostgreSQL), read and driven by a real HTTP client that keeps cookies as a browser
does, sending forms with the token of the page they came from."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from generator.backends.loader import ResidentBackend
from generator.worker import Worker
from storage.records import JobRecord
from storage.store import Store
from tests.api_helpers import Api, started_api
from tests.conftest import FakeClock
from videobot.config import Config
from videobot.params import RenderRequest
from videobot.users import UserRef

_CSRF = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass
class Page:
    """What a request got: its status, final URL and body."""

    status: int
    url: str
    text: str

    @property
    def plain(self) -> str:
        """The body with HTML's entities read back (the words as a browser shows them)."""
        return html.unescape(self.text)

    @property
    def csrf(self) -> str:
        found = _CSRF.search(self.text)
        assert found is not None, "no form token on the page"
        return html.unescape(found.group(1))


@dataclass
class Visitor:
    """One browser's worth of cookies against the dashboard."""

    root: str
    session: aiohttp.ClientSession
    last: Page | None = field(default=None)

    async def get(self, path: str, **options: Any) -> Page:
        async with self.session.get(self.root + path, **options) as answer:
            self.last = Page(answer.status, str(answer.url), await answer.text(errors="replace"))
        return self.last

    async def post(self, path: str, data: dict[str, str] | None = None, *,
                   token: bool = True, **options: Any) -> Page:
        """Send a form; with `token`, the form token of the last page read."""
        form = dict(data or {})
        if token:
            assert self.last is not None
            form.setdefault("csrf", self.last.csrf)
        async with self.session.post(self.root + path, data=form, **options) as answer:
            self.last = Page(answer.status, str(answer.url), await answer.text(errors="replace"))
        return self.last

    async def sign_in(self, key: str) -> Page:
        await self.get("/dashboard/signin")
        return await self.post("/dashboard/signin", {"key": key})

    def cookie(self, name: str) -> str | None:
        for cookie in self.session.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None


@asynccontextmanager
async def visitor(api: Api) -> AsyncIterator[Visitor]:
    # unsafe: keep cookies of an IP address host (127.0.0.1), as a browser does.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield Visitor(api.root, session)


@asynccontextmanager
async def started_dashboard(store: Store, config: Config) -> AsyncIterator[Api]:
    async with started_api(store, config, dashboard=True) as api:
        yield api


def request(prompt: str, *, seed: int = 1, preset: str = "demo") -> RenderRequest:
    return RenderRequest(prompt=prompt, negative_prompt="", frames=16, fps=8, width=256,
                         height=256, steps=4, guidance=0.0, seed=seed, preset=preset)


async def queued(store: Store, user: UserRef, prompt: str, **options: Any) -> JobRecord:
    """A job queued as the core queues one (no charge)."""
    return await store.submissions.enqueue(user, request(prompt, **options), max_queued_per_user=50)


async def render_all(api: Api, clock: FakeClock | None = None, seconds: float = 0.0) -> int:
    """Render every waiting job with the demo model in this process; how many it rendered.
    With `clock`, each job takes `seconds` by it (from claim to clip), as on a real GPU."""
    resident = ResidentBackend(device="cpu", models_dir=api.config.data_dir / "models")
    worker = Worker(store=api.store, config=api.config, backends=resident,
                    worker_id="dashboard-test", clips_dir=api.config.data_dir / "clips")
    try:
        if clock is None:
            return await worker.run(burst=True)
        done = 0
        while (job := await api.store.leases.claim_next_job(worker.worker_id)) is not None:
            clock.advance(seconds)
            await worker.process(job)
            await worker.finish_pending()  # the clip recorded before the clock moves on
            done += 1
        return done
    finally:
        resident.close()
