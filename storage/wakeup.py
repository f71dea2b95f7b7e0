"""A wake-up signal beside the job table, so that a queued job is claimed in milliseconds.

Polling stays the fallback: a lost signal only delays work by one poll interval. For a SQLite
file, every process using it shares a folder next to it (`<db>.wakeup/<channel>/`) where each
listener registers the loopback UDP port it waits on; a notifier sends one datagram to each.
Databases on other hosts have no shared folder and rely on polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path

from storage.db import sqlite_path

#: Channels: workers wait on JOBS (a job was queued or cancelled); the bot on EVENTS
#: (progress, a finished job).
JOBS = "jobs"
EVENTS = "events"


def wakeup_dir(database_url: str) -> Path | None:
    """The signal folder of a database, or None where processes share no folder."""
    path = sqlite_path(database_url)
    return None if path is None else path.with_name(path.name + ".wakeup")


def notify(root: Path | None, channel: str) -> None:
    """Wake every listener of `channel`. Never blocks, never raises."""
    if root is None:
        return
    folder = root / channel
    try:
        entries = list(folder.iterdir())
    except OSError:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.setblocking(False)
        for entry in entries:
            pid, _, port = entry.name.partition("-")
            if not (pid.isdigit() and port.isdigit()):
                continue
            if not _alive(int(pid)):
                entry.unlink(missing_ok=True)
                continue
            with contextlib.suppress(OSError):
                sender.sendto(b"!", ("127.0.0.1", int(port)))


class Listener:
    """Waits for `notify` on one channel. Use as an async context manager."""

    def __init__(self, root: Path | None, channel: str) -> None:
        self.root = root
        self.channel = channel
        self._socket: socket.socket | None = None
        self._entry: Path | None = None
        self._event = asyncio.Event()

    async def __aenter__(self) -> Listener:
        if self.root is None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        port = sock.getsockname()[1]
        folder = self.root / self.channel
        folder.mkdir(parents=True, exist_ok=True)
        self._entry = folder / f"{os.getpid()}-{port}"
        self._entry.touch()
        self._socket = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._on_readable)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._socket is not None:
            asyncio.get_running_loop().remove_reader(self._socket.fileno())
            self._socket.close()
        if self._entry is not None:
            self._entry.unlink(missing_ok=True)

    def _on_readable(self) -> None:
        assert self._socket is not None
        with contextlib.suppress(OSError):
            while self._socket.recv(64):
                pass
        self._event.set()

    def poke(self) -> None:
        """Wake the waiter from inside this process (e.g. to notice a stop request)."""
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        """Wait for a signal or `seconds`; True if signalled."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
