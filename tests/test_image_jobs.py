"""Image to video through the queue: a job sent with a picture (stored as the API stores it: a
file in the data folder on SQLite, bytes in the database on PostgreSQL) is rendered from that
picture by a real worker process; the clip's first frame is the picture, judged from the
pixels. A job whose picture is gone fails with a reason instead of rendering from text."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from bot.core.commands import Core
from bot.core.parsing import VideoOptions
from generator.backends.demo import anchored, samples
from generator.backends.demo.checker import judge, object_masks
from generator.job_image import IMAGE_GONE
from storage.connect import close_store, open_store
from storage.models import JobStatus
from storage.store import Store
from tests.processes import videobot
from videobot.config import Config, load_config
from videobot.users import parse_user

pytestmark = pytest.mark.timeout(240)

#: A green square well left of the middle, where no text-only clip of the prompt starts:
#: the prompt names another shape and colour, which the picture must win over.
PICTURE = anchored.AnchoredSpec("square", "green", "right", (16.0, 40.0, 8.0), 0.5)
PROMPT = "a red ball moving right"


def png(picture: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(picture).save(out, format="PNG")
    return out.getvalue()


def first_frame(mp4: bytes) -> np.ndarray:
    return frames_of(mp4)[0]


def frames_of(mp4: bytes) -> np.ndarray:
    with av.open(io.BytesIO(mp4), mode="r") as container:
        return np.stack([frame.to_ndarray(format="rgb24")
                         for frame in container.decode(container.streams.video[0])])


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of the object masks of two frames."""
    masks, _ = object_masks(np.stack([a, b]))
    return float((masks[0] & masks[1]).sum() / max((masks[0] | masks[1]).sum(), 1))


def write_config(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"[database]\nurl = {json.dumps(database_url)}\n"
                    "[worker]\nwarm_up = false\n")
    return path


async def clip_bytes(store: Store, job_id: int) -> bytes:
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.clip is not None
    if job.clip.in_database:
        stored = await store.jobs.clip_data(job_id)
        assert stored is not None
        return stored[0]
    return Path(job.clip.video_path).read_bytes()


async def submit(config: Config, picture: bytes | None, seed: int = 11) -> int:
    store = await open_store(config)
    try:
        core = Core(store=store, config=config)
        submitted = await core.submit_video(
            parse_user("console:alice"),
            VideoOptions(PROMPT, {"seed": seed, "width": 64, "height": 64}), image=picture)
        return submitted.job.id
    finally:
        await close_store(store)


async def test_a_worker_process_renders_an_image_job_from_its_picture(
    tmp_path: Path, database_url: str
) -> None:
    config_path = write_config(tmp_path, database_url)
    data = tmp_path / "data"
    config = load_config(config_path, data_dir=data)
    picture = samples.picture_of(PICTURE)
    with_picture = await submit(config, png(picture))
    text_only = await submit(config, None)

    burst = await asyncio.to_thread(videobot, "worker", "--burst", data_dir=data,
                                    config=config_path)
    assert burst.returncode == 0, burst.stderr

    store = await open_store(config)
    try:
        animated = frames_of(await clip_bytes(store, with_picture))
        from_text = first_frame(await clip_bytes(store, text_only))
    finally:
        await close_store(store)
    assert overlap(animated[0], picture) >= 0.8
    seen = judge(animated)
    assert (seen.shape, seen.colour, seen.motion) == ("square", "green", "right")
    # The same prompt and seed without the picture: the prompt's red ball, elsewhere.
    assert overlap(from_text, picture) < 0.5
    assert judge(np.stack([from_text] * 2)).colour == "red"


async def test_a_job_whose_picture_is_gone_fails_and_says_so(
    tmp_path: Path, database_url: str
) -> None:
    config_path = write_config(tmp_path, database_url)
    data = tmp_path / "data"
    config = load_config(config_path, data_dir=data)
    if config.storage.clips_in_database(config.database_url):
        pytest.skip("a picture kept in the database cannot go missing by itself")
    job_id = await submit(config, png(samples.picture_of(PICTURE)))
    for stored in (data / "inputs").iterdir():
        stored.unlink()

    burst = await asyncio.to_thread(videobot, "worker", "--burst", data_dir=data,
                                    config=config_path)
    assert burst.returncode == 0, burst.stderr

    store = await open_store(config)
    try:
        job = await store.jobs.require(job_id)
    finally:
        await close_store(store)
    assert (job.status, job.error) == (JobStatus.FAILED, IMAGE_GONE)
