"""A burst of `/video` commands through the Discord adapter: 200 interactions from 50 users,
sent to the real discord.py client by the local Discord fake (tests/fakes/discord_api.py),
with the real core, SQLite store and delivery loop (no worker: the jobs stay queued, and the
delivery loop edits their position while the burst goes on).

Prints p50/p99 of the time from sending INTERACTION_CREATE to receiving the callback, and the
commands lost (no callback, or no job row). Discord's deadline is 3 s; the target is p99 <= 1 s.

    .venv/bin/python bench/discord_burst.py [--interactions 200] [--users 50]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

with warnings.catch_warnings():  # discord.py imports audioop, deprecated in Python 3.11+
    warnings.simplefilter("ignore", DeprecationWarning)
    from bot.adapters.discord import DiscordAdapter

from bot.core.commands import Core  # noqa: E402
from bot.delivery import DeliveryLoop  # noqa: E402
from storage.connect import close_store, open_store  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.fakes.discord_api import TOKEN, FakeDiscord, FakeUser, Recorded  # noqa: E402
from videobot.config import Config, config_from_dict  # noqa: E402

WAIT_FOR_ACKS_S = 30.0


_NONE = Recorded("", "", {}, {"type": 0}, {}, 0.0)


def bench_config(data_dir: Path, fake: FakeDiscord, interactions: int) -> Config:
    return config_from_dict({
        "data_dir": str(data_dir),
        "limits": {"max_queued_per_user": interactions},
        "discord": {"token": TOKEN, "api_base_url": fake.api_base_url,
                    "gateway_url": fake.gateway_url, "guild_ids": [1]},
    })


async def burst(fake: FakeDiscord, interactions: int, users: int) -> list[str]:
    """Send every interaction as fast as the gateway takes them; return their ids."""
    people = [FakeUser(900000000000000000 + n, f"user{n}") for n in range(users)]
    ids = []
    for n in range(interactions):
        options = {"prompt": f"clip {n}", "frames": 8, "width": 32, "height": 32, "steps": 2}
        ids.append(await fake.command(people[n % users], "video", options))
    return ids


def acknowledged(fake: FakeDiscord, interaction_id: str) -> Recorded | None:
    """The request that showed the job's acknowledgement: the callback itself, or, when the
    adapter deferred, its edit of the original response."""
    callback = fake.callback(interaction_id)
    if callback is None or callback.body["type"] == 4:
        return callback
    token = fake.interactions[interaction_id].token
    edits = fake.sent("PATCH", rf"/{token}/messages/@original$")
    return edits[0] if edits else None


async def wait_for_acknowledgements(fake: FakeDiscord, ids: list[str]) -> None:
    deadline = time.monotonic() + WAIT_FOR_ACKS_S
    while time.monotonic() < deadline and not all(acknowledged(fake, i) for i in ids):
        await fake.changed(0.1)


def latencies(fake: FakeDiscord, ids: list[str],
              find: Callable[[FakeDiscord, str], Recorded | None]) -> list[float]:
    found = []
    for interaction_id in ids:
        request = find(fake, interaction_id)
        if request is not None:
            found.append(request.at - fake.interactions[interaction_id].sent_at)
    return found


async def run(interactions: int, users: int) -> int:
    fake = FakeDiscord()
    await fake.start()
    with tempfile.TemporaryDirectory(prefix="videobot-discord-bench-") as folder:
        config = bench_config(Path(folder), fake, interactions)
        store = await open_store(config)
        await store.submissions.warm_up()  # as `videobot run` does
        try:
            return await measure(fake, config, store, interactions, users)
        finally:
            await close_store(store)
            await fake.stop()


async def measure(fake: FakeDiscord, config: Config, store: Store, interactions: int,
                  users: int) -> int:
    assert config.discord is not None
    adapter = DiscordAdapter(core=Core(store=store, config=config), store=store,
                             config=config.discord, work_dir=config.data_dir / "uploads",
                             guild_ready_timeout=0.1)
    await adapter.start()
    gc.freeze()  # as `videobot run` does once started
    delivery = DeliveryLoop(store=store, adapters={"discord": adapter},
                            clips_dir=config.data_dir / "clips", journal=adapter.journal)
    stop = asyncio.Event()
    loop_task = asyncio.create_task(delivery.run(stop))
    try:
        started = time.monotonic()
        ids = await burst(fake, interactions, users)
        await wait_for_acknowledgements(fake, ids)
        elapsed = time.monotonic() - started
        jobs = len(await store.jobs.active_jobs())
    finally:
        stop.set()
        await loop_task
        await adapter.stop()
    callbacks = latencies(fake, ids, FakeDiscord.callback)
    acks = latencies(fake, ids, acknowledged)
    deferred = sum(1 for i in ids if (fake.callback(i) or _NONE).body["type"] == 5)
    print(f"{interactions} interactions from {users} users in {elapsed:.2f} s; "
          f"{deferred} deferred")
    p99 = report("INTERACTION_CREATE -> callback", callbacks)
    report("INTERACTION_CREATE -> acknowledgement shown", acks)
    lost = interactions - min(len(callbacks), len(acks), jobs)
    print(f"jobs queued: {jobs}; lost commands: {lost}")
    return 0 if lost == 0 and p99 <= 1.0 else 1


def report(what: str, found: list[float]) -> float:
    """Print the median and 99th percentile of `found` (seconds); return the latter."""
    if not found:
        print(f"{what}: none")
        return float("inf")
    p99 = statistics.quantiles(found, n=100)[98] if len(found) > 1 else found[0]
    print(f"{what}: p50 {1000 * statistics.median(found):.0f} ms, p99 {1000 * p99:.0f} ms, "
          f"max {1000 * max(found):.0f} ms")
    return p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(run(args.interactions, args.users))


if __name__ == "__main__":
    raise SystemExit(main())
