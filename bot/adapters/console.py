"""The console chat: commands on stdin, replies and progress on stdout.

On a terminal it says it is ready and how to leave (`/quit`, `/exit`, or Ctrl-D). Scriptable:
when input ends, it waits until every job of its user is delivered, then stops, so
`printf '/video a red ball\\n' | videobot run` prints the clip's path and exits 0. `/quit`
leaves at once; jobs not yet delivered are delivered at the next start.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from bot.adapters.console_previews import PREVIEW_EVERY_S, ConsolePreviews
from bot.adapters.local_image import open_image_file
from bot.core import replies
from bot.core.commands import Core
from bot.core.parsing import parse_command
from storage.db import DATABASE_UNAVAILABLE, is_unavailable
from storage.models import JobStatus
from storage.previews import PreviewStore
from storage.records import JobRecord
from storage.store import Store
from videobot.text import printable
from videobot.users import UserRef

PLATFORM = "console"
#: The commands that end the console chat at once.
QUIT_COMMANDS = frozenset({"quit", "exit"})
log = logging.getLogger(__name__)


class ConsoleAdapter:
    """One local user chatting on a terminal or a pipe."""

    platform = PLATFORM

    def __init__(self, *, core: Core, store: Store, user_name: str,
                 stdin: TextIO | None = None, write: Callable[[str], None] | None = None,
                 preview_every_s: float = PREVIEW_EVERY_S) -> None:
        self.core = core
        self.store = store
        self.user = UserRef(PLATFORM, user_name, user_name)
        self.stdin = stdin if stdin is not None else sys.stdin
        self._write = write or _print
        self._changed = asyncio.Event()
        #: Jobs whose cancellation this chat has already told as their final word.
        self._told_cancelled: set[int] = set()
        self.previews = ConsolePreviews(PreviewStore.of(store.context, core.config),
                                        folder=core.config.data_dir / "clips",
                                        every_s=preview_every_s)

    async def start(self) -> None:
        """Nothing to connect: `run` reads the input."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    def say(self, text: str) -> None:
        """Print `text`; what a user typed (a prompt stored before the door cleaned it, too)
        can carry no escape sequence to the terminal."""
        self._write(printable(text))

    async def show_progress(self, job: JobRecord, text: str) -> None:
        self.say(text)
        if (preview := await self.previews.line_for(job)) is not None:
            self.say(preview)

    async def deliver(self, job: JobRecord) -> None:
        self.previews.forget(job.id)
        if job.id not in self._told_cancelled:  # the cancel's answer said it all
            self.say(replies.finished(job))
        self._changed.set()

    async def run(self) -> None:
        """Answer lines until `/quit` (leave at once) or the end of input (then wait for this
        user's jobs to be delivered)."""
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        _start_reader(self.stdin, lines, asyncio.get_running_loop())
        if _is_terminal(self.stdin):
            self.say(replies.CONSOLE_READY)
        while (line := await lines.get()) is not None:
            command = parse_command(line)
            if command is not None and command.name in QUIT_COMMANDS:
                await self._say_goodbye()
                return
            if line.strip():
                await self._answer(line, command.name if command is not None else "")
        await self.wait_until_delivered()

    async def _answer(self, line: str, command: str) -> None:
        # The local console is the operator's own terminal: every preset is allowed, nobody
        # else reads it (an API key may be shown), and `--image` may name any file it can.
        reply = await self.core.handle(
            self.user, line, {"chat": PLATFORM, "nsfw_allowed": True, "private": True},
            open_file=open_image_file)
        if command == "cancel" and reply.job is not None and (
                reply.job.status == JobStatus.CANCELLED):
            self._told_cancelled.add(reply.job.id)
        self.say(f"{reply.text}\n{replies.CONSOLE_HELP}" if command == "help" else reply.text)

    async def _say_goodbye(self) -> None:
        try:
            waiting = await self._undelivered_count()
        except DATABASE_UNAVAILABLE as exc:
            if not is_unavailable(exc):
                raise
            waiting = 0
        self.say(replies.console_goodbye(waiting))

    async def wait_until_delivered(self) -> None:
        while await self._undelivered_or_unknown():
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=1.0)
            except TimeoutError:
                pass

    async def _undelivered_or_unknown(self) -> bool:
        """Whether some job of this user awaits delivery; True while the database cannot
        be asked (it may come back)."""
        try:
            return await self._undelivered()
        except DATABASE_UNAVAILABLE as exc:
            if not is_unavailable(exc):
                raise
            log.warning("cannot reach the database; waiting for it", exc_info=True)
            return True

    async def _undelivered(self) -> bool:
        return await self._undelivered_count() > 0

    async def _undelivered_count(self) -> int:
        jobs = await self.store.jobs.jobs_of(self.user, limit=100)
        # Only what this chat delivers: the user's HTTP API jobs are not this chat's to wait on.
        return sum(1 for job in jobs if job.delivered_at is None and job.front_door == PLATFORM)


def _start_reader(stream: TextIO, lines: asyncio.Queue[str | None],
                  loop: asyncio.AbstractEventLoop) -> None:
    """Read `stream` in a daemon thread (a blocked read must not hold up shutdown)."""

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _print(text: str) -> None:
    print(text, flush=True)
