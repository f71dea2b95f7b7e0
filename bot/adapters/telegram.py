"""The Telegram adapter: python-telegram-bot in front of the platform-neutral core.

A thin translation. Messages become `Core.handle` calls (in a private chat, plain text is a
prompt); the acknowledgement is the job's *status message*, edited as the job moves (at most
once per `progress_interval_seconds` per chat, obeying `RetryAfter`) and removed when the clip
arrives with `sendVideo`. Buttons call `Core.cancel_job` and `Core.rerun`, which check that
the presser owns the job or is an admin.

Decisions worth knowing:
- Chats outside `allowed_chats` are ignored silently (logged at INFO with the chat id, so the
  operator can add it): a bot added to a stranger's group says nothing there.
- Commands addressed to another bot (`/video@OtherBot`) and messages from bots are ignored; in
  groups only our own commands are answered.
- A clip is posted once: the id of the posted video is remembered in memory and in the bot's
  journal on disk (`bot.posted`: a local append, no database lock to wait for) the moment
  Telegram answers, and reaches the job's `reply_target` with the delivery; a retried or
  restarted delivery skips the upload. The one gap is a `sendVideo` that reached Telegram but
  whose answer did not reach the journal (a timeout, or the bot killed in those milliseconds):
  the Bot API has no idempotency key, so the retry posts again (and logs that it may). A
  generous read timeout for uploads keeps that rare.
- The bot token never reaches the logs: a filter on the root logger's handlers redacts it
  (a request URL contains the token).
- Updates are handled concurrently, each chat's in order (`_ChatOrder`), and the Bot API is
  called through aiohttp (`telegram_http`), a third of httpx's CPU per call: a burst of
  commands is acknowledged at the pace of the database, not of the HTTP client.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import warnings
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatType, MessageEntityType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from bot.adapters.base import AdapterStartError
from bot.adapters.telegram_http import AiohttpRequest
from bot.core import replies
from bot.core.commands import USER_COMMANDS, Core, Reply
from bot.posted import POSTING, PostedJournal
from bot.uploads import prepare_upload
from storage.jobs import JobStore
from storage.models import JobStatus
from storage.records import JobRecord
from storage.reply_targets import ReplyTargetSaver
from videobot.config import TelegramConfig
from videobot.logs import SecretRedactor, redact
from videobot.media.clip import ClipTooLarge
from videobot.media.thumbnail import telegram_thumbnail
from videobot.users import UserRef

log = logging.getLogger(__name__)

PLATFORM = "telegram"
OFFICIAL_API_HOST = "api.telegram.org"
OFFICIAL_UPLOAD_LIMIT_MB = 50
SELF_HOSTED_UPLOAD_LIMIT_MB = 2000
CAPTION_LIMIT = 1024
MESSAGE_LIMIT = 4096
ALERT_LIMIT = 200
#: Tries of one Bot API call before the error goes up (to the delivery loop's backoff).
CALL_ATTEMPTS = 4
CALL_BACKOFF_S = 0.5
#: A longer `RetryAfter` is not waited out inline: the delivery loop tries again later.
MAX_INLINE_WAIT_S = 10.0
#: Telegram may take long to answer an upload; a timeout there risks posting the clip twice.
UPLOAD_READ_TIMEOUT_S = 120.0
SEEN_UPDATES = 1000
#: How often progress looks again for a status message that is still being posted.
ACK_WAIT_S = 0.1
#: Updates handled at once (each mostly waits on the database and on Telegram); one chat's
#: updates are still handled one after the other.
CONCURRENT_UPDATES = 64

CANCEL, REROLL, SAME_SEED = "cancel", "reroll", "same"
#: The command menu (`setMyCommands`): the commands the core answers, described as everywhere.
MENU_COMMANDS = USER_COMMANDS
#: What a group message may start with to be for this bot (`/start` opens a private chat).
COMMAND_NAMES = frozenset((*MENU_COMMANDS, "start"))

T = TypeVar("T")


class TelegramStartError(AdapterStartError):
    """The Telegram adapter could not start."""


def upload_limit_bytes(config: TelegramConfig) -> int:
    """`upload_limit_mb`, or 50 MB on the official API and 2000 MB on a self-hosted server."""
    megabytes = config.upload_limit_mb
    if not megabytes:
        official = urlsplit(config.api_base_url).hostname == OFFICIAL_API_HOST
        megabytes = OFFICIAL_UPLOAD_LIMIT_MB if official else SELF_HOSTED_UPLOAD_LIMIT_MB
    return megabytes * 1_000_000


@dataclass
class _JobView:
    """What the adapter knows of one job's messages between its ack and its delivery."""

    chat_id: int
    status_message_id: int | None
    result_message_id: int | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    delivering: bool = False


class _ProgressThrottle:
    """Keeps the latest progress text per job and sends at most one edit per chat per
    `interval`; `send` returns how long the chat must then rest."""

    def __init__(self, interval: float,
                 send: Callable[[JobRecord, str], Awaitable[float]]) -> None:
        self.interval = interval
        self._send = send
        self._pending: dict[int, dict[int, tuple[JobRecord, str]]] = {}
        self._rest_until: dict[int, float] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def offer(self, chat_id: int, job: JobRecord, text: str) -> None:
        self._pending.setdefault(chat_id, {})[job.id] = (job, text)
        if chat_id not in self._tasks:
            self._tasks[chat_id] = asyncio.create_task(self._drain(chat_id))

    def offer_again(self, chat_id: int, job: JobRecord, text: str) -> None:
        """Put back a text that could not be sent, unless a newer one is waiting."""
        self._pending.setdefault(chat_id, {}).setdefault(job.id, (job, text))

    def forget(self, chat_id: int, job_id: int) -> None:
        self._pending.get(chat_id, {}).pop(job_id, None)

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _drain(self, chat_id: int) -> None:
        try:
            while pending := self._pending.get(chat_id):
                delay = self._rest_until.get(chat_id, 0.0) - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue
                job_id = next(iter(pending))
                job, text = pending.pop(job_id)
                rest = await self._send(job, text)
                self._rest_until[chat_id] = time.monotonic() + rest
        finally:
            del self._tasks[chat_id]
            if not self._pending.get(chat_id):
                self._pending.pop(chat_id, None)


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

    def __init__(self, *, core: Core, store: JobStore, config: TelegramConfig,
                 work_dir: Path, journal: PostedJournal | None = None) -> None:
        """`journal`: where a posted clip's message id is written the moment Telegram
        answers (the delivery loop's; none: in memory only)."""
        self.core = core
        self.store = store
        self.config = config
        self.work_dir = work_dir
        self.journal = journal if journal is not None else PostedJournal(None)
        self.upload_limit = upload_limit_bytes(config)
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._views: dict[int, _JobView] = {}
        #: Status message ids, saved in shared transactions (a burst posts many at once).
        self._status_ids = ReplyTargetSaver(store)
        self._throttle = _ProgressThrottle(config.progress_interval_seconds, self._edit_progress)
        self._redactor = SecretRedactor(config.token)
        self._webhook: web.AppRunner | None = None
        self._seen_updates: deque[int] = deque(maxlen=SEEN_UPDATES)
        #: (chat id, message id) of commands whose acknowledgement is not posted yet.
        self._acks_in_flight: set[tuple[int, int]] = set()

    @property
    def app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        if self._app is None:
            raise RuntimeError("the Telegram adapter is not started")
        return self._app

    # -- lifecycle ---------------------------------------------------------------------------

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
            await self._call(lambda: app.bot.set_my_commands(
                [BotCommand(name, replies.COMMAND_DESCRIPTIONS[name])
                 for name in MENU_COMMANDS]))
            await app.start()
            if self.config.mode == "webhook":
                await self._start_webhook(app)
            else:
                assert app.updater is not None
                await app.updater.start_polling(allowed_updates=["message", "callback_query"])
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
        await self._throttle.close()
        if app is not None:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if self._webhook is not None:
                await self._stop_webhook(app)
            if app.running:
                await app.stop()
            await app.shutdown()
            self._app = None
        await self._status_ids.flush()
        self._redactor.remove()

    def _build_application(self, calls: AiohttpRequest,
                           polls: AiohttpRequest) -> Application[Any, Any, Any, Any, Any, Any]:
        builder = (ApplicationBuilder().token(self.config.token)
                   .base_url(self.config.api_base_url)
                   .request(calls).get_updates_request(polls)
                   .concurrent_updates(_ChatOrder(CONCURRENT_UPDATES)))
        if self.config.mode == "webhook":
            builder = builder.updater(None)
        app = builder.build()
        app.add_handler(MessageHandler(filters.TEXT & ~filters.UpdateType.EDITED,
                                       self._on_message))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_error_handler(self._on_error)
        return app

    # -- webhook -----------------------------------------------------------------------------

    async def _start_webhook(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        server = web.Application()
        server.router.add_post(urlsplit(self.config.webhook_url).path or "/",
                               self._on_webhook)
        self._webhook = web.AppRunner(server, access_log=None)
        await self._webhook.setup()
        await web.TCPSite(self._webhook, self.config.webhook_listen,
                          self.config.webhook_port).start()
        await self._call(lambda: app.bot.set_webhook(
            self.config.webhook_url, secret_token=self.config.webhook_secret,
            allowed_updates=["message", "callback_query"]))

    async def _stop_webhook(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        try:
            await app.bot.delete_webhook()
        except Exception:
            log.warning("telegram: deleteWebhook failed; the next start sets it again",
                        exc_info=True)
        assert self._webhook is not None
        await self._webhook.cleanup()
        self._webhook = None

    async def _on_webhook(self, request: web.Request) -> web.Response:
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

    # -- commands and buttons ----------------------------------------------------------------

    async def _on_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message, sender = update.effective_message, update.effective_user
        if message is None or sender is None or sender.is_bot or not self._allowed(message):
            return
        text = self._command_text(message)
        if text is None:
            return
        async with self._answering(message.chat_id, message.message_id):
            reply = await self.core.handle(_user(sender, message.chat_id), text,
                                           self._reply_target(message),
                                           replied_to=_replied_to(message),
                                           admin=sender.id in self.config.admins)
            await self._post_reply(message.chat_id, message.message_id, reply)

    def _command_text(self, message: Message) -> str | None:
        """The text for the core, or None when the message is not for this bot."""
        text = message.text or ""
        private = message.chat.type == ChatType.PRIVATE
        command = next((e for e in message.entities
                        if e.type == MessageEntityType.BOT_COMMAND and e.offset == 0), None)
        if command is None:
            return f"/video {text}" if private else None
        name, _, addressee = text[1:command.length].partition("@")
        if addressee and addressee.lower() != (self.app.bot.username or "").lower():
            return None
        if private or addressee or name.lower() in COMMAND_NAMES:
            return text
        # A bare /admin in a group is ours when one of our admins sends it (other bots use
        # the name too); anyone else must address it, /admin@ThisBot.
        sender = message.from_user
        if name.lower() == "admin" and sender is not None and sender.id in self.config.admins:
            return text
        return None

    async def _on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return
        if not self._allowed(query.message):
            return
        action, _, number = (query.data or "").partition(":")
        if not number.isdecimal() or action not in (CANCEL, REROLL, SAME_SEED):
            await query.answer()
            return
        async with self._answering(query.message.chat_id, query.message.message_id):
            reply = await self._press(query, query.message, action, int(number))
            await self._answer_button(query, action, reply)

    async def _answer_button(self, query: CallbackQuery, action: str, reply: Reply) -> None:
        assert isinstance(query.message, Message)
        if reply.job is None:  # refused: not the owner, already finished, ...
            await query.answer(_clip(reply.text, ALERT_LIMIT), show_alert=True)
            return
        await query.answer(_clip(reply.text, ALERT_LIMIT) if action == CANCEL else None)
        if action != CANCEL:
            await self._post_reply(query.message.chat_id, query.message.message_id, reply)

    async def _press(self, query: CallbackQuery, message: Message, action: str,
                     job_id: int) -> Reply:
        user = _user(query.from_user, message.chat_id)
        admin = query.from_user.id in self.config.admins
        if action == CANCEL:
            return await self.core.cancel_job(user, job_id, admin=admin)
        return await self.core.rerun(user, job_id, new_seed=action == REROLL,
                                     reply_target=self._reply_target(message), admin=admin)

    def _reply_target(self, message: Message) -> dict[str, Any]:
        """Where the replies to a job submitted by `message` (or by a button on it) go."""
        return {"chat_id": message.chat_id, "message_id": message.message_id,
                "nsfw_allowed": message.chat_id in self.config.nsfw_chats,
                "private": message.chat.type == ChatType.PRIVATE}

    async def _post_reply(self, chat_id: int, reply_to: int, reply: Reply) -> None:
        """Answer in the chat; a new job's acknowledgement becomes its status message."""
        job = reply.job
        new_job = job is not None and job.reply_target.get("message_id") == reply_to
        markup = _cancel_keyboard(job.id) if new_job and job is not None else None
        sent = await self._call(lambda: self.app.bot.send_message(
            chat_id, _clip(reply.text, MESSAGE_LIMIT), reply_markup=markup,
            reply_parameters=_reply_to(reply_to)))
        if new_job and job is not None:
            # The chat's next command need not wait for the id to reach the database.
            self._remember_status_soon(job, chat_id, sent.message_id)

    @asynccontextmanager
    async def _answering(self, chat_id: int, message_id: int) -> AsyncIterator[None]:
        """While a command is answered, its job's progress waits for the acknowledgement
        (else the first progress could post a second status message)."""
        self._acks_in_flight.add((chat_id, message_id))
        try:
            yield
        finally:
            self._acks_in_flight.discard((chat_id, message_id))

    def _allowed(self, message: Message) -> bool:
        allowed = not self.config.allowed_chats or message.chat_id in self.config.allowed_chats
        if not allowed:
            log.info("telegram: ignoring chat %s (not in telegram.allowed_chats)",
                     message.chat_id)
        return allowed

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: handling an update failed", exc_info=context.error)

    # -- progress ----------------------------------------------------------------------------

    async def show_progress(self, job: JobRecord, text: str) -> None:
        """Queue an edit of the job's status message (sent by the per-chat throttle)."""
        view = self._view(job)
        if view is not None and not view.delivering:
            self._throttle.offer(view.chat_id, job, text)

    async def _edit_progress(self, job: JobRecord, text: str) -> float:
        """Edit (or, when it is gone, re-post) the status message; returns the rest time."""
        view = self._view(job)
        if view is None:
            return 0.0
        async with view.lock:
            if view.delivering:
                return 0.0
            if (view.chat_id, job.reply_target.get("message_id")) in self._acks_in_flight:
                self._throttle.offer_again(view.chat_id, job, text)
                return ACK_WAIT_S
            try:
                await self._show_status(job, view, _status_text(job, text))
            except RetryAfter as exc:
                self._throttle.offer_again(view.chat_id, job, text)
                return max(self._throttle.interval, _retry_after_seconds(exc))
            except (NetworkError, Forbidden) as exc:
                log.warning("telegram: progress edit for job %s failed: %s", job.id, exc)
        return self._throttle.interval

    async def _show_status(self, job: JobRecord, view: _JobView, text: str) -> None:
        if view.status_message_id is not None:
            try:
                await self.app.bot.edit_message_text(
                    text, chat_id=view.chat_id, message_id=view.status_message_id,
                    reply_markup=_cancel_keyboard(job.id))
                return
            except BadRequest as exc:
                if _not_modified(exc):
                    return
                if not _gone(exc):
                    raise
        sent = await self.app.bot.send_message(  # the user deleted it, or it was never sent
            view.chat_id, text, reply_markup=_cancel_keyboard(job.id),
            reply_parameters=_reply_to(job.reply_target.get("message_id")))
        await self._remember_status(job, view.chat_id, sent.message_id)

    # -- delivery ----------------------------------------------------------------------------

    async def deliver(self, job: JobRecord) -> None:
        """Post the clip (or the failure or cancellation notice) once, then drop the status
        message. Raises to have the delivery loop try again later."""
        view = self._view(job)
        if view is None:
            log.warning("telegram: job %s has no chat to deliver to", job.id)
            return
        view.delivering = True
        self._throttle.forget(view.chat_id, job.id)
        async with view.lock:
            try:
                if job.status == JobStatus.SUCCEEDED and job.clip is not None:
                    await self._deliver_clip(job, view)
                else:
                    await self._deliver_notice(job, view, replies.finished(job))
            except Forbidden as exc:  # blocked or removed from the group: nobody to tell
                log.warning("telegram: cannot post job %s to chat %s: %s",
                            job.id, view.chat_id, exc)
        self._views.pop(job.id, None)

    async def _deliver_clip(self, job: JobRecord, view: _JobView) -> None:
        if view.result_message_id is None:
            await self.journal.record(job.id, **{POSTING: True})
            try:
                sent = await self._send_video(job, view)
            except ClipTooLarge:
                await self._deliver_notice(job, view, replies.clip_too_large(job))
                return
            await self._remember_result(job, view, sent.message_id)
        if view.status_message_id is not None:
            await self._delete_quietly(view.chat_id, view.status_message_id)

    async def _send_video(self, job: JobRecord, view: _JobView) -> Message:
        assert job.clip is not None
        upload = await prepare_upload(job.clip, self.upload_limit, self.work_dir)
        video, thumbnail = await asyncio.gather(
            asyncio.to_thread(upload.video_path.read_bytes),
            asyncio.to_thread(telegram_thumbnail, upload.poster_path))
        caption = replies.upload_caption(job, upload.note)
        return await self._call(lambda: self.app.bot.send_video(
            view.chat_id, video, filename=f"job-{job.id}.mp4", thumbnail=thumbnail,
            duration=max(1, round(upload.duration_s)), width=upload.width,
            height=upload.height, supports_streaming=True,
            caption=_clip(caption, CAPTION_LIMIT), reply_markup=_result_keyboard(job.id),
            reply_parameters=_reply_to(job.reply_target.get("message_id")),
            read_timeout=UPLOAD_READ_TIMEOUT_S))

    async def _deliver_notice(self, job: JobRecord, view: _JobView, text: str) -> None:
        """The final word: the status message edited to `text`, or a new reply with it."""
        if view.result_message_id is not None:
            return
        status_id = view.status_message_id
        if status_id is not None:
            try:
                await self._call(lambda: self.app.bot.edit_message_text(
                    text, chat_id=view.chat_id, message_id=status_id))
                await self._remember_result(job, view, status_id)
                return
            except BadRequest as exc:
                if _not_modified(exc):
                    return
                if not _gone(exc):
                    raise
        sent = await self._call(lambda: self.app.bot.send_message(
            view.chat_id, text, reply_parameters=_reply_to(job.reply_target.get("message_id"))))
        await self._remember_result(job, view, sent.message_id)

    async def _delete_quietly(self, chat_id: int, message_id: int) -> None:
        try:
            await self.app.bot.delete_message(chat_id, message_id)
        except BadRequest:
            pass  # already gone
        except Exception as exc:
            log.warning("telegram: could not remove status message %s: %s", message_id, exc)

    # -- bookkeeping -------------------------------------------------------------------------

    def _view(self, job: JobRecord) -> _JobView | None:
        """The job's messages, from memory or (after a restart) from its reply target."""
        view = self._views.get(job.id)
        if view is None:
            target = job.reply_target
            if not isinstance(target.get("chat_id"), int):
                return None
            recorded = self.journal.get(job.id)
            view = _JobView(target["chat_id"], target.get("status_message_id"),
                            target.get("result_message_id") or recorded.get("result_message_id"))
            if recorded.get(POSTING) and view.result_message_id is None:
                log.warning("telegram: the bot stopped while posting job %s, before Telegram "
                            "answered; posting it again (it may appear twice)", job.id)
            self._views[job.id] = view
        return view

    async def _remember_status(self, job: JobRecord, chat_id: int, message_id: int) -> None:
        self._status_view(job, chat_id, message_id)
        await self._status_ids.save(job.id, status_message_id=message_id)

    def _remember_status_soon(self, job: JobRecord, chat_id: int, message_id: int) -> None:
        """`_remember_status`, in memory at once and in the database soon (`stop` waits)."""
        self._status_view(job, chat_id, message_id)
        self._status_ids.save_soon(job.id, status_message_id=message_id)

    def _status_view(self, job: JobRecord, chat_id: int, message_id: int) -> None:
        view = self._view(job) or _JobView(chat_id, None, None)
        view.status_message_id = message_id
        self._views[job.id] = view

    async def _remember_result(self, job: JobRecord, view: _JobView, message_id: int) -> None:
        """In memory, then in the journal on disk, before anything else can happen: the job
        table gets it with the delivery (which may wait for the database's lock)."""
        view.result_message_id = message_id
        await self.journal.record(job.id, result_message_id=message_id)

    async def _call(self, action: Callable[[], Awaitable[T]]) -> T:
        """One Bot API call, tried again on flood control, network errors and 5xx."""
        for attempt in range(1, CALL_ATTEMPTS + 1):
            error: TelegramError
            try:
                return await action()
            except RetryAfter as exc:
                delay, error = _retry_after_seconds(exc), exc
            except BadRequest:
                raise
            except NetworkError as exc:  # also timeouts and 5xx
                delay, error = CALL_BACKOFF_S * 2 ** (attempt - 1), exc
            if attempt == CALL_ATTEMPTS or delay > MAX_INLINE_WAIT_S:
                raise error
            log.warning("telegram: %s; trying again in %.1f s", error, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")


def _user(sender: Any, chat_id: int | None = None) -> UserRef:
    """The sender as the core names them; `chat_id`: where they write from (quota tiers)."""
    groups = frozenset({f"telegram-chat:{chat_id}"}) if chat_id is not None else frozenset()
    return UserRef(PLATFORM, str(sender.id), sender.full_name, sender.username or "", groups)


def _replied_to(message: Message) -> UserRef | None:
    """The author of the message `message` replies to (not a bot, not a channel post)."""
    original = message.reply_to_message
    author = original.from_user if original is not None else None
    return _user(author) if author is not None and not author.is_bot else None


def _status_text(job: JobRecord, progress_line: str) -> str:
    """The progress line over the acknowledgement's prompt, parameters and notes."""
    details = replies.acknowledgement(job, None).split("\n")[1:]
    return _clip("\n".join([progress_line, *details]), MESSAGE_LIMIT)


def _cancel_keyboard(job_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(CANCEL, job_id)]])


def _result_keyboard(job_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(REROLL, job_id), _button(SAME_SEED, job_id)]])


def _button(action: str, job_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(replies.BUTTON_LABELS[action], callback_data=f"{action}:{job_id}")


def _reply_to(message_id: Any) -> ReplyParameters | None:
    """Reply to `message_id`, or post plainly if the user deleted it."""
    if not isinstance(message_id, int):
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


def _seconds(period: int | float | timedelta) -> float:
    return period.total_seconds() if isinstance(period, timedelta) else float(period)


def _not_modified(exc: BadRequest) -> bool:
    return "not modified" in exc.message.lower()


def _gone(exc: BadRequest) -> bool:
    return "not found" in exc.message.lower()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retry_after_seconds(exc: RetryAfter) -> float:
    # Reading `retry_after` warns of its future type unless PTB_TIMEDELTA is set.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        return _seconds(exc.retry_after)
