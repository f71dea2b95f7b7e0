"""/extend through the queue with the embedded demo model and a real worker process, on
SQLite (clips as files) and PostgreSQL (clips in the database): ONE clip comes back, the
original followed by the continuation, which opens where the original ended and moves on in
the same direction, judged from the pixels; it is charged as a new clip of the added length
and captioned as an extension."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import av
import numpy as np
import pytest

from bot.core import replies
from bot.core.commands import Core
from generator.backends.demo.checker import judge
from storage.connect import close_store, open_store
from storage.models import JobStatus
from storage.records import JobRecord
from storage.store import Store
from tests.processes import videobot
from tests.test_demo_picture import centres_and_sizes, seed_with_room
from videobot.config import Config, load_config
from videobot.users import parse_user

pytestmark = pytest.mark.timeout(300)

ALICE = parse_user("console:alice")


def frames_of(mp4: bytes) -> np.ndarray:
    with av.open(io.BytesIO(mp4), mode="r") as container:
        return np.stack([frame.to_ndarray(format="rgb24")
                         for frame in container.decode(container.streams.video[0])])


async def clip_frames(store: Store, job: JobRecord) -> np.ndarray:
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.clip is not None
    if job.clip.in_database:
        stored = await store.jobs.clip_data(job.id)
        assert stored is not None
        return frames_of(stored[0])
    return frames_of(job.clip.video_path.read_bytes())


def write_config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[database]\nurl = {json.dumps(database_url)}\n"
                    "[worker]\nwarm_up = false\n")
    return path


async def ask(config: Config, line: str) -> str:
    """One command from alice through the core, as the console sends it; the reply."""
    store = await open_store(config)
    try:
        return (await Core(store=store, config=config).handle(ALICE, line)).text
    finally:
        await close_store(store)


def run_worker(config_path: Path, data: Path) -> None:
    burst = videobot("worker", "--burst", data_dir=data, config=config_path)
    assert burst.returncode == 0, burst.stderr


async def test_an_extended_clip_opens_with_the_original_and_moves_on_the_same_way(
    tmp_path: Path, database_url: str
) -> None:
    config_path = write_config(tmp_path, database_url)
    data = tmp_path / "data"
    config = load_config(config_path, data_dir=data)
    seed = seed_with_room("right")
    queued = await ask(config, f"/video an orange box moving right --seed {seed} "
                               "--width 64 --height 64")
    assert queued.startswith("Job #1 queued"), queued
    await asyncio.to_thread(run_worker, config_path, data)
    extending = await ask(config, "/extend")
    assert extending.startswith("Job #2 queued"), extending
    assert replies.extends_line(1) in extending
    await asyncio.to_thread(run_worker, config_path, data)

    store = await open_store(config)
    try:
        source, extension = await store.jobs.require(1), await store.jobs.require(2)
        original = await clip_frames(store, source)
        extended = await clip_frames(store, extension)
    finally:
        await close_store(store)
    assert extension.extends == 1
    assert extension.request.replace(prompt="") == source.request.replace(prompt="")
    assert extension.request.prompt == source.request.prompt
    assert extension.cost == source.cost > 0  # a new clip of the preset's length
    assert replies.extends_line(1) in replies.caption(extension)

    # One clip: the original (up to the noise of encoding twice), then 15 new frames.
    assert extended.shape == (16 + 15, 64, 64, 3)
    assert extension.clip is not None and extension.clip.frames == 31
    assert np.abs(extended[:16].astype(int) - original.astype(int)).mean() < 3.0
    assert judge(extended).motion == "right"
    continuation = extended[15:]
    assert judge(continuation).motion == "right"
    before, after = centres_and_sizes(original), centres_and_sizes(continuation)
    assert abs(after[0, 0] - before[-1, 0]) <= 1.5  # it opens where the original ended
    moved, moves = before[-1, 0] - before[0, 0], after[-1, 0] - after[0, 0]
    assert moved > 0 and 0.6 <= moves / moved <= 1.5  # on to the right, about as fast
