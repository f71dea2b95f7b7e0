"""The console chat: commands on stdin, replies and progress on stdout.

Scriptable: when input ends, it waits until every job of its user is delivered, then stops,
so `printf '/video a red ball\\n' | videobot run` prints the clip's path and exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from bot.core import replies
from bot.core.commands import Core
from storage.db import DATABASE_UNAVAILABLE, is_unavailable
from storage.jobs import JobStore
from storage.records import JobRecord
from videobot.users import UserRef

PLATFORM = "console"
log = logging.getLogger(__name__)


class ConsoleAdapter:
    """One local user chatting on a terminal or a pipe."""

    platform = PLATFORM

    def __init__(self, *, core: Core, store: JobStore, user_name: str,
                 stdin: TextIO | None = None, write: Callable[[str], None] | None = None) -> None:
        self.core = core
        self.store = store
        self.user = UserRef(PLATFORM, user_name, user_name)
        self.stdin = stdin if stdin is not None else sys.stdin
        self._write = write or _print
        self._changed = asyncio.Event()

    async def start(self) -> None:
        """Nothing to connect: `run` reads the input."""

    async def stop(self) -> None:
        """Nothing to disconnect."""

    def say(self, text: str) -> None:
        self._write(text)

    async def show_progress(self, job: JobRecord, text: str) -> None:
        self.say(text)

    async def deliver(self, job: JobRecord) -> None:
        self.say(replies.finished(job))
        self._changed.set()

    async def run(self) -> None:
        """Answer lines until input ends, then wait for this user's jobs to be delivered."""
        lines: asyncio.Queue[str | None] = asyncio.Queue()
        _start_reader(self.stdin, lines, asyncio.get_running_loop())
        while (line := await lines.get()) is not None:
            if line.strip():
                # The local console is the operator's own terminal: every preset is allowed,
                # and nobody else reads it (an API key may be shown).
                reply = await self.core.handle(
                    self.user, line, {"chat": PLATFORM, "nsfw_allowed": True, "private": True})
                self.say(reply.text)
        await self.wait_until_delivered()

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
        jobs = await self.store.jobs_of(self.user, limit=100)
        # Only what this chat delivers: the user's HTTP API jobs are not this chat's to wait on.
        return any(job.delivered_at is None and job.front_door == PLATFORM for job in jobs)


def _start_reader(stream: TextIO, lines: asyncio.Queue[str | None],
                  loop: asyncio.AbstractEventLoop) -> None:
    """Read `stream` in a daemon thread (a blocked read must not hold up shutdown)."""

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()


def _print(text: str) -> None:
    print(text, flush=True)
