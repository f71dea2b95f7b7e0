"""Webhooks: the outbox's events posted to the key's webhook (or `[api] webhook_url`), signed
as Standard Webhooks, so that OpenAI's `client.webhooks.unwrap(body, headers, secret=...)`
verifies them.

At least once: an event is marked sent only after a 2xx answer, and tried again with backoff
until then (for about 6.5 hours), always under the same `webhook-id`; a receiver drops the
repeats by that id. Every database write happens after the HTTP call has ended (no network
I/O inside a write transaction), and events outlive restarts in their table.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp

from bot.web.models import video_id
from storage.outbox import DueEvent, Outbox
from storage.store import Store
from storage.wakeup import EVENTS
from videobot.api_config import WEBHOOK_SECRET_PREFIX, ApiConfig

log = logging.getLogger(__name__)

RETRY_BASE_S = 5.0
RETRY_MAX_S = 3600.0
#: Tries before an event is given up: 5 s doubling to an hour apart, about 6.5 hours in all.
MAX_ATTEMPTS = 16
SEND_TIMEOUT_S = 10.0
CONCURRENT_SENDS = 8
NO_WEBHOOK = "no webhook is configured for it ([api] webhook_url, or the key's own)"


def sign(secret: str, event_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the secret's bytes."""
    key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))
    digest = hmac.new(key, f"{event_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def event_body(event: DueEvent, base_url: str) -> str:
    """The event as OpenAI sends its own: the same bytes on every try."""
    video = video_id(event.job_id)
    return json.dumps({
        "id": event.event_id, "object": "event", "type": event.type,
        "created_at": int(event.created_at.timestamp()),
        "data": {"id": video, "url": f"{base_url}/v1/videos/{video}"},
    }, separators=(",", ":"))


def retry_delay(attempts: int, base: float = RETRY_BASE_S) -> float | None:
    """How long to wait after `attempts` failed tries (`base` after the first, doubling to
    an hour); None: give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return min(RETRY_MAX_S, base * 2 ** (attempts - 1))


class WebhookSender:
    """Sends the due events of the outbox, waking when a job ends."""

    def __init__(self, *, store: Store, api: ApiConfig, poll_interval: float = 1.0,
                 retry_base_s: float = RETRY_BASE_S) -> None:
        self.store = store
        self.api = api
        self.outbox = Outbox(store.engine)
        self.poll_interval = poll_interval
        self.retry_base_s = retry_base_s
        self._sending = asyncio.Semaphore(CONCURRENT_SENDS)

    async def run(self, stop: asyncio.Event) -> None:
        """Send until `stop` is set; a failed pass is logged and tried again."""
        timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT_S)
        async with (aiohttp.ClientSession(timeout=timeout) as session,
                    self.store.signals.listener(EVENTS) as wakeup):
            while not stop.is_set():
                try:
                    await self.send_due(session)
                except Exception:
                    log.exception("sending webhooks failed; trying again")
                await wakeup.wait(self.poll_interval)

    async def send_due(self, session: aiohttp.ClientSession) -> int:
        """Try every due event once, a few at a time; return how many were sent."""
        due = await self.outbox.due(self.store.clock())
        sent = await asyncio.gather(*(self._send(session, event) for event in due))
        return sum(sent)

    async def _send(self, session: aiohttp.ClientSession, event: DueEvent) -> bool:
        url, secret = ((event.key_webhook_url, event.key_webhook_secret)
                       if event.key_webhook_url else (self.api.webhook_url,
                                                      self.api.webhook_secret))
        if not url:
            await self.outbox.mark_failed(event.id, NO_WEBHOOK, None)
            return False
        async with self._sending:
            error = await self._post(session, url, secret, event)
        if error is None:
            await self.outbox.mark_sent(event.id, self.store.clock())
            return True
        delay = retry_delay(event.attempts + 1, self.retry_base_s)
        # The host only: a webhook's path may hold a token of the receiver's.
        log.warning("webhook %s to %s failed (try %s): %s; %s", event.event_id,
                    urlsplit(url).netloc, event.attempts + 1, error,
                    f"again in {delay:g} s" if delay else "giving up")
        retry_at = self.store.clock() + timedelta(seconds=delay) if delay else None
        await self.outbox.mark_failed(event.id, error, retry_at)
        return False

    async def _post(self, session: aiohttp.ClientSession, url: str, secret: str,
                    event: DueEvent) -> str | None:
        """One try: None when the webhook answered 2xx, else what went wrong."""
        body = event_body(event, self.api.base_url)
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "User-Agent": "videobot-webhooks",
                   "webhook-id": event.event_id, "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(secret, event.event_id, timestamp, body)}
        try:
            async with session.post(url, data=body.encode(), headers=headers) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"[:300]
        return None if 200 <= response.status < 300 else f"HTTP {response.status}"
