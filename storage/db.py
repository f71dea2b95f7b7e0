"""The database engine: one place that knows SQLite from PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every write transaction starts with
`BEGIN IMMEDIATE`, so that two writers queue on the lock instead of failing with
"database is locked" when a read transaction tries to upgrade.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 10.0
POSTGRES_COMMAND_TIMEOUT_S = 20.0

#: What a lost or refused database connection may raise: SQLAlchemy wraps errors from inside
#: a connection, but a refused connect surfaces as the socket's OSError. `is_unavailable`
#: tells a lost connection from a mistake (a missing table is a DBAPIError too).
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (DBAPIError, OSError)

#: SQLSTATEs of a PostgreSQL server that is away for now: a connection exception (class 08),
#: a shutdown (57P01 admin, 57P02 crash), a server starting or stopping (57P03), too many
#: connections (53300).
POSTGRES_UNAVAILABLE_CLASS = "08"
POSTGRES_UNAVAILABLE = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached right now (worth a retry)."""
    if isinstance(exc, OSError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc.orig, OSError):
        return True
    if "database is locked" in str(exc.orig):  # SQLite: a writer held on past the busy timeout
        return True
    # SQLAlchemy translates asyncpg's errors into generic classes (a server that is shutting
    # down refuses a connect with a plain `Error`): judge by the SQLSTATE and the driver's own
    # error, which the translation keeps as its cause.
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if sqlstate.startswith(POSTGRES_UNAVAILABLE_CLASS) or sqlstate in POSTGRES_UNAVAILABLE:
        return True
    driver_error = getattr(exc.orig, "__cause__", None) or exc.orig
    if isinstance(driver_error, OSError):
        return True
    # InternalClientError: asyncpg's protocol fell out of step, as when a server on its way
    # down sends FATAL to a connection between two statements of a transaction.
    name = type(driver_error).__name__
    return any(word in name for word in ("Connection", "CannotConnect", "AdminShutdown",
                                         "InternalClient"))


READ_ONLY = "videobot_read_only"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_engine(url: str) -> AsyncEngine:
    """An async engine for `url`, tuned for the job queue."""
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _tune_sqlite(engine.sync_engine)
        return engine
    # Bounded waits: a connection or a statement stuck on a server that went away raises
    # (a TimeoutError, retried as "unavailable") instead of hanging its caller for ever.
    return create_async_engine(url, pool_pre_ping=True, connect_args={
        "timeout": POSTGRES_CONNECT_TIMEOUT_S, "command_timeout": POSTGRES_COMMAND_TIMEOUT_S,
    })


def _tune_sqlite(sync_engine: Engine) -> None:
    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver, so that we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A write transaction (`BEGIN IMMEDIATE` on SQLite). Never await network I/O inside.

    On SQLite the writers of one process also take turns on an asyncio lock: waiting there
    costs nothing, while waiting in SQLite's busy handler means sleeping in steps of up to
    100 ms. Other processes still meet at the database's lock."""
    if engine.dialect.name != "sqlite":
        async with engine.begin() as connection:
            yield connection
        return
    async with _writer_lock(engine), engine.begin() as connection:
        yield connection


_WRITER_LOCKS: weakref.WeakKeyDictionary[AsyncEngine, asyncio.Lock] = weakref.WeakKeyDictionary()


async def run_write(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run `work`, a function of a synchronous connection, as one write transaction.

    On SQLite the whole transaction runs as one job of a worker thread, on a synchronous
    twin of the engine (same file, same settings), under the same writer lock as
    `write_transaction`: one handoff to a thread instead of two or three per statement, which
    is most of what a short transaction costs through aiosqlite. Elsewhere `work` runs on the
    async connection through SQLAlchemy's `run_sync`."""
    if engine.dialect.name != "sqlite":
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    twin = _sync_twin(engine)
    async with _writer_lock(engine):
        return await asyncio.to_thread(_in_transaction, twin, work)


def _in_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.begin() as connection:
        return work(connection)


async def run_read(engine: AsyncEngine, work: Callable[[Connection], T]) -> T:
    """Run `work`, a function of a synchronous connection, in one read-only transaction: on
    SQLite as one job of a worker thread on the synchronous twin (no writer lock), as
    `run_write` does; elsewhere through `run_sync`. For reads that a burst makes often."""
    if engine.dialect.name != "sqlite":
        async with read_transaction(engine) as connection:
            return await connection.run_sync(work)
    return await asyncio.to_thread(_in_read_transaction, _sync_twin(engine), work)


def _in_read_transaction(engine: Engine, work: Callable[[Connection], T]) -> T:
    with engine.connect() as connection:
        reading = connection.execution_options(**{READ_ONLY: True})
        with reading.begin():
            return work(reading)


_SYNC_TWINS: weakref.WeakKeyDictionary[AsyncEngine, Engine] = weakref.WeakKeyDictionary()


def _sync_twin(engine: AsyncEngine) -> Engine:
    twin = _SYNC_TWINS.get(engine)
    if twin is None:
        url = engine.url.set(drivername="sqlite")
        twin = create_sync_engine(url, connect_args={
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False})
        _tune_sqlite(twin)
        _SYNC_TWINS[engine] = twin
    return twin


async def dispose(engine: AsyncEngine) -> None:
    """Close every pooled connection of `engine` (and of its synchronous twin)."""
    twin = _SYNC_TWINS.pop(engine, None)
    if twin is not None:
        twin.dispose()
    await engine.dispose()


def _writer_lock(engine: AsyncEngine) -> asyncio.Lock:
    return _WRITER_LOCKS.setdefault(engine, asyncio.Lock())


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A read-only transaction that takes no write lock."""
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{READ_ONLY: True})
        async with connection.begin():
            yield connection


def insert_of(dialect: str) -> Any:
    """The `insert` of the dialect named `dialect`, which has `on_conflict_do_*`."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


async def upsert(conn: AsyncConnection, model: Any, key: dict[str, Any],
                 values: dict[str, Any]) -> None:
    """Insert the row `key` with `values`, or update `values` where that key exists."""
    statement = insert_of(conn.dialect.name)(model).values(**key, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))
