"""The job queue alone, on SQLite and on PostgreSQL (a throwaway cluster from the installed
server binaries, or VIDEOBOT_TEST_POSTGRES_URL):

- claims per second with 1 and 4 worker processes on trivial jobs (claim, two heartbeats,
  finish), and the errors they saw;
- enqueue -> claim latency p50/p99 with an idle worker waiting on the wake-up signal;
- recovery: time from SIGKILL of a worker holding a job to the job's re-claim by another,
  against lease + one poll interval.

(Issue 6 calls it bench/queue.py; a script of that name would hide the standard library's
`queue` module from every script run from bench/.)

    .venv/bin/python bench/queue_throughput.py [--seconds 30] [--jobs 2000]
                                               [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import multiprocessing  # noqa: E402

from storage import migrate  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.records import JobRecord  # noqa: E402
from storage.store import Store  # noqa: E402
from storage.wakeup import JOBS  # noqa: E402
from tests import postgres  # noqa: E402
from tests.queue_load import REQUEST, enqueue, run_workers  # noqa: E402
from videobot.users import UserRef  # noqa: E402

MakeUrl = Callable[[], str]
LEASE_S = 3.0
POLL_S = 0.5


def store_for(url: str) -> Store:
    return Store.on(create_engine(url), lease_seconds=LEASE_S, max_attempts=3)


async def fresh(url: str) -> None:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()


def claims_per_second(make_url: MakeUrl, processes: int, jobs: int,
                      seconds: float) -> str:
    url = make_url()
    asyncio.run(fresh(url))
    asyncio.run(enqueue(url, jobs))
    result, _elapsed = run_workers(url, processes, seconds=seconds, refill=True)
    rate = result.finished / seconds  # every worker runs for `seconds`, the queue kept full
    locked = sum("locked" in e for e in result.errors)
    return (f"{processes} worker(s): {rate:7.1f} jobs/s ({result.finished} in {seconds:g} s), "
            f"{len(result.errors)} errors ({locked} 'database is locked')")


async def idle_worker(url: str, ready: Any, seconds: float) -> None:
    store = store_for(url)
    deadline = time.monotonic() + seconds
    async with store.signals.listener(JOBS) as wakeup:
        ready.set()
        while time.monotonic() < deadline:
            job = await store.leases.claim_next_job("idle")
            if job is None:
                await wakeup.wait(POLL_S)
                continue
            await store.leases.finish_failed(job.id, job.attempt, "bench")
    await store.engine.dispose()


def _idle_process(url: str, ready: Any, seconds: float) -> None:
    asyncio.run(idle_worker(url, ready, seconds))


async def enqueue_one_at_a_time(url: str, count: int) -> list[float]:
    store = store_for(url)
    latencies = []
    try:
        for _ in range(count):
            job = await store.submissions.enqueue(UserRef("bench", "latency"), REQUEST,
                                                  max_queued_per_user=count)
            record = await _claimed(store, job.id)
            latencies.append((record.started_at - record.created_at).total_seconds())
            await asyncio.sleep(0.05)
    finally:
        await store.engine.dispose()
    return latencies


async def _claimed(store: Store, job_id: int) -> JobRecord:
    """Poll (the bench must not rely on the signal it measures) until the job is claimed."""
    for _ in range(100_000):
        record = await store.jobs.require(job_id)
        if record.started_at is not None:
            return record
        await asyncio.sleep(0.002)
    raise SystemExit(f"job {job_id} was never claimed")


def enqueue_to_claim(make_url: MakeUrl, count: int) -> str:
    url = make_url()
    asyncio.run(fresh(url))
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    worker = context.Process(target=_idle_process, args=(url, ready, 60 + count * 0.2))
    worker.start()
    ready.wait(60)
    time.sleep(0.3)
    try:
        latencies = sorted(asyncio.run(enqueue_one_at_a_time(url, count)))
    finally:
        worker.terminate()
        worker.join(30)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return f"enqueue -> claim, idle worker: p50 {p50:6.1f} ms, p99 {p99:6.1f} ms ({count} jobs)"


async def _hold_a_job(url: str) -> None:
    store = store_for(url)
    job = await store.leases.claim_next_job("doomed")
    assert job is not None
    while True:  # heartbeat like a live worker, until SIGKILL
        await store.leases.renew_lease(job.id, job.attempt)
        await asyncio.sleep(0.5)


def _doomed_process(url: str) -> None:
    asyncio.run(_hold_a_job(url))


async def _wait_for_second_attempt(url: str) -> None:
    store = store_for(url)
    try:
        for _ in range(100_000):
            if (await store.jobs.require(1)).attempts >= 2:
                return
            await asyncio.sleep(0.01)
        raise SystemExit("the job was never claimed again")
    finally:
        await store.engine.dispose()


def recovery(make_url: MakeUrl) -> str:
    url = make_url()
    asyncio.run(fresh(url))
    asyncio.run(enqueue(url, 1))
    context = multiprocessing.get_context("spawn")
    doomed = context.Process(target=_doomed_process, args=(url,))
    doomed.start()
    time.sleep(3)  # it claimed and heartbeats
    ready = context.Event()
    rescuer = context.Process(target=_idle_process, args=(url, ready, 60))
    rescuer.start()
    ready.wait(60)
    assert doomed.pid is not None
    os.kill(doomed.pid, signal.SIGKILL)
    killed = time.monotonic()
    asyncio.run(_wait_for_second_attempt(url))
    elapsed = time.monotonic() - killed
    rescuer.terminate()
    rescuer.join(30)
    doomed.join(30)
    return (f"SIGKILL -> re-claim: {elapsed:5.2f} s (lease {LEASE_S:g} s + poll {POLL_S:g} s "
            f"= bound {LEASE_S + POLL_S:g} s)")


@contextmanager
def databases(only: str | None) -> Iterator[list[tuple[str, MakeUrl]]]:
    folder = Path(tempfile.mkdtemp(prefix="videobot-queue-bench-"))
    counter = iter(range(10**6))

    def sqlite_url() -> str:
        return f"sqlite+aiosqlite:///{folder / f'q{next(counter)}.db'}"

    kinds: list[tuple[str, MakeUrl]] = []
    if only in (None, "sqlite"):
        kinds.append(("SQLite", sqlite_url))
    if only in (None, "postgresql"):
        with _postgres() as server:
            if server is not None:
                kinds.append(("PostgreSQL",
                              lambda: asyncio.run(postgres.create_database(server))))
            yield kinds
        return
    yield kinds


@contextmanager
def _postgres() -> Iterator[str | None]:
    if os.environ.get(postgres.ENV_URL):
        yield os.environ[postgres.ENV_URL]
    elif postgres.server_binaries() is None:
        print("PostgreSQL: server binaries not installed; skipped")
        yield None
    else:
        with postgres.throwaway_cluster() as server:
            yield server.url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--latency-jobs", type=int, default=100)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    with databases(args.only) as kinds:
        for name, make_url in kinds:
            print(f"== {name}")
            for processes in (1, 4):
                print("  " + claims_per_second(make_url, processes, args.jobs, args.seconds))
            print("  " + enqueue_to_claim(make_url, args.latency_jobs))
            print("  " + recovery(make_url))


if __name__ == "__main__":
    main()
