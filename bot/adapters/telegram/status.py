"""A Telegram job's messages: its status message, edited with progress through the shared
throttle (at most once per `progress_interval_seconds` per chat, obeying `RetryAfter`) and
posted again when the user deleted it; and the ids of its status and result messages.

While a clip renders with previews, the status message becomes a photo of the latest one
with the progress as its caption (`status_edits`), its picture changed at most once every
`preview_every_s` (`bot.adapters.status_previews`), its caption at the throttle's pace."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from telegram import Bot
from telegram.error import Forbidden, NetworkError, RetryAfter

from bot.adapters.progress import ProgressThrottle
from bot.adapters.status_message import StatusUpdate
from bot.adapters.status_previews import StatusPreviews
from bot.adapters.telegram.api import MESSAGE_LIMIT, cancel_keyboard, clip, retry_after_seconds
from bot.adapters.telegram.status_edits import StatusPost, show_picture, show_words
from bot.core import replies
from bot.posted import POSTING, PostedJournal
from storage.records import JobRecord
from storage.reply_targets import ReplyTargetSaver
from storage.store import Store

log = logging.getLogger(__name__)

#: How often progress looks again for a status message that is still being posted.
ACK_WAIT_S = 0.1


@dataclass
class JobView:
    """What the adapter knows of one job's messages between its ack and its delivery."""

    chat_id: int
    status_message_id: int | None
    result_message_id: int | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    delivering: bool = False
    #: A photo of a preview (True), a text message (False), or not known (None: after a
    #: restart, until Telegram's answer to an edit tells).
    photo: bool | None = False


class StatusMessages:
    """Each job's messages in a chat, and the progress shown in its status message."""

    def __init__(self, *, bot: Callable[[], Bot], store: Store, journal: PostedJournal,
                 interval: float, previews: StatusPreviews) -> None:
        """`bot`: the started application's bot; `previews`: which preview to show when."""
        self._bot = bot
        self.journal = journal
        self.previews = previews
        self._views: dict[int, JobView] = {}
        #: Status message ids, saved in shared transactions (a burst posts many at once).
        self._status_ids = ReplyTargetSaver(store.context)
        #: A lane is a chat: Telegram limits edits per chat.
        self._throttle: ProgressThrottle[int, StatusUpdate] = ProgressThrottle(
            interval, self._edit_progress)
        #: (chat id, message id) of commands whose acknowledgement is not posted yet.
        self._acks_in_flight: set[tuple[int, int]] = set()

    async def stop_edits(self) -> None:
        """Stop the progress edits (what waits is not sent)."""
        await self._throttle.close()

    async def flush(self) -> None:
        """Save the status message ids not saved yet."""
        await self._status_ids.flush()

    @asynccontextmanager
    async def answering(self, chat_id: int, message_id: int) -> AsyncIterator[None]:
        """While a command is answered, its job's progress waits for the acknowledgement
        (else the first progress could post a second status message)."""
        self._acks_in_flight.add((chat_id, message_id))
        try:
            yield
        finally:
            self._acks_in_flight.discard((chat_id, message_id))

    # -- progress ---------------------------------------------------------------------------

    def show_progress(self, job: JobRecord, text: str) -> None:
        """Queue an edit of the job's status message (sent by the per-chat throttle)."""
        view = self.view(job)
        if view is not None and not view.delivering:
            self._throttle.offer(view.chat_id, job.id, StatusUpdate(job, text))

    async def stop_progress(self, job: JobRecord, view: JobView) -> None:
        """No more progress for `job`: its delivery takes over the status message."""
        view.delivering = True
        await self._throttle.withdraw(view.chat_id, job.id)

    async def _edit_progress(self, update: StatusUpdate) -> float:
        """Edit (or, when it is gone, re-post) the status message; returns the rest time."""
        job = update.job
        view = self.view(job)
        if view is None:
            return 0.0
        async with view.lock:
            if view.delivering:
                return 0.0
            if (view.chat_id, job.reply_target.get("message_id")) in self._acks_in_flight:
                self._throttle.offer_again(view.chat_id, job.id, update)
                return ACK_WAIT_S
            try:
                await self._show_status(job, view, _status_text(job, update.text))
            except RetryAfter as exc:
                self._throttle.offer_again(view.chat_id, job.id, update)
                return max(self._throttle.interval, retry_after_seconds(exc))
            except (NetworkError, Forbidden) as exc:
                log.warning("telegram: progress edit for job %s failed: %s", job.id, exc)
        return self._throttle.interval

    async def _show_status(self, job: JobRecord, view: JobView, progress_line: str) -> None:
        """The progress, with a newer preview when one is due; the picture counts as shown
        once Telegram took it."""
        text = _status_text(job, progress_line)

        async def remember(message_id: int) -> None:
            await self.remember_status(job, view.chat_id, message_id)

        post = StatusPost(job.reply_target.get("message_id"), cancel_keyboard(job.id), remember)
        preview = await self.previews.due(job)
        if preview is None:
            last = self.previews.last_shown(job.id)
            await show_words(self._bot(), view, text, post, last.jpeg if last else None)
            return
        await show_picture(self._bot(), view, text, post, preview.jpeg)
        self.previews.shown(preview)

    # -- bookkeeping ------------------------------------------------------------------------

    def view(self, job: JobRecord) -> JobView | None:
        """The job's messages, from memory or (after a restart) from its reply target."""
        view = self._views.get(job.id)
        if view is None:
            target = job.reply_target
            if not isinstance(target.get("chat_id"), int):
                return None
            recorded = self.journal.get(job.id)
            # After a restart the status message may be a photo or a text message.
            view = JobView(target["chat_id"], target.get("status_message_id"),
                           target.get("result_message_id") or recorded.get("result_message_id"),
                           photo=None)
            if recorded.get(POSTING) and view.result_message_id is None:
                log.warning("telegram: the bot stopped while posting job %s, before Telegram "
                            "answered; posting it again (it may appear twice)", job.id)
            self._views[job.id] = view
        return view

    def forget(self, job: JobRecord) -> None:
        """The job is delivered: nothing more to know of its messages."""
        self._views.pop(job.id, None)
        self.previews.forget(job.id)

    async def remember_status(self, job: JobRecord, chat_id: int, message_id: int) -> None:
        """`message_id` is the job's status message now, in memory and in the database."""
        self._status_view(job, chat_id, message_id)
        await self._status_ids.save(job.id, status_message_id=message_id)

    def remember_status_soon(self, job: JobRecord, chat_id: int, message_id: int) -> None:
        """`remember_status`, in memory at once and in the database soon (`flush` waits)."""
        self._status_view(job, chat_id, message_id)
        self._status_ids.save_soon(job.id, status_message_id=message_id)

    def _status_view(self, job: JobRecord, chat_id: int, message_id: int) -> None:
        view = self.view(job) or JobView(chat_id, None, None)
        view.status_message_id = message_id
        self._views[job.id] = view

    async def remember_result(self, job: JobRecord, view: JobView, message_id: int) -> None:
        """In memory, then in the journal on disk, before anything else can happen: the job
        table gets it with the delivery (which may wait for the database's lock)."""
        view.result_message_id = message_id
        await self.journal.record(job.id, result_message_id=message_id)


def _status_text(job: JobRecord, progress_line: str) -> str:
    """The progress line over the acknowledgement's prompt, parameters and notes."""
    details = replies.acknowledgement(job, None).split("\n")[1:]
    return clip("\n".join([progress_line, *details]), MESSAGE_LIMIT)

