"""The queue's promises under real faults, with real processes: a restarted bot delivers
once, SIGTERM releases the job in hand, three workers on PostgreSQL render and deliver every
job exactly once, and a PostgreSQL restart is waited out (never taken for a mistake) with each
clip still posted once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import av
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.delivery import DeliveryLoop
from storage.connect import close_store, open_store
from storage.db import create_engine, is_unavailable
from storage.records import JobRecord
from tests import postgres
from tests.conftest import require_postgres
from tests.processes import start, videobot, wait_until
from tests.test_processes import job_state, write_config
from videobot.config import config_from_dict, load_config
from videobot.params import RenderRequest
from videobot.users import UserRef

pytestmark = pytest.mark.timeout(300)


def submit(config: Path, data: Path, *args: str) -> int:
    result = videobot("submit", *args, data_dir=data, config=config)
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def test_a_restarted_bot_delivers_a_stored_clip_once(tmp_path: Path, tiny_model: Path) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model)
    data = tmp_path / "d"
    job_id = submit(config, data, "a ball", "--frames", "8", "--user", "console:local")
    assert videobot("worker", "--burst", data_dir=data, config=config).returncode == 0
    # The bot was down while the clip was stored: its next start delivers it.
    first = videobot("run", "--no-workers", data_dir=data, config=config)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count(f"Job #{job_id} done:") == 1
    second = videobot("run", "--no-workers", data_dir=data, config=config)
    assert second.returncode == 0 and "done" not in second.stdout


def test_sigterm_releases_the_job_in_hand_and_exits_0(tmp_path: Path, tiny_model: Path) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model,
                          worker={"shutdown_grace_seconds": 1.0}, quotas={"credits": 1000},
                          queue={"heartbeat_seconds": 0.5, "lease_seconds": 30.0})
    data = tmp_path / "d"
    job_id = submit(config, data, "a slow ball", "--steps", "50", "--frames", "48")
    worker = start("worker", data_dir=data, config=config)
    try:
        wait_until(lambda: job_state(config, data, job_id).progress_step >= 1, 90,
                   "the render to start")
        listing = videobot("admin", "workers", data_dir=data, config=config).stdout
        assert f"rendering job #{job_id}" in listing
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    job = job_state(config, data, job_id)
    assert (job.status, job.attempts, job.worker_id) == ("queued", 0, None)
    assert "gone (exited" in videobot("admin", "workers", data_dir=data, config=config).stdout


def test_a_second_sigterm_exits_at_once_and_leaves_the_lease(
    tmp_path: Path, tiny_model: Path
) -> None:
    config = write_config(tmp_path / "c.toml", tiny_model,
                          worker={"shutdown_grace_seconds": 60.0}, quotas={"credits": 1000})
    data = tmp_path / "d"
    job_id = submit(config, data, "a slow ball", "--steps", "50", "--frames", "48")
    worker = start("worker", data_dir=data, config=config)
    try:
        wait_until(lambda: job_state(config, data, job_id).progress_step >= 1, 90,
                   "the render to start")
        worker.send_signal(signal.SIGTERM)
        # Two signals sent back to back may merge into one: wait until the first was seen.
        wait_until(lambda: "stop signal" in (data / "process.log").read_text(), 30,
                   "the first SIGTERM to be handled")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(10) != 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    job = job_state(config, data, job_id)
    assert (job.status, job.attempts) == ("running", 1)  # left to lease expiry


async def enqueue_many(config_path: Path, data_dir: Path, count: int,
                       **changes: object) -> None:
    """Queue `count` tiny jobs for console:local, as `videobot submit` would, in one go."""
    config = load_config(config_path, data_dir=data_dir)
    store = await open_store(config)
    request = RenderRequest(prompt="a ball", negative_prompt="", frames=4, fps=8, width=32,
                            height=32, steps=1, guidance=1.0, seed=0,
                            preset="tiny").replace(**changes)
    try:
        for index in range(count):
            await store.submissions.enqueue(UserRef("console", "local"),
                                            request.replace(seed=index),
                                            max_queued_per_user=count)
    finally:
        await close_store(store)


def every_job(config_path: Path, data_dir: Path) -> list[JobRecord]:
    """Every job of console:local, read in one go."""

    async def read() -> list[JobRecord]:
        store = await open_store(load_config(config_path, data_dir=data_dir))
        try:
            return await store.jobs.jobs_of(UserRef("console", "local"), limit=1000)
        finally:
            await close_store(store)

    return asyncio.run(read())


@pytest.fixture
async def postgres_url(postgres_server: postgres.Server | None) -> AsyncIterator[str]:
    url = await postgres.create_database(require_postgres(postgres_server).url)
    yield url
    await postgres.drop_database(url)


def test_three_workers_on_postgresql_render_and_deliver_every_job_once(
    tmp_path: Path, tiny_model: Path, postgres_url: str
) -> None:
    jobs = 60
    config = write_config(tmp_path / "c.toml", tiny_model, database={"url": postgres_url},
                          limits={"max_queued_per_user": jobs})
    data = tmp_path / "d"
    workers = [start("worker", data_dir=data, config=config, log=tmp_path / f"w{i}.log")
               for i in range(3)]
    try:
        asyncio.run(enqueue_many(config, data, jobs))
        delivered = videobot("run", "--no-workers", data_dir=data, config=config, timeout=240)
    finally:
        for worker in workers:
            worker.terminate()
        codes = [worker.wait(60) for worker in workers]
    assert delivered.returncode == 0, delivered.stderr
    done = Counter(int(n) for n in re.findall(r"^Job #(\d+) done:", delivered.stdout, re.M))
    assert sorted(done) == list(range(1, jobs + 1)) and set(done.values()) == {1}
    assert codes == [0, 0, 0]
    claims = Counter()
    for index in range(3):
        log = (tmp_path / f"w{index}.log").read_text()
        claims.update(int(n) for n in re.findall(r"job (\d+) attempt 1: claimed", log))
    assert sum(claims.values()) == jobs and set(claims.values()) == {1}
    assert all(job_state(config, data, n).attempts == 1 for n in (1, jobs // 2, jobs))


SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


@contextlib.asynccontextmanager
async def shutting_down_server() -> AsyncIterator[int]:
    """A PostgreSQL server in the middle of a restart, as a client sees it: every startup
    message is answered with FATAL 57P03 "the database system is shutting down". Yields the
    port."""

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            length, code = struct.unpack("!ii", await reader.readexactly(8))
            while code in (SSL_REQUEST, GSSENC_REQUEST):
                writer.write(b"N")  # no encryption: the startup message follows
                length, code = struct.unpack("!ii", await reader.readexactly(8))
            await reader.readexactly(length - 8)
            fields = b"".join(key + value + b"\0" for key, value in (
                (b"S", b"FATAL"), (b"V", b"FATAL"), (b"C", b"57P03"),
                (b"M", b"the database system is shutting down"))) + b"\0"
            writer.write(b"E" + struct.pack("!i", len(fields) + 4) + fields)
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    server = await asyncio.start_server(refuse, "127.0.0.1", 0)
    async with server:
        yield int(server.sockets[0].getsockname()[1])


async def test_a_server_that_is_shutting_down_counts_as_unavailable() -> None:
    """What a restart looks like to a new connection: retried, not taken for a mistake (a
    worker that took it for one died, and its jobs waited for ever)."""
    async with shutting_down_server() as port:
        engine = create_engine(f"postgresql+asyncpg://videobot@127.0.0.1:{port}/videobot")
        try:
            with pytest.raises(DBAPIError, match="shutting down") as refused:
                async with engine.connect():
                    pass
        finally:
            await engine.dispose()
    assert is_unavailable(refused.value)


async def test_a_mistake_on_postgresql_is_not_unavailable(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with pytest.raises(DBAPIError) as mistake:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT * FROM no_such_table"))
    finally:
        await engine.dispose()
    assert not is_unavailable(mistake.value)


class CountingChat:
    """A console chat that counts what it was given, and takes the database away (as a
    restart does) while it posts the first clip."""

    platform = "console"

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.posted: list[int] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def show_progress(self, job: JobRecord, text: str) -> None: ...

    async def deliver(self, job: JobRecord) -> None:
        self.posted.append(job.id)
        if len(self.posted) == 1:
            await set_connections_allowed(self.database_url, allowed=False)


async def set_connections_allowed(database_url: str, *, allowed: bool) -> None:
    """Let clients into the database, or shut them out and drop those connected."""
    import asyncpg

    server, name = database_url.replace("+asyncpg", "").rsplit("/", 1)
    admin = await asyncpg.connect(server + "/postgres")
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = $1", name)
    finally:
        await admin.close()


async def test_a_clip_posted_while_the_database_was_away_is_not_posted_again(
    tmp_path: Path, postgres_url: str
) -> None:
    config = config_from_dict({"data_dir": str(tmp_path / "d"), "default_preset": "tiny",
                               "database": {"url": postgres_url}})
    store = await open_store(config)
    chat = CountingChat(postgres_url)
    delivery = DeliveryLoop(store=store, adapters={"console": chat}, clips_dir=tmp_path / "c")
    try:
        job = await store.submissions.enqueue(UserRef("console", "local"), RenderRequest(
            prompt="a ball", negative_prompt="", frames=4, fps=8, width=32, height=32, steps=1,
            guidance=1.0, seed=0, preset="tiny"), max_queued_per_user=1)
        claimed = await store.leases.claim_next_job("w")
        assert claimed is not None and claimed.id == job.id
        await store.leases.finish_failed(job.id, claimed.attempt, "the model broke")
        with pytest.raises(DBAPIError):  # posted, but its delivery could not be recorded
            await delivery.tick()
        await set_connections_allowed(postgres_url, allowed=True)
        await delivery.tick()
        await delivery.tick()
        assert chat.posted == [job.id]
        assert (await store.jobs.require(job.id)).delivered_at is not None
    finally:
        await set_connections_allowed(postgres_url, allowed=True)
        await close_store(store)


def test_workers_and_the_bot_carry_on_across_a_postgresql_restart(
    tmp_path: Path, tiny_model: Path, postgres_server: postgres.Server | None,
    postgres_url: str,
) -> None:
    server = require_postgres(postgres_server)
    if server.restart is None:
        pytest.skip("an external server cannot be restarted by the tests")
    jobs = 16
    config = write_config(tmp_path / "c.toml", tiny_model, database={"url": postgres_url},
                          limits={"max_queued_per_user": jobs},
                          queue={"poll_interval_seconds": 0.5})
    data = tmp_path / "d"
    asyncio.run(enqueue_many(config, data, jobs))
    worker = start("worker", data_dir=data, config=config, log=tmp_path / "worker.log")
    bot = start("run", "--no-workers", data_dir=data, config=config, log=tmp_path / "bot.log")
    try:
        wait_until(lambda: "Job #3 done:" in (tmp_path / "bot.log").read_text(), 120,
                   "the first deliveries")
        server.restart()  # under load: jobs waiting, rendering and being delivered
        assert bot.wait(180) == 0
        assert worker.poll() is None  # the same worker process carried on
    finally:
        for process in (worker, bot):
            if process.poll() is None:
                process.terminate()
                process.wait(60)
    output = (tmp_path / "bot.log").read_text()
    done = Counter(int(n) for n in re.findall(r"^Job #(\d+) done:", output, re.M))
    assert sorted(done) == list(range(1, jobs + 1)) and set(done.values()) == {1}


def test_a_job_that_keeps_killing_its_worker_fails_and_the_fleet_carries_on(
    tmp_path: Path, tiny_model: Path
) -> None:
    """Each time the doomed job is claimed, its worker dies (SIGKILL). After max_attempts the
    job fails with a message for the user; the restarted worker then renders the next job."""
    config = write_config(
        tmp_path / "c.toml", tiny_model,
        queue={"lease_seconds": 2.0, "heartbeat_seconds": 0.5, "poll_interval_seconds": 0.5,
               "max_attempts": 2},
        console={"enabled": False}, worker={"restart_delay_seconds": 0.2},
        quotas={"credits": 1000},
    )
    data = tmp_path / "d"
    doomed = submit(config, data, "a doomed ball", "--steps", "50", "--frames", "48")
    bot = start("run", data_dir=data, config=config)
    try:
        for attempt in (1, 2):
            wait_until(lambda a=attempt: job_state(config, data, doomed).attempts == a
                       and job_state(config, data, doomed).progress_step >= 1, 120,
                       f"attempt {attempt} to start")
            worker_id = job_state(config, data, doomed).worker_id
            assert worker_id is not None
            os.kill(int(worker_id.split(":")[1]), signal.SIGKILL)
        wait_until(lambda: job_state(config, data, doomed).status == "failed", 60,
                   "the job to be given up")
        failed = job_state(config, data, doomed)
        assert failed.attempts == 2 and failed.error and "every attempt" in failed.error
        after = submit(config, data, "a healthy ball", "--frames", "8")
        wait_until(lambda: job_state(config, data, after).status == "succeeded", 120,
                   "the fleet to carry on")
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(60)


def test_workers_killed_at_random_moments_never_expose_a_broken_clip(
    tmp_path: Path, tiny_model: Path
) -> None:
    """SIGKILL the worker again and again while a batch renders and stores: every job ends
    with exactly one whole, decodable clip (never a half-written one), rendered by some
    attempt; nothing is lost."""
    jobs = 12
    config = write_config(
        tmp_path / "c.toml", tiny_model,
        queue={"lease_seconds": 2.0, "heartbeat_seconds": 0.5, "poll_interval_seconds": 0.3,
               "max_attempts": 10},
        console={"enabled": False}, worker={"restart_delay_seconds": 0.1},
        limits={"max_queued_per_user": jobs}, quotas={"credits": 1000},
    )
    data = tmp_path / "d"
    asyncio.run(enqueue_many(config, data, jobs, frames=16, steps=20))
    bot = start("run", data_dir=data, config=config)
    kills = 0

    def states() -> list[str]:
        return [job.status for job in every_job(config, data)]

    try:
        deadline = time.monotonic() + 120
        while kills < 4 and time.monotonic() < deadline:
            jobs_now = every_job(config, data)
            if all(job.status == "succeeded" for job in jobs_now):
                break
            for job in jobs_now:
                pid = int(job.worker_id.split(":")[1]) if job.worker_id else 0
                if job.status == "running" and pid and _alive(pid):
                    time.sleep(0.1 * (kills % 3))  # vary the moment: render, encode, store
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        kills += 1
                    break
            time.sleep(0.05)
        wait_until(lambda: all(job_state(config, data, n).status == "succeeded"
                               for n in range(1, jobs + 1)), 240, "every job to finish")
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(60)
    for number in range(1, jobs + 1):
        job = job_state(config, data, number)
        assert job.clip is not None
        path = Path(job.clip.video_path)
        assert path.name == f"job-{number}-a{job.attempts}.mp4"
        with av.open(str(path)) as container:
            assert sum(1 for _ in container.decode(video=0)) == job.clip.frames == 16
    assert not list((data / "clips").glob(".*.part"))
    assert kills >= 2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
