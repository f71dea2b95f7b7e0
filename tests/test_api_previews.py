"""`GET /v1/videos/{id}/content?variant=preview` through the official `openai` client against
the real server and job store (SQLite and PostgreSQL): the latest preview a real worker
stored while a tiny Wan pipeline rendered, the preview of a job still rendering, and 404 in
the API's error shape while there is none, for an unknown video and for another key's."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import openai
import pytest
from PIL import Image

from generator.backends.latent_preview import PREVIEW_SIDE
from generator.backends.tiny_models import ensure_builtin_model
from generator.previews import preview_image
from storage.previews import PreviewStore
from storage.retention import prune_clips
from storage.store import Store
from tests.api_helpers import ALICE, BOB, Api, api_config
from tests.conftest import FakeClock
from videobot.config import Config

pytestmark = pytest.mark.timeout(120)
#: What an SDK user passes: its typed `variant` knows only OpenAI's three.
PREVIEW: Any = {"variant": "preview"}


@pytest.fixture(scope="module")
def tiny_wan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_builtin_model("tiny-wan", tmp_path_factory.mktemp("models"))


@pytest.fixture
def config(tmp_path: Path, database_url: str, tiny_wan: Path) -> Config:
    return api_config(tmp_path, database_url, default_preset="wan",
                      presets={"wan": {"model": str(tiny_wan), "family": "wan",
                                       "preview_every_steps": 1, "max_frames": 64}})


def message_of(error: openai.APIStatusError) -> tuple[str, str]:
    body: Any = error.body
    return body["message"], body["code"]


async def test_the_latest_preview_a_worker_stored_is_served_as_a_jpeg(
        api: Api, store: Store, config: Config) -> None:
    client = api.client(await api.key())
    video = await client.videos.create(prompt="a red ball", size="64x64",
                                       extra_body={"frames": 33, "steps": 32, "seed": 3})
    with pytest.raises(openai.NotFoundError) as none_yet:
        await client.videos.download_content(video.id, extra_query=PREVIEW)
    assert message_of(none_yet.value) == (
        f"video {video.id} has no preview yet: it is queued, and previews come every few "
        "steps of a render whose model makes them", "preview_not_found")

    async with api.worker():
        done = await client.videos.poll(video.id, poll_interval_ms=50)
    assert done.status == "completed"
    served = await client.videos.download_content(video.id, extra_query=PREVIEW)
    previews = PreviewStore.of(store.context, config)
    stored = await previews.latest(int(video.id.removeprefix("video_")))
    assert stored is not None and served.content == stored.jpeg
    headers = served.response.headers
    assert headers["content-type"] == "image/jpeg" and headers["cache-control"] == "no-store"
    step, total = int(headers["x-preview-step"]), int(headers["x-preview-total"])
    assert (step, total) == (stored.step, 32) and 1 <= step < 32
    with Image.open(io.BytesIO(served.content)) as image:
        # The frames side by side, each PREVIEW_SIDE pixels on its longer side.
        assert image.format == "JPEG"
        assert image.size == (stored.frames * PREVIEW_SIDE, PREVIEW_SIDE)


async def test_a_rendering_videos_preview_changes_as_it_renders_and_is_only_its_owners(
        api: Api, store: Store, config: Config, clock: FakeClock) -> None:
    alice, bob = api.client(await api.key(ALICE)), api.client(await api.key(BOB))
    video = await alice.videos.create(prompt="a red ball", size="64x64",
                                      extra_body={"frames": 9, "steps": 8})
    claimed = await store.leases.claim_next_job("gpu-box:1:cuda:0")
    assert claimed is not None
    previews = PreviewStore.of(store.context, config)
    await previews.save(claimed.id, claimed.attempt,
                        preview_image(2, 8, np.full((2, 20, 30, 3), 200, np.uint8)))
    first = await alice.videos.download_content(video.id, extra_query=PREVIEW)
    assert first.response.headers["x-preview-step"] == "2"
    await previews.save(claimed.id, claimed.attempt,
                        preview_image(5, 8, np.full((3, 20, 30, 3), 40, np.uint8)))
    second = await alice.videos.download_content(video.id, extra_query=PREVIEW)
    assert second.response.headers["x-preview-step"] == "5"
    with Image.open(io.BytesIO(second.content)) as image:
        assert image.size == (90, 20) and np.asarray(image).mean() < 60

    for client, video_id in ((bob, video.id), (alice, "video_999")):
        with pytest.raises(openai.NotFoundError) as hidden:
            await client.videos.download_content(video_id, extra_query=PREVIEW)
        assert message_of(hidden.value) == (f"there is no video {video_id!r}", "not_found")

    await store.leases.finish_failed(claimed.id, claimed.attempt, "stopped")
    # Kept for an hour after the video ends, then removed by retention, and told so.
    assert (await alice.videos.download_content(video.id, extra_query=PREVIEW)).content
    clock.advance(2 * 3600)
    await prune_clips(store, keep_days=7, drop_delivered_hours=0,
                      clips_dir=config.data_dir / "clips")
    with pytest.raises(openai.NotFoundError) as gone:
        await alice.videos.download_content(video.id, extra_query=PREVIEW)
    assert message_of(gone.value) == (
        f"video {video.id} has no preview: it is failed, and a preview is kept for an hour "
        "after its video ends", "preview_not_found")
