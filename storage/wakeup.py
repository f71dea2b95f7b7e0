"""Wake-up signals beside the job table, so that a queued job is claimed in milliseconds.

Polling stays the fallback: a lost signal only delays work by one poll interval.
- PostgreSQL: `LISTEN/NOTIFY`, which reaches workers on every host.
- SQLite: every process using the file shares a folder next to it (`<db>.wakeup/<channel>/`)
  where each listener registers the loopback UDP port it waits on; a notifier sends one
  datagram to each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import sqlite_path

log = logging.getLogger(__name__)

#: Channels: workers wait on JOBS (a job was queued or released); the bot on EVENTS
#: (progress, a finished job, a cancel).
JOBS = "jobs"
EVENTS = "events"
PG_CHANNEL_PREFIX = "videobot_"
RECONNECT_DELAY_S = 1.0
CLOSE_TIMEOUT_S = 5.0


class Listener(Protocol):
    """Waits for signals on one channel; an async context manager."""

    async def __aenter__(self) -> Listener: ...

    async def __aexit__(self, *_exc: object) -> None: ...

    def poke(self) -> None:
        """Wake the waiter from inside this process (e.g. to notice a stop request)."""

    async def wait(self, seconds: float) -> bool:
        """Wait for a signal or `seconds`; True if signalled."""
        ...


class Signals:
    """The wake-up channels of one database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.folder = wakeup_dir(engine.url.render_as_string(hide_password=False))
        self.postgres = engine.dialect.name == "postgresql"

    async def notify(self, channel: str) -> None:
        """Wake every listener of `channel`. Call after the commit that made the change."""
        if self.postgres:
            try:
                async with self.engine.connect() as conn:
                    await conn.execute(select(func.pg_notify(PG_CHANNEL_PREFIX + channel, "")))
                    await conn.commit()
            except Exception:  # a lost signal costs one poll interval, nothing more
                log.warning("NOTIFY %s failed; listeners will poll", channel, exc_info=True)
        else:
            notify_folder(self.folder, channel)

    def listener(self, channel: str) -> Listener:
        if self.postgres:
            return PostgresListener(self.engine.url.render_as_string(hide_password=False),
                                    channel)
        return DatagramListener(self.folder, channel)


def wakeup_dir(database_url: str) -> Path | None:
    """The signal folder of a SQLite database, or None for other databases."""
    path = sqlite_path(database_url)
    return None if path is None else path.with_name(path.name + ".wakeup")


def notify_folder(root: Path | None, channel: str) -> None:
    """Send a datagram to every listener registered in `root/channel`. Never blocks."""
    if root is None:
        return
    try:
        entries = list((root / channel).iterdir())
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


class _EventListener:
    """The waiting half shared by both kinds of listener."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def poke(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True


class DatagramListener(_EventListener):
    """Listens on a loopback UDP port registered in the SQLite database's signal folder."""

    def __init__(self, root: Path | None, channel: str) -> None:
        super().__init__()
        self.root = root
        self.channel = channel
        self._socket: socket.socket | None = None
        self._entry: Path | None = None

    async def __aenter__(self) -> DatagramListener:
        if self.root is None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        folder = self.root / self.channel
        folder.mkdir(parents=True, exist_ok=True)
        self._entry = folder / f"{os.getpid()}-{sock.getsockname()[1]}"
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
        self.poke()


class PostgresListener(_EventListener):
    """`LISTEN videobot_<channel>` on a connection of its own, reconnecting when it drops."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        parsed = make_url(url).set(drivername="postgresql")
        self.dsn = parsed.render_as_string(hide_password=False)
        self.channel = PG_CHANNEL_PREFIX + channel
        self._connection: Any = None
        self._keeper: asyncio.Task[None] | None = None

    async def __aenter__(self) -> PostgresListener:
        self._keeper = asyncio.create_task(self._keep_listening())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.gather(self._keeper, return_exceptions=True)
        await self._close()

    async def _keep_listening(self) -> None:
        import asyncpg

        while True:
            try:
                self._connection = await asyncpg.connect(self.dsn)
                await self._listen_until_lost(self._connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                # InterfaceError: the connection closed before LISTEN could be sent.
                log.warning("LISTEN %s: %s; polling until it reconnects", self.channel, exc)
            await self._close()
            await asyncio.sleep(RECONNECT_DELAY_S)

    async def _listen_until_lost(self, connection: Any) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        await connection.add_listener(self.channel, self._on_notify)
        self.poke()  # anything sent while we were away: look now
        await lost.wait()

    def _on_notify(self, *_args: object) -> None:
        self.poke()

    async def _close(self) -> None:
        """Close gracefully if the server answers in time, else drop the socket."""
        if self._connection is not None and not self._connection.is_closed():
            try:
                await asyncio.wait_for(self._connection.close(), CLOSE_TIMEOUT_S)
            except Exception:
                self._connection.terminate()
        self._connection = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
