"""A throwaway PostgreSQL cluster for the test session, from the server binaries on this
machine (`.ci/run` installs Debian's `postgresql` package). The cluster lives in a temporary
folder, listens on loopback, and is removed at the end of the session.

`VIDEOBOT_TEST_POSTGRES_URL` (a `postgresql+asyncpg://` URL to a server where the user may
create databases) uses an existing server instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ENV_URL = "VIDEOBOT_TEST_POSTGRES_URL"
USER = "videobot"


def server_binaries() -> Path | None:
    """The folder of `initdb` and `pg_ctl`, newest version first; None if not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass(frozen=True)
class Server:
    """A server to test on: its URL and, for a throwaway cluster, a way to restart it."""

    url: str
    restart: Callable[[], None] | None = None


@contextmanager
def throwaway_cluster() -> Iterator[Server]:
    """Start a cluster; yield it (the URL of its `postgres` database); stop and delete it."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="videobot-pg-"))
    data = folder / "data"
    port = _free_port()
    as_owner = _run_as_owner(folder)
    try:
        as_owner([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", USER,
                  "--no-sync", "-E", "UTF8"])
        options = (f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        pg_ctl = [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-w",
                  "-l", str(folder / "server.log")]
        as_owner([*pg_ctl, "start"])
        try:
            yield Server(f"postgresql+asyncpg://{USER}@127.0.0.1:{port}/postgres",
                         restart=lambda: as_owner([*pg_ctl, "-m", "fast", "restart"]))
        finally:
            as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                      "stop"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def create_database(server_url: str) -> str:
    """A new empty database on the server; returns its URL."""
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:16]}"
    connection = await asyncpg.connect(_plain(server_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(database_url: str) -> None:
    import asyncpg

    server, name = database_url.rsplit("/", 1)
    connection = await asyncpg.connect(_plain(server + "/postgres"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_as_owner(folder: Path) -> Callable[[list[str]], None]:
    """PostgreSQL refuses to run as root: run its commands as the `postgres` user then."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]

    def run(command: list[str]) -> None:
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    return run
