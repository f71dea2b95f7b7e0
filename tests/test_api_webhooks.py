"""Webhooks of the HTTP API: written with the job's end (the outbox), signed as Standard
Webhooks, verified by the official client's `webhooks.unwrap`, retried under one id until a
2xx, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest
from sqlalchemy import select

from bot.core.commands import Core
from bot.web.webhooks import event_body, retry_delay, sign
from storage.connect import close_store, open_store
from storage.db import read_transaction
from storage.models import WebhookEvent
from storage.outbox import DueEvent
from storage.store import Store
from tests.api_helpers import ALICE, Api, WebhookReceiver, api_config, started_api, user
from tests.conftest import FakeClock

pytestmark = pytest.mark.timeout(120)
SECRET = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver(statuses=(500,)) as started:
        yield started


@pytest.fixture
async def api(tmp_path: Path, database_url: str,
              receiver: WebhookReceiver) -> AsyncIterator[Api]:
    config = api_config(tmp_path, database_url, api={"webhook_url": receiver.url(),
                                                     "webhook_secret": SECRET})
    store = await open_store(config)
    try:
        async with started_api(store, config) as started:
            started.door.webhooks.retry_base_s = 0.1
            yield started
    finally:
        await close_store(store)


async def events(store: Store) -> list[Any]:
    """The outbox's rows."""
    async with read_transaction(store.engine) as conn:
        return list((await conn.execute(select(WebhookEvent.__table__))).all())


async def sent_event(store: Store) -> Any:
    """The outbox's one row, once it is marked sent (just after the webhook answered)."""
    for _ in range(200):
        [row] = await events(store)
        if row.sent_at is not None:
            return row
        await asyncio.sleep(0.02)
    raise AssertionError("the event was not marked sent")


async def test_a_finished_video_is_posted_signed_and_retried_under_one_id(
        api: Api, receiver: WebhookReceiver) -> None:
    client = api.client(await api.key())
    async with api.worker():
        video = await client.videos.create_and_poll(prompt="a red ball", poll_interval_ms=50)
    first, second = await receiver.wait_for(2)  # a 500, then a 200
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    for delivery in (first, second):
        event = client.webhooks.unwrap(delivery.body, delivery.headers, secret=SECRET)
        assert (event.type, event.data.id) == ("video.completed", video.id)
        assert event.id == delivery.headers["webhook-id"]
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.unwrap(second.body.replace(b"completed", b"failed"), second.headers,
                               secret=SECRET)
    body = json.loads(second.body)
    assert body["object"] == "event" and body["data"]["url"].endswith(f"/v1/videos/{video.id}")
    row = await sent_event(api.store)
    assert (row.attempts, row.next_attempt_at, row.last_error) == (2, None, "")


async def test_a_keys_own_webhook_hears_of_a_cancelled_video_and_chat_jobs_send_none(
        api: Api, receiver: WebhookReceiver) -> None:
    record, key = await api.keys.create("shell:test", user(ALICE),
                                        webhook_url=receiver.url("/own"))
    client = api.client(key)
    video = await client.videos.create(prompt="a red ball")
    core = Core(store=api.store, config=api.config)
    await core.handle(user(ALICE), "/video a blue square")  # a chat job: no webhook
    assert "cancelled" in (await core.handle(user(ALICE), f"/cancel {video.id[6:]}")).text
    [_failed, delivery] = await receiver.wait_for(2)
    assert delivery.path == "/own"
    event = client.webhooks.unwrap(delivery.body, delivery.headers,
                                   secret=record.webhook_secret)
    assert (event.type, event.data.id) == ("video.failed", video.id)
    retrieved = await client.videos.retrieve(video.id)
    assert retrieved.error is not None and retrieved.error.code == "cancelled"
    assert len(await events(api.store)) == 1


async def test_a_deleted_video_sends_no_webhook(api: Api, receiver: WebhookReceiver) -> None:
    client = api.client(await api.key())
    video = await client.videos.create(prompt="a red ball")
    await client.videos.delete(video.id)
    assert await events(api.store) == []
    assert receiver.deliveries == []


def test_the_signature_is_standard_webhooks_and_the_backoff_doubles_then_gives_up() -> None:
    clock = FakeClock()
    event = DueEvent(7, 12, "video.completed", clock(), 0, "", "")
    body = event_body(event, "https://bot.example")
    assert json.loads(body)["data"] == {"id": "video_12",
                                        "url": "https://bot.example/v1/videos/video_12"}
    headers = {"webhook-id": "evt_7", "webhook-timestamp": "1700000000",
               "webhook-signature": sign(SECRET, "evt_7", 1700000000, body)}
    # The reference check: OpenAI's own, with the timestamp window set aside.
    from openai.lib._webhooks import webhook_signature_matches

    assert webhook_signature_matches(body, headers, secret=SECRET, tolerance=10**10)
    assert [retry_delay(n) for n in (1, 2, 3, 10, 11, 15)] == [5, 10, 20, 2560, 3600, 3600]
    assert retry_delay(16) is None
