"""A burst of `POST /v1/videos` through the HTTP API: how fast is each answered?

200 requests from 50 API keys are sent at once to the real aiohttp server of the API, with
the real core and a fresh SQLite file (no worker: answers only), as `videobot run` serves
them. The clients run in a process of their own (as they are elsewhere in production), each
request on a new connection, sent as the OpenAI SDK sends a create (multipart/form-data; its
fields: prompt, seconds, size, and `seed` from `extra_body`). A latency is from just before
a request is sent to its answer read, on the clients' clock.

In the same run, `bench/telegram_burst.py`'s burst (200 `/video` commands from 50 users
through the Telegram adapter) is measured too, so that the two figures compare on the same
machine at the same moment (`--no-telegram` skips it).

Prints p50/p99/max per run and the requests that failed or queued no job (target: p99 <=
300 ms, none lost); with `--runs N`, also the min/median over the runs. Exits 1 unless every
API run met the target.

    .venv/bin/python bench/api_burst.py [--requests 200] [--keys 50] [--runs 1]
                                        [--no-telegram]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # the project root instead of bench/

from bench import telegram_burst  # noqa: E402
from bench.telegram_burst import Result, count_jobs, describe, summarize  # noqa: E402
from bot.core.commands import Core  # noqa: E402
from bot.web.front_door import ApiFrontDoor  # noqa: E402
from storage.api_keys import ApiKeys  # noqa: E402
from storage.connect import close_store, open_store  # noqa: E402
from videobot.config import config_from_dict  # noqa: E402
from videobot.users import UserRef  # noqa: E402

TARGET_P99_S = 0.3
WAIT_FOR_ANSWERS_S = 60.0


async def burst(requests: int, keys: int, data_dir: Path) -> Result:
    """Serve the API, have the client process send the burst, count the jobs queued."""
    config = config_from_dict({"data_dir": str(data_dir), "api": {"listen": "127.0.0.1:0"},
                               "limits": {"max_queued_per_user": requests}})
    store = await open_store(config)
    await store.submissions.warm_up()  # as `videobot run` does
    keys_of = ApiKeys(store.context)
    made = [await keys_of.create("bench", UserRef("bench", str(n))) for n in range(keys)]
    assert config.api is not None
    door = ApiFrontDoor(core=Core(store=store, config=config), api=config.api)
    await door.start()
    gc.freeze()  # as `videobot run` does once started
    try:
        latencies = await clients(f"http://127.0.0.1:{door.server.port}/v1",
                                  [key for _record, key in made], requests)
    finally:
        await door.stop()
    jobs = await count_jobs(store)
    await close_store(store)
    return Result(latencies, requests - len(latencies), requests - jobs)


async def clients(base_url: str, keys: list[str], requests: int) -> list[float]:
    """Run the client process; its answer: the latency of each request answered 200."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--client", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    order = json.dumps({"base_url": base_url, "keys": keys, "requests": requests}).encode()
    out, _ = await asyncio.wait_for(child.communicate(order), WAIT_FOR_ANSWERS_S)
    return list(json.loads(out)["latencies"])


async def send_burst(base_url: str, keys: list[str], requests: int) -> list[float]:
    """The client side: every request at once, each on its own connection."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=WAIT_FOR_ANSWERS_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def one(index: int) -> float | None:
            form = aiohttp.FormData({"prompt": f"burst clip {index}", "seconds": "1",
                                     "size": "256x256", "seed": str(index)},
                                    default_to_multipart=True)
            headers = {"Authorization": f"Bearer {keys[index % len(keys)]}"}
            started = time.monotonic()
            async with session.post(f"{base_url}/videos", data=form,
                                    headers=headers) as answer:
                body: dict[str, Any] = await answer.json()
            ok = answer.status == 200 and str(body.get("id", "")).startswith("video_")
            return time.monotonic() - started if ok else None

        answered = await asyncio.gather(*(one(index) for index in range(requests)),
                                        return_exceptions=True)
    return [value for value in answered if isinstance(value, float)]


def client_main() -> int:
    order = json.loads(sys.stdin.read())
    latencies = asyncio.run(send_burst(order["base_url"], order["keys"], order["requests"]))
    print(json.dumps({"latencies": latencies}))
    return 0


def ok(result: Result) -> bool:
    return (bool(result.latencies) and result.lost == 0 and result.missing == 0
            and telegram_burst.percentile(result.latencies, 0.99) <= TARGET_P99_S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1, help="bursts, one after the other")
    parser.add_argument("--no-telegram", action="store_true",
                        help="skip the Telegram burst measured beside it")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        return client_main()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    logging.basicConfig(level=logging.WARNING)
    api_results, telegram_results = [], []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="videobot-api-burst-") as tmp:
            api_results.append(asyncio.run(burst(args.requests, args.keys, Path(tmp))))
        print(f"run {run}: API, {args.requests} POST /v1/videos from {args.keys} keys "
              f"(sent to answered): {describe(api_results[-1])}")
        if not args.no_telegram:
            with tempfile.TemporaryDirectory(prefix="videobot-burst-") as tmp:
                telegram_results.append(asyncio.run(telegram_burst.burst(
                    args.requests, args.keys, Path(tmp), same_process=False)))
            print(f"run {run}: Telegram, {args.requests} /video from {args.keys} users "
                  f"(update to acknowledgement): {describe(telegram_results[-1])}")
    if args.runs > 1:
        print(f"API over {args.runs} runs: {summarize(api_results)}")
        if telegram_results:
            print(f"Telegram over {args.runs} runs: {summarize(telegram_results)}")
    met = all(ok(result) for result in api_results)
    print(f"API target (p99 <= {1000 * TARGET_P99_S:.0f} ms, none lost):",
          "met" if met else "NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
