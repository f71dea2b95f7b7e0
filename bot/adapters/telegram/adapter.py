"""The Telegram adapter's lifecycle: the application built, started (polling or the webhook)
and stopped, with its handlers, progress and delivery in their own modules."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot, BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.adapters.base import AdapterStartError
from bot.adapters.status_previews import MEDIA_EDIT_EVERY_S, StatusPreviews
from bot.adapters.telegram.aiohttp_request import AiohttpRequest
from bot.adapters.telegram.animate import UNCOMMANDED_PICTURE, AnimateOffers
from bot.adapters.telegram.api import call
from bot.adapters.telegram.commands import MENU_COMMANDS, PLATFORM, TelegramCommands
from bot.adapters.telegram.delivery import TelegramDelivery
from bot.adapters.telegram.status import StatusMessages
from bot.adapters.telegram.webhook import ALLOWED_UPDATES, WebhookServer
from bot.core import replies
from bot.core.commands import Core
from bot.posted import PostedJournal
from storage.previews import PreviewStore
from storage.records import JobRecord
from storage.store import Store
from videobot.config import TelegramConfig
from videobot.logs import SecretRedactor, redact

log = logging.getLogger(__name__)

OFFICIAL_API_HOST = "api.telegram.org"
OFFICIAL_UPLOAD_LIMIT_MB = 50
SELF_HOSTED_UPLOAD_LIMIT_MB = 2000
#: Updates handled at once (each mostly waits on the database and on Telegram); one chat's
#: updates are still handled one after the other.
CONCURRENT_UPDATES = 64


class TelegramStartError(AdapterStartError):
    """The Telegram adapter could not start."""


def upload_limit_bytes(config: TelegramConfig) -> int:
    """`upload_limit_mb`, or 50 MB on the official API and 2000 MB on a self-hosted server."""
    megabytes = config.upload_limit_mb
    if not megabytes:
        official = urlsplit(config.api_base_url).hostname == OFFICIAL_API_HOST
        megabytes = OFFICIAL_UPLOAD_LIMIT_MB if official else SELF_HOSTED_UPLOAD_LIMIT_MB
    return megabytes * 1_000_000


def file_base_url(api_base_url: str) -> str:
    """Where the Bot API serves files: `https://host/file/bot<token>/<path>` beside
    `https://host/bot<token>/<method>`."""
    head, found, tail = api_base_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if found else f"{api_base_url.rstrip('/')}/file/bot"


class _ChatOrder(BaseUpdateProcessor):
    """Handles updates of different chats at once, and each chat's in the order they came:
    a user's second command is answered after their first."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._turns: dict[int, asyncio.Lock] = {}
        self._queued: Counter[int] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        # Updates reach here in the order they came, and the lock wakes its waiters in order.
        turn = self._turns.setdefault(chat.id, asyncio.Lock())
        self._queued[chat.id] += 1
        try:
            async with turn:
                await coroutine
        finally:
            self._queued[chat.id] -= 1
            if not self._queued[chat.id]:
                del self._queued[chat.id], self._turns[chat.id]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class TelegramAdapter:
    """The bot on Telegram, by long polling or a webhook."""

    platform = PLATFORM

    def __init__(self, *, core: Core, store: Store, config: TelegramConfig,
                 work_dir: Path, journal: PostedJournal | None = None,
                 preview_every_s: float = MEDIA_EDIT_EVERY_S) -> None:
        """`journal`: where a posted clip's message id is written the moment Telegram
        answers (the delivery loop's; none: in memory only); `preview_every_s`: the fewest
        seconds between two pictures of a status message."""
        self.core = core
        self.store = store
        self.config = config
        self.work_dir = work_dir
        self.journal = journal if journal is not None else PostedJournal(None)
        self.upload_limit = upload_limit_bytes(config)
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        previews = StatusPreviews(PreviewStore.of(store.context, core.config),
                                  every_s=preview_every_s)
        self._messages = StatusMessages(bot=self._bot, store=store, journal=self.journal,
                                        interval=config.progress_interval_seconds,
                                        previews=previews)
        self._commands = TelegramCommands(core=core, config=config, bot=self._bot,
                                          messages=self._messages)
        self._offers = AnimateOffers(core=core, config=config, bot=self._bot)
        self._delivery = TelegramDelivery(bot=self._bot, messages=self._messages,
                                          upload_limit=self.upload_limit, work_dir=work_dir)
        self._redactor = SecretRedactor(config.token)
        self._webhook: WebhookServer | None = None

    @property
    def app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        """The started application."""
        if self._app is None:
            raise RuntimeError("the Telegram adapter is not started")
        return self._app

    def _bot(self) -> Bot:
        return self.app.bot

    async def start(self) -> None:
        """Check the token, register the command menu, then poll or serve the webhook."""
        self._redactor.install()
        calls, polls = AiohttpRequest(), AiohttpRequest(connection_pool_size=1)
        app = self._build_application(calls, polls)
        try:
            await app.initialize()
        except TelegramError as exc:
            # `app` counts as not initialized: close by hand. The redactor stays: the error
            # is yet to be logged.
            await asyncio.gather(calls.shutdown(), polls.shutdown())
            raise self._start_error(exc) from exc
        self._app = app
        try:
            await call(lambda: app.bot.set_my_commands(
                [BotCommand(name, replies.COMMAND_DESCRIPTIONS[name])
                 for name in MENU_COMMANDS]))
            await app.start()
            if self.config.mode == "webhook":
                self._webhook = WebhookServer(app, self.config)
                await self._webhook.start()
            else:
                assert app.updater is not None
                await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        except (TelegramError, OSError) as exc:
            await self.stop()
            raise self._start_error(exc) from exc
        log.info("telegram: running as @%s (%s)", app.bot.username, self.config.mode)

    def _start_error(self, exc: Exception) -> TelegramStartError:
        """What stopped the start, in one line an operator can act on; never the token
        (a Bot API error may echo the request's URL, which holds it)."""
        if isinstance(exc, InvalidToken):
            return TelegramStartError("Telegram refused telegram.token; check it with @BotFather")
        if isinstance(exc, OSError):
            return TelegramStartError(
                f"cannot serve the webhook on {self.config.webhook_listen}:"
                f"{self.config.webhook_port} ({exc.strerror or exc}); free the port or change "
                "telegram.webhook_port")
        reason = redact(exc.message if isinstance(exc, TelegramError) else str(exc),
                        [self.config.token, self.config.webhook_secret], "<token>")
        if isinstance(exc, NetworkError):
            return TelegramStartError(
                f"could not reach the Bot API at telegram.api_base_url ({reason}); "
                "check the address and any HTTPS_PROXY / NO_PROXY setting")
        return TelegramStartError(f"the Bot API refused to start the bot ({reason})")

    async def stop(self) -> None:
        """Stop taking updates, then close the connection to Telegram."""
        app = self._app
        await self._messages.stop_edits()
        if app is not None:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if self._webhook is not None:
                await self._webhook.stop()
                self._webhook = None
            if app.running:
                await app.stop()
            await app.shutdown()
            self._app = None
        await self._messages.flush()
        self._redactor.remove()

    def _build_application(self, calls: AiohttpRequest,
                           polls: AiohttpRequest) -> Application[Any, Any, Any, Any, Any, Any]:
        builder = (ApplicationBuilder().token(self.config.token)
                   .base_url(self.config.api_base_url)
                   .base_file_url(file_base_url(self.config.api_base_url))
                   .request(calls).get_updates_request(polls)
                   .concurrent_updates(_ChatOrder(CONCURRENT_UPDATES)))
        if self.config.mode == "webhook":
            builder = builder.updater(None)
        app = builder.build()
        # A picture without a command: the Animate offer (before the commands' handler).
        app.add_handler(MessageHandler(UNCOMMANDED_PICTURE & ~filters.UpdateType.EDITED,
                                       self._offers.on_picture))
        # A caption: a picture sent with `/video …` under it.
        app.add_handler(MessageHandler((filters.TEXT | filters.CAPTION)
                                       & ~filters.UpdateType.EDITED, self._commands.on_message))
        app.add_handler(CallbackQueryHandler(self._commands.on_button))
        app.add_error_handler(self._commands.on_error)
        return app

    async def show_progress(self, job: JobRecord, text: str) -> None:
        """Queue an edit of the job's status message (sent by the per-chat throttle)."""
        self._messages.show_progress(job, text)

    async def deliver(self, job: JobRecord) -> None:
        """Post the clip (or the failure or cancellation notice) once, then drop the status
        message. Raises to have the delivery loop try again later."""
        await self._delivery.deliver(job)
