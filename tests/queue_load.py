"""Trivial-job load on the job table from several real processes, for the contention test
and `bench/queue.py`: each process claims, heartbeats and finishes jobs as fast as it can."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from dataclasses import dataclass
from pathlib import Path

from storage.db import create_engine, dispose
from storage.store import Store
from videobot.media.clip import EncodedClip
from videobot.params import RenderRequest
from videobot.users import UserRef

REQUEST = RenderRequest(prompt="trivial", negative_prompt="", frames=1, fps=8, width=16,
                        height=16, steps=1, guidance=0.0, seed=0, preset="tiny")
CLIP = EncodedClip(video_path=Path("none.mp4"), poster_path=Path("none.jpg"), width=16, height=16,
                  frames=1, fps=8, duration_s=0.1, size_bytes=1, render_seconds=0.0)


@dataclass(frozen=True)
class LoadResult:
    finished: int
    errors: list[str]


async def enqueue(url: str, count: int) -> None:
    store = Store.on(create_engine(url), lease_seconds=30, max_attempts=3)
    try:
        for index in range(count):
            await store.submissions.enqueue(UserRef("bench", str(index % 50)), REQUEST,
                                            max_queued_per_user=count)
    finally:
        await dispose(store.engine)


async def _drain(url: str, worker: str, seconds: float, refill: bool) -> LoadResult:
    """Claim, renew twice, finish; until `seconds` pass (queueing a job back per finish when
    `refill`) or the queue is empty."""
    store = Store.on(create_engine(url), lease_seconds=30, max_attempts=3)
    finished, errors = 0, []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            try:
                job = await store.leases.claim_next_job(worker)
                if job is None:
                    if not refill:
                        break
                    await asyncio.sleep(0.01)
                    continue
                await store.leases.renew_lease(job.id, job.attempt, step=1, total=1)
                await store.leases.renew_lease(job.id, job.attempt)
                await store.leases.finish_succeeded(job.id, job.attempt, CLIP)
                finished += 1
                if refill:
                    await store.submissions.enqueue(UserRef("bench", worker), REQUEST,
                                                    max_queued_per_user=10**6)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        await dispose(store.engine)
    return LoadResult(finished, errors)


def _process(url: str, worker: str, seconds: float, refill: bool,
             results: multiprocessing.Queue[LoadResult]) -> None:
    results.put(asyncio.run(_drain(url, worker, seconds, refill)))


def run_workers(url: str, processes: int, *, seconds: float,
                refill: bool = False) -> tuple[LoadResult, float]:
    """Run `processes` worker processes against `url`; their summed result and wall time."""
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[LoadResult] = context.Queue()
    started = time.monotonic()
    children = [context.Process(target=_process, args=(url, f"w{i}", seconds, refill, results))
                for i in range(processes)]
    for child in children:
        child.start()
    collected = [results.get(timeout=seconds + 120) for _ in children]
    for child in children:
        child.join(60)
    elapsed = time.monotonic() - started
    return LoadResult(sum(r.finished for r in collected),
                      [e for r in collected for e in r.errors]), elapsed
