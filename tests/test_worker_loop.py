"""The worker loop in-process, on a real SQLite file and the real encoder."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from generator.finishing import encode
from generator.worker import RENDER_FAILED, Worker
from storage.models import JobStatus
from storage.store import Store
from tests.backends import StripesBackend, stand_in_worker
from tests.conftest import FakeClock
from videobot.config import Config
from videobot.media.clip import EncodedClip
from videobot.params import RenderRequest
from videobot.users import UserRef

ALICE = UserRef("console", "alice")


def make_worker(store: Store, config: Config, backend: StripesBackend,
                name: str = "w1") -> Worker:
    return stand_in_worker(store, config, backend, worker_id=name)


def request(**changes: object) -> RenderRequest:
    base = RenderRequest(prompt="a red ball", negative_prompt="", frames=8, fps=8, width=32,
                         height=32, steps=4, guidance=7.5, seed=3, preset="tiny")
    return base.replace(**changes)


async def enqueue(store: Store, **changes: object) -> int:
    job = await store.submissions.enqueue(ALICE, request(**changes), max_queued_per_user=10)
    return job.id


async def wait_for(predicate: object, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_burst_renders_every_job_and_stores_a_playable_clip(
    store: Store, config: Config
) -> None:
    ids = [await enqueue(store, seed=s) for s in range(3)]
    worker = make_worker(store, config, StripesBackend())
    assert await worker.run(burst=True) == 3
    for job_id in ids:
        job = await store.jobs.require(job_id)
        assert job.status == JobStatus.SUCCEEDED and job.attempts == 1
        assert job.clip is not None
        if job.clip.in_database:  # the default on PostgreSQL
            assert await store.jobs.clip_data(job_id) is not None
        else:
            assert os.path.isfile(job.clip.video_path) and os.path.isfile(job.clip.poster_path)
        assert (job.clip.frames, job.clip.fps, job.clip.width) == (8, 8, 32)
        assert job.progress_step == job.progress_total == 4


async def test_cancel_while_rendering_stops_the_model(store: Store, config: Config) -> None:
    job_id = await enqueue(store, steps=40)
    backend = StripesBackend(step_seconds=0.05)
    worker = make_worker(store, config, backend)
    run = asyncio.create_task(worker.run(burst=True))
    await asyncio.to_thread(backend.started.wait, 10)
    await store.cancels.request(job_id, ALICE)
    await asyncio.wait_for(run, 10)
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.CANCELLED and job.clip is None
    assert job.progress_step < 40


async def test_model_error_fails_the_job_with_one_fixed_sentence(
    store: Store, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    job_id = await enqueue(store)
    worker = make_worker(store, config, StripesBackend(error=RuntimeError("secret detail")))
    with caplog.at_level(logging.ERROR):
        await worker.run(burst=True)
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.FAILED and job.error == RENDER_FAILED
    assert "secret detail" not in (job.error or "")
    assert "secret detail" in caplog.text  # the traceback is in the log


async def test_worker_checks_the_caps_again(store: Store, config: Config) -> None:
    job_id = await enqueue(store, frames=10_000)  # bypasses the bot's check
    backend = StripesBackend()
    await make_worker(store, config, backend).run(burst=True)
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.FAILED
    assert job.error == "frames must be between 1 and 64, not 10000"
    assert backend.calls == 0


async def test_a_worker_that_lost_its_lease_cannot_store_its_result(
    store: Store, config: Config, clock: FakeClock
) -> None:
    # Slow steps: the worker writes nothing during the first second, as if it had stalled.
    job_id = await enqueue(store, steps=3)
    backend = StripesBackend(step_seconds=1.0)
    run = asyncio.create_task(make_worker(store, config, backend).run(burst=True))
    await asyncio.to_thread(backend.started.wait, 10)
    clock.advance(store.context.lease.total_seconds() + 1)
    second = await store.leases.claim_next_job("w2")  # the lease expired: another worker takes over
    assert second is not None and second.attempt == 2
    await asyncio.wait_for(run, 10)
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.RUNNING and job.worker_id == "w2" and job.clip is None
    assert not list((config.data_dir / "clips").glob("job-*-a1.*"))


async def test_stopping_worker_hands_the_job_back(store: Store, config: Config) -> None:
    job_id = await enqueue(store, steps=40)
    backend = StripesBackend(step_seconds=0.05)
    worker = make_worker(store, config, backend)
    run = asyncio.create_task(worker.run())
    await asyncio.to_thread(backend.started.wait, 10)
    worker.request_stop()
    worker.abandon_current()
    await asyncio.wait_for(run, 10)
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.QUEUED and job.attempts == 0


async def test_progress_is_written_while_rendering(store: Store, config: Config) -> None:
    job_id = await enqueue(store, steps=30)
    backend = StripesBackend(step_seconds=0.05)
    run = asyncio.create_task(make_worker(store, config, backend).run(burst=True))

    async def some_progress() -> bool:
        job = await store.jobs.require(job_id)
        return 0 < job.progress_step < 30

    await wait_for(some_progress)
    await asyncio.wait_for(run, 20)


async def test_the_presets_x264_speed_reaches_the_encoder(store: Store, config: Config) -> None:
    speeds: list[str] = []

    def encoder(frames: Any, fps: int, video: Path, poster: Path, speed: str) -> EncodedClip:
        speeds.append(speed)
        return encode(frames, fps, video, poster, speed)

    fast = replace(config, presets={**config.presets,
                                    "tiny": replace(config.presets["tiny"],
                                                    x264_preset="ultrafast")})
    job_id = await enqueue(store)
    worker = stand_in_worker(store, fast, StripesBackend(), encoder=encoder)
    await worker.run(burst=True)
    assert (await store.jobs.require(job_id)).status == JobStatus.SUCCEEDED
    assert speeds == ["ultrafast"]
