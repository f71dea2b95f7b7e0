"""The HTTP API under test: the real aiohttp server on 127.0.0.1 with the real core, delivery
loop and job store (SQLite or PostgreSQL), driven by the official OpenAI client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from openai import AsyncOpenAI
from sqlalchemy import func, select

from bot.core.commands import Core
from bot.delivery import DeliveryLoop
from bot.web.front_door import ApiFrontDoor, web_extras
from generator.backends.loader import ResidentBackend
from generator.worker import Worker
from storage.api_keys import ApiKeys
from storage.db import read_transaction
from storage.models import Charge, Job
from storage.store import Store
from videobot.config import Config, config_from_dict
from videobot.users import UserRef, parse_user

ALICE = "console:alice"
BOB = "telegram:4242"


def api_config(tmp_path: Path, database_url: str, **changes: Any) -> Config:
    """The embedded defaults (the demo model) with the API on a free port."""
    raw: dict[str, Any] = {"data_dir": str(tmp_path / "data"), "database": {"url": database_url},
                           "api": {"listen": "127.0.0.1:0"}}
    for section, values in changes.items():  # a table is merged, a plain key replaced
        raw[section] = {**raw.get(section, {}), **values} if isinstance(values, dict) else values
    return config_from_dict(raw)


@dataclass
class Api:
    """A started API with its delivery loop; `worker()` renders in this process."""

    store: Store
    config: Config
    door: ApiFrontDoor
    keys: ApiKeys
    clients: list[AsyncOpenAI] = field(default_factory=list)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.door.server.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    async def key(self, user: str = ALICE, **options: Any) -> str:
        _record, key = await self.keys.create("shell:test", parse_user(user), **options)
        return key

    def client(self, key: str) -> AsyncOpenAI:
        # No retries: every answer is checked as the server gave it.
        client = AsyncOpenAI(base_url=self.base_url, api_key=key, max_retries=0)
        self.clients.append(client)
        return client

    async def jobs(self) -> int:
        async with read_transaction(self.store.engine) as conn:
            return int(await conn.scalar(select(func.count()).select_from(Job)) or 0)

    async def charges(self) -> int:
        async with read_transaction(self.store.engine) as conn:
            return int(await conn.scalar(select(func.count()).select_from(Charge)) or 0)

    @asynccontextmanager
    async def worker(self) -> AsyncIterator[Worker]:
        """A worker with the real backends (the demo model) claiming until the block ends."""
        resident = ResidentBackend(device="cpu", models_dir=self.config.data_dir / "models")
        worker = Worker(store=self.store, config=self.config, backends=resident,
                        worker_id="api-test", clips_dir=self.config.data_dir / "clips")
        task = asyncio.create_task(worker.run())
        try:
            yield worker
        finally:
            worker.request_stop()
            await task
            resident.close()


@asynccontextmanager
async def started_api(store: Store, config: Config, *,
                      dashboard: bool = False) -> AsyncIterator[Api]:
    """The API (with `dashboard`: the dashboard and /metrics too) and its delivery loop."""
    assert config.api is not None
    core = Core(store=store, config=config)
    door = ApiFrontDoor(core=core, api=config.api,
                        more_groups=web_extras(core, config.api) if dashboard else ())
    await door.start()
    stop = asyncio.Event()
    loop = DeliveryLoop(store=store, adapters={"api": door}, clips_dir=config.data_dir / "clips",
                        poll_interval=0.05)
    delivery = asyncio.create_task(loop.run(stop))
    api = Api(store, config, door, ApiKeys(store.context))
    try:
        yield api
    finally:
        for client in api.clients:
            await client.close()
        stop.set()
        await delivery
        await door.stop()


def user(text: str) -> UserRef:
    return parse_user(text)


@dataclass
class Delivery:
    """One webhook request as the receiver got it."""

    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A local webhook endpoint that records what arrives and answers with `statuses` in turn
    (then 200)."""

    def __init__(self, statuses: tuple[int, ...] = ()) -> None:
        self.statuses = list(statuses)
        self.deliveries: list[Delivery] = []
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def __aenter__(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def wait_for(self, count: int, seconds: float = 20.0) -> list[Delivery]:
        async with asyncio.timeout(seconds):
            while len(self.deliveries) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.deliveries

    async def _receive(self, request: web.Request) -> web.Response:
        self.deliveries.append(Delivery(request.path, dict(request.headers),
                                        await request.read()))
        self.arrived.set()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)
