"""A job that ends while the bot is down still gets its webhook once the bot is back: the event
was written with the job's end (the outbox), in real processes (`videobot run`, `videobot
worker --burst`), and it arrives once, under its one id."""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path

import openai
import pytest

from tests.api_helpers import WebhookReceiver
from tests.processes import start, videobot

pytestmark = pytest.mark.timeout(240)
SECRET = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until_up(client: openai.AsyncOpenAI, bot: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert bot.poll() is None, "the bot exited"
        try:
            await client.models.list()
            return
        except openai.APIConnectionError:
            await asyncio.sleep(0.1)
    raise AssertionError("the API did not come up")


def outbox(data: Path) -> list[tuple[int, str | None, int]]:
    with sqlite3.connect(data / "videobot.db") as db:
        return db.execute("SELECT id, sent_at, attempts FROM webhook_events").fetchall()


async def test_a_webhook_is_delivered_after_a_restart_once(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "config.toml"
    port = free_port()
    async with WebhookReceiver() as receiver:
        config.write_text(f'[console]\nenabled = false\n[queue]\npoll_interval_seconds = 0.2\n'
                          f'[api]\nlisten = "127.0.0.1:{port}"\nwebhook_url = "{receiver.url()}"\n'
                          f'webhook_secret = "{SECRET}"\n')
        made = await asyncio.to_thread(videobot, "admin", "apikey", "create", "console:alice",
                                       data_dir=data, config=config)
        key = made.stdout.strip().splitlines()[-1]
        client = openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key,
                                    max_retries=0)
        first = start("run", "--no-workers", data_dir=data, config=config)
        try:
            await until_up(client, first)
            video = await client.videos.create(prompt="a red ball moving up")
        finally:
            first.send_signal(signal.SIGKILL)
            await asyncio.to_thread(first.wait, 30)

        rendered = await asyncio.to_thread(videobot, "worker", "--burst", data_dir=data,
                                           config=config)
        assert rendered.returncode == 0, rendered.stderr
        [(event_id, sent_at, attempts)] = outbox(data)  # written with the job's end
        assert (sent_at, attempts, receiver.deliveries) == (None, 0, [])

        second = start("run", "--no-workers", data_dir=data, config=config)
        try:
            [delivery] = await receiver.wait_for(1, seconds=60)
            event = client.webhooks.unwrap(delivery.body, delivery.headers, secret=SECRET)
            assert (event.id, event.type, event.data.id) == (f"evt_{event_id}",
                                                             "video.completed", video.id)
            assert (await client.videos.retrieve(video.id)).status == "completed"
            await asyncio.sleep(1.5)  # several passes of the sender: nothing is sent again
            assert len(receiver.deliveries) == 1
            [(_, sent_at, attempts)] = outbox(data)
            assert sent_at is not None and attempts == 1
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(second.wait, 60) == 0
            await client.close()
