"""Clips through the database (workers on other hosts), the worker registry, and retention."""

from __future__ import annotations

import dataclasses
import os
from datetime import timedelta
from pathlib import Path

import av

from bot.delivery import DeliveryLoop
from storage.records import JobRecord
from storage.retention import prune_clips
from storage.store import Store
from storage.workers import WorkerRegistry
from tests.backends import StripesBackend, stand_in_worker
from tests.conftest import FakeClock
from videobot.config import Config, StorageConfig
from videobot.params import RenderRequest
from videobot.users import UserRef

ALICE = UserRef("console", "alice")
REQUEST = RenderRequest(prompt="a ball", negative_prompt="", frames=8, fps=8, width=32,
                        height=32, steps=2, guidance=1.0, seed=1, preset="tiny")


class RecordingAdapter:
    """A chat that keeps what it was given."""

    platform = "console"

    def __init__(self) -> None:
        self.delivered: list[JobRecord] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def show_progress(self, job: JobRecord, text: str) -> None: ...

    async def deliver(self, job: JobRecord) -> None:
        assert job.clip is not None
        with av.open(job.clip.video_path) as container:  # the file must be whole and local
            assert sum(1 for _ in container.decode(video=0)) == job.clip.frames
        self.delivered.append(job)


def in_database(config: Config) -> Config:
    return dataclasses.replace(config, storage=StorageConfig(clips="database"))


async def render(store: Store, config: Config, jobs: int = 1) -> list[int]:
    enqueue = store.submissions.enqueue
    ids = [(await enqueue(ALICE, REQUEST.replace(seed=i), max_queued_per_user=100)).id
           for i in range(jobs)]
    backend = StripesBackend()
    worker = stand_in_worker(store, config, backend, worker_id="w",
                             clips_dir=config.data_dir / "worker-host")
    await worker.run(burst=True)
    return ids


async def test_a_clip_travels_through_the_database_to_the_bot(
    store: Store, config: Config
) -> None:
    config = in_database(config)
    [job_id] = await render(store, config)
    job = await store.jobs.require(job_id)
    assert job.clip is not None and job.clip.in_database
    assert job.clip.video_path == Path(f"job-{job_id}-a1.mp4")  # a name, not a worker-host path
    assert not list((config.data_dir / "worker-host").iterdir())  # the worker kept nothing
    data = await store.jobs.clip_data(job_id)
    assert data is not None and data[0][4:8] == b"ftyp" and data[1][:2] == b"\xff\xd8"
    adapter = RecordingAdapter()
    bot_clips = config.data_dir / "bot-host"
    await DeliveryLoop(store=store, adapters={"console": adapter}, clips_dir=bot_clips).tick()
    [delivered] = adapter.delivered
    assert delivered.clip is not None
    assert delivered.clip.video_path == bot_clips / f"job-{job_id}-a1.mp4"
    assert (await store.jobs.require(job_id)).delivered_at is not None


async def test_clips_as_files_stay_files(store: Store, config: Config) -> None:
    config = dataclasses.replace(config, storage=StorageConfig(clips="files"))
    [job_id] = await render(store, config)
    job = await store.jobs.require(job_id)
    assert job.clip is not None and not job.clip.in_database
    assert Path(job.clip.video_path).is_file()
    assert await store.jobs.clip_data(job_id) is None


async def test_workers_register_beat_and_are_listed(store: Store, clock: FakeClock) -> None:
    registry = WorkerRegistry(store.engine, clock=store.clock)
    await registry.register(worker_id="gpu1:7:cuda:0", host="gpu1", pid=7, device="cuda:0",
                            presets=["wan"], version="0.1.0")
    await registry.register(worker_id="gpu2:9:cuda:1", host="gpu2", pid=9, device="cuda:1",
                            presets=["wan"], version="0.1.0")
    clock.advance(5)
    await registry.beat("gpu1:7:cuda:0", status=WorkerRegistry.BUSY, current_job_id=12)
    listed = {w.id: w for w in await registry.all()}
    assert listed["gpu1:7:cuda:0"].current_job_id == 12
    assert listed["gpu1:7:cuda:0"].heartbeat_at == clock.now
    assert listed["gpu2:9:cuda:1"].status == WorkerRegistry.STARTING
    # Registering again (a restart with the same id) replaces the row.
    await registry.register(worker_id="gpu1:7:cuda:0", host="gpu1", pid=7, device="cuda:0",
                            presets=["wan"], version="0.2.0")
    assert {w.version for w in await registry.all()} == {"0.1.0", "0.2.0"}
    clock.advance(3600)
    await registry.beat("gpu2:9:cuda:1", status=WorkerRegistry.READY, current_job_id=None)
    lease = timedelta(seconds=30)
    states = {w.id: w.state(clock.now, lease) for w in await registry.all()}
    # gpu1 said "busy" an hour ago and nothing since: lost, never shown as what it last said.
    assert states == {"gpu1:7:cuda:0": "lost", "gpu2:9:cuda:1": "ready"}
    await registry.beat("gpu2:9:cuda:1", status=WorkerRegistry.GONE, current_job_id=None)
    clock.advance(3600)  # still gone, not lost, long after its last word
    assert [w.state(clock.now, lease) for w in await registry.all()] == ["lost", "gone"]
    keep = {"gone_for": timedelta(hours=1, minutes=1), "silent_for": timedelta(days=1)}
    assert await registry.prune(**keep) == 0
    clock.advance(61)
    assert await registry.prune(**keep) == 1
    assert [w.id for w in await registry.all()] == ["gpu1:7:cuda:0"]
    clock.advance(22 * 3600)
    assert await registry.prune(**keep) == 1
    assert await registry.all() == []


async def test_a_simulated_fortnight_keeps_storage_bounded(
    store: Store, config: Config, clock: FakeClock
) -> None:
    """Four clips a day for 14 days, pruned daily with a 3-day retention: never more than
    the last 3 days' clips are kept, as rows and as files."""
    config = dataclasses.replace(config, storage=StorageConfig(clips="files",
                                                               keep_clips_days=3))
    clips_dir = config.data_dir / "worker-host"
    most_rows = most_files = 0
    for _day in range(14):
        await render(store, config, jobs=4)
        stamp = clock.now.timestamp()
        for path in clips_dir.iterdir():  # files written now were written "today"
            if path.stat().st_mtime > stamp:
                os.utime(path, (stamp, stamp))
        await prune_clips(store.context, keep_days=3, drop_delivered_hours=0, clips_dir=clips_dir)
        rows = sum(1 for job in await store.jobs.jobs_of(ALICE, limit=1000) if job.clip)
        most_rows = max(most_rows, rows)
        most_files = max(most_files, len(list(clips_dir.iterdir())))
        clock.advance(86400)
    assert most_rows <= 4 * 4 and most_files <= 2 * 4 * 4
    assert rows <= 4 * 4


async def test_delivered_clip_data_is_dropped_sooner_when_configured(
    store: Store, config: Config, clock: FakeClock
) -> None:
    config = in_database(config)
    [job_id] = await render(store, config)
    await store.deliveries.mark_delivered(job_id)
    clock.advance(2 * 3600)
    report = await prune_clips(store.context, keep_days=0, drop_delivered_hours=1,
                               clips_dir=config.data_dir / "clips")
    assert report.data_dropped == 1
    assert await store.jobs.clip_data(job_id) is None
    job = await store.jobs.require(job_id)
    assert job.clip is not None and not job.clip.in_database  # the row and its facts remain
