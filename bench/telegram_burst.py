"""A burst of `/video` commands through the Telegram adapter: how fast is each acknowledged?

200 commands from 50 users are pushed at once into the local Bot API fake (tests/fakes); the
real python-telegram-bot client long-polls them over 127.0.0.1, the core queues each job in a
fresh SQLite file, and the adapter replies. No worker: acks only.

By default the fake runs in a process of its own (tests/fakes/telegram_process.py), as
Telegram's servers are elsewhere in production: its request handling (parsing each form,
answering in JSON) does not compete with the bot for the bench's event loop and core. Both
ends of each latency are then taken in the fake's process with its `time.monotonic()`: when
the update was put where `getUpdates` serves it, and when the `sendMessage` replying to that
message with "Job #..." reached the fake (after its body was read). That clock is Linux's
CLOCK_MONOTONIC, one for the whole machine; the bench checks that the fake's reading falls
between two of its own. `--same-process` runs the fake in the bench's process and event loop
instead (the former way: the fake's work counts against the bot), measured the same way.

Prints, per run, p50/p99/max of those latencies and the commands that got no acknowledgement
or no job (target: p99 <= 500 ms, none lost); with `--runs N`, also the min/median of each
over the runs. Exits 1 unless every run met the target.

    .venv/bin/python bench/telegram_burst.py [--commands 200] [--users 50] [--runs 1]
                                             [--same-process]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
# The project root instead of bench/ (whose scripts' names, like queue.py, shadow the stdlib).
sys.path[0] = str(ROOT)

from bot.adapters.telegram import TelegramAdapter  # noqa: E402
from bot.core.commands import Core  # noqa: E402
from storage.connect import close_store, open_store  # noqa: E402
from storage.store import Store  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.telegram_process import (  # noqa: E402
    FakeTelegramProcess,
    Key,
    push_messages,
    wait_for_replies,
)
from videobot.config import TelegramConfig, config_from_dict  # noqa: E402

WAIT_FOR_ACKS_S = 30.0
ACK_PREFIX = "Job #"
TARGET_P99_S = 0.5


class BurstFake(Protocol):
    """What the burst needs of the fake, wherever it runs."""

    @property
    def token(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    async def push_messages(self, messages: list[dict[str, Any]]) -> dict[Key, float]: ...

    async def wait_for_replies(self, expected: set[Key], prefix: str,
                               within: float) -> dict[Key, float]: ...


class SameProcessFake:
    """`FakeTelegram` in this process and event loop, behind the `BurstFake` calls."""

    def __init__(self, api: FakeTelegram) -> None:
        self.api = api
        self.token = api.token

    @property
    def base_url(self) -> str:
        return self.api.base_url

    async def push_messages(self, messages: list[dict[str, Any]]) -> dict[Key, float]:
        return push_messages(self.api, messages)

    async def wait_for_replies(self, expected: set[Key], prefix: str,
                               within: float) -> dict[Key, float]:
        return await wait_for_replies(self.api, expected, prefix, within)


@dataclass
class Result:
    """One burst: ack latencies in s, commands without an ack, commands without a job."""

    latencies: list[float]
    lost: int
    missing: int

    @property
    def ok(self) -> bool:
        return (bool(self.latencies) and percentile(self.latencies, 0.99) <= TARGET_P99_S
                and self.lost == 0 and self.missing == 0)


@asynccontextmanager
async def fake_api(same_process: bool) -> AsyncIterator[BurstFake]:
    """The Bot API fake, in this process or in its own."""
    if same_process:
        async with FakeTelegram() as api:
            yield SameProcessFake(api)
    else:
        async with FakeTelegramProcess() as child:
            yield child


async def burst(commands: int, users: int, data_dir: Path, same_process: bool) -> Result:
    """Push the burst, wait for its acknowledgements, count the jobs queued."""
    config = config_from_dict({"data_dir": str(data_dir),
                               "limits": {"max_queued_per_user": commands}})
    store = await open_store(config)
    await store.submissions.warm_up()  # as `videobot run` does
    async with fake_api(same_process) as api:
        adapter = TelegramAdapter(
            core=Core(store=store, config=config), store=store, work_dir=data_dir / "uploads",
            config=TelegramConfig(token=api.token, api_base_url=api.base_url))
        await adapter.start()
        gc.freeze()  # as `videobot run` does once started
        try:
            pushed = await api.push_messages(burst_messages(commands, users))
            acks = await api.wait_for_replies(set(pushed), ACK_PREFIX, WAIT_FOR_ACKS_S)
        finally:
            await adapter.stop()
    jobs = await count_jobs(store)
    await close_store(store)
    latencies = [acks[key] - at for key, at in pushed.items() if key in acks]
    return Result(latencies, commands - len(latencies), commands - jobs)


def burst_messages(commands: int, users: int) -> list[dict[str, Any]]:
    """`push_message` keywords of each command, the users taking turns."""
    messages = []
    for index in range(commands):
        user = 5000 + index % users
        messages.append({"chat_id": user, "user_id": user,
                         "text": f"/video burst clip {index} --frames 8 --seed {index}"})
    return messages


async def count_jobs(store: Store) -> int:
    from sqlalchemy import func, select

    from storage.db import read_transaction
    from storage.models import Job

    async with read_transaction(store.engine) as conn:
        return int(await conn.scalar(select(func.count()).select_from(Job)) or 0)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def describe(result: Result) -> str:
    """p50/p99/max in ms and the losses of one run."""
    figures = "no acknowledgement at all"
    if result.latencies:
        figures = (f"p50 {1000 * statistics.median(result.latencies):.0f} ms, "
                   f"p99 {1000 * percentile(result.latencies, 0.99):.0f} ms, "
                   f"max {1000 * max(result.latencies):.0f} ms")
    return f"{figures}; lost: {result.lost} without an ack, {result.missing} without a job"


def summarize(results: list[Result]) -> str:
    """Min and median over the runs of p50, p99 and max."""
    measured = [r.latencies for r in results if r.latencies]
    if not measured:
        return "no run got an acknowledgement"
    parts = []
    for name, figure in (("p50", statistics.median),
                         ("p99", lambda values: percentile(values, 0.99)), ("max", max)):
        values = [1000 * figure(latencies) for latencies in measured]
        parts.append(f"{name} min {min(values):.0f} / median {statistics.median(values):.0f} ms")
    lost = sum(r.lost + r.missing for r in results)
    return f"{', '.join(parts)}; lost in all: {lost}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1, help="bursts, one after the other")
    parser.add_argument("--same-process", action="store_true",
                        help="run the Bot API fake in this process and event loop")
    args = parser.parse_args()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    logging.basicConfig(level=logging.WARNING)
    where = "in the bench's process" if args.same_process else "in its own process"
    print(f"{args.commands} /video commands from {args.users} users, the fake {where} "
          "(update available to acknowledgement received):")
    results = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="videobot-burst-") as tmp:
            result = asyncio.run(burst(args.commands, args.users, Path(tmp), args.same_process))
        print(f"run {run}: {describe(result)}")
        results.append(result)
    if len(results) > 1:
        print(f"over {len(results)} runs: {summarize(results)}")
    ok = all(result.ok for result in results)
    print(f"target (p99 <= {1000 * TARGET_P99_S:.0f} ms, none lost):",
          "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
