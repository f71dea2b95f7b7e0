"""The webhook server: Telegram posts each update to it (with the secret), instead of the bot
polling for them."""

from __future__ import annotations

import hmac
import logging
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.adapters.telegram.api import call
from videobot.config import TelegramConfig

log = logging.getLogger(__name__)

SEEN_UPDATES = 1000
ALLOWED_UPDATES = ["message", "callback_query"]


class WebhookServer:
    """An aiohttp server at `telegram.webhook_url`'s path, queueing updates for `app`."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any],
                 config: TelegramConfig) -> None:
        self.app = app
        self.config = config
        self._runner: web.AppRunner | None = None
        self._seen_updates: deque[int] = deque(maxlen=SEEN_UPDATES)

    async def start(self) -> None:
        """Listen, then tell Telegram where to post."""
        server = web.Application()
        server.router.add_post(urlsplit(self.config.webhook_url).path or "/", self._on_update)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.config.webhook_listen,
                          self.config.webhook_port).start()
        await call(lambda: self.app.bot.set_webhook(
            self.config.webhook_url, secret_token=self.config.webhook_secret,
            allowed_updates=ALLOWED_UPDATES))

    async def stop(self) -> None:
        """Tell Telegram to stop posting, then stop listening."""
        try:
            await self.app.bot.delete_webhook()
        except Exception:
            log.warning("telegram: deleteWebhook failed; the next start sets it again",
                        exc_info=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_update(self, request: web.Request) -> web.Response:
        """One update from Telegram: secret checked in constant time, then queued."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self.config.webhook_secret.encode()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.app.bot)
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400)
        if update.update_id not in self._seen_updates:  # Telegram resends unanswered updates
            self._seen_updates.append(update.update_id)
            await self.app.update_queue.put(update)
        return web.Response()
