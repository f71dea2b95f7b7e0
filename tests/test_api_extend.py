"""Extending a video over the HTTP API (`POST /v1/videos/extensions`, the official SDK's
`client.videos.extend`): a real server on 127.0.0.1, the real core and job store (SQLite and
PostgreSQL), and the demo model in a real worker loop. The result is one longer clip that
opens with the original; a refusal queues and charges nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import openai
import pytest
from openai import AsyncOpenAI
from PIL import Image, ImageDraw

from bot.core import replies
from bot.web.models import job_id_of
from storage.inputs import job_image
from storage.retention import prune_clips
from storage.store import Store
from tests.api_helpers import BOB, Api, api_config
from tests.conftest import FakeClock
from tests.test_encode import decode, top_level_boxes
from tests.test_extend_jobs import frames_of
from videobot.config import Config

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return api_config(tmp_path, database_url, limits={"max_queued_per_user": 10})


async def extend(client: AsyncOpenAI, video_id: str, *, prompt: str = "",
                 seconds: str = "1", **options: Any) -> openai.types.Video:
    """`client.videos.extend` naming the video by id. The SDK (3.57) refuses its own
    `video={"id": ...}` before sending (it looks for a file there), so the reference goes in
    `extra_body`, which it writes as the same multipart field, `video[id]`."""
    return await client.videos.extend(prompt=prompt, seconds=seconds,  # type: ignore[arg-type]
                                      video=openai.omit,  # type: ignore[arg-type]
                                      extra_body={"video": {"id": video_id}}, **options)


async def a_clip(api: Api, client: AsyncOpenAI) -> openai.types.Video:
    """A completed 2-second demo clip, 16 frames of 64x64."""
    async with api.worker():
        video = await client.videos.create_and_poll(
            prompt="an orange box moving right", seconds="2", size="64x64",
            extra_body={"seed": 3}, poll_interval_ms=50)
    assert video.status == "completed", video.error
    return video


async def test_an_extension_is_one_longer_clip_that_opens_with_the_original(
        api: Api, tmp_path: Path) -> None:
    client = api.client(await api.key())
    source = await a_clip(api, client)
    charges = await api.charges()

    queued = await extend(client, source.id, seconds="1")
    extra = queued.model_extra or {}
    assert (queued.status, extra["extended_from_video_id"]) == ("queued", source.id)
    assert queued.remixed_from_video_id is None
    assert queued.prompt == source.prompt  # no prompt: the source's own, as /extend
    assert (extra["seed"], extra["frames"], queued.size) == (3, 9, "64x64")
    assert replies.api_extension_seconds(1, 8, 9) in extra["notes"]
    assert await api.charges() == charges + 1
    async with api.worker():
        done = await client.videos.poll(queued.id, poll_interval_ms=50)
    assert (done.status, done.progress, done.seconds) == ("completed", 100, "3")
    assert (done.model_extra or {})["extended_from_video_id"] == source.id

    mp4 = tmp_path / "extended.mp4"
    mp4.write_bytes((await client.videos.download_content(done.id)).content)
    decoded = decode(mp4)
    assert (decoded.codec, decoded.pix_fmt, decoded.width, decoded.height) == (
        "h264", "yuv420p", 64, 64)
    assert decoded.average_rate == 8
    boxes = top_level_boxes(mp4)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    original = frames_of((await client.videos.download_content(source.id)).content)
    extended = frames_of(mp4.read_bytes())
    # The original's 16 frames (up to the noise of encoding twice), then 8 new ones.
    assert (len(original), len(extended)) == (16, 24)
    assert np.abs(extended[:16].astype(int) - original.astype(int)).mean() < 3.0


async def post_json(api: Api, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{api.base_url}/videos/extensions", json=body,
            headers={"Authorization": f"Bearer {key}"}) as response:
        return response.status, await response.json()


def message(error: openai.APIStatusError) -> str:
    assert isinstance(error.body, dict)
    return str(error.body["message"])


async def test_refusals_name_the_problem_and_queue_and_charge_nothing(api: Api) -> None:
    key = await api.key()
    alice, bob = api.client(key), api.client(await api.key(BOB))
    source = await a_clip(api, alice)
    waiting = await alice.videos.create(prompt="a red ball", size="64x64")
    jobs, charges = await api.jobs(), await api.charges()

    with pytest.raises(openai.NotFoundError) as others:
        await extend(bob, source.id)
    assert message(others.value) == f"there is no video {source.id!r}"
    with pytest.raises(openai.BadRequestError) as too_long:
        await extend(alice, source.id, seconds="7")  # 2 s + 7 s > 8 s (4 clips of 2 s)
    assert message(too_long.value) == replies.extend_too_long(
        int(source.id.removeprefix("video_")), 2.0, 7.0, 8.0, "demo")
    with pytest.raises(openai.BadRequestError) as not_yet:
        await extend(alice, waiting.id)
    assert "has no clip to extend (it is queued)" in message(not_yet.value)
    with pytest.raises(openai.BadRequestError) as upload:
        await alice.videos.extend(prompt="", seconds="4",
                                  video=("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4"))
    assert (message(upload.value), upload.value.param) == (replies.API_EXTEND_UPLOAD, "video")
    status, body = await post_json(api, key, {"prompt": "more", "video": "video_1"})
    assert (status, body["error"]["message"]) == (400, replies.API_EXTEND_NO_VIDEO)
    status, body = await post_json(api, key, {"video": {"id": source.id}, "seed": 4})
    assert (status, body["error"]["param"]) == (400, "seed")
    assert (await api.jobs(), await api.charges()) == (jobs, charges)


async def test_a_json_body_and_an_admin_key_extend_too(api: Api) -> None:
    alice = api.client(await api.key())
    source = await a_clip(api, alice)
    status, body = await post_json(api, await api.key(), {
        "video": {"id": source.id}, "prompt": "an orange box moving left", "seconds": 2})
    assert status == 200, body
    assert (body["status"], body["extended_from_video_id"], body["prompt"], body["frames"]) == (
        "queued", source.id, "an orange box moving left", 17)
    admin_key = await api.key("shell:root", admin=True)
    status, body = await post_json(api, admin_key, {"video": {"id": source.id}, "user": BOB})
    assert status == 200, body
    job = await api.store.jobs.require(int(body["id"].removeprefix("video_")))
    # No seconds: the preset's own clip length, as /extend.
    assert (job.user.key, job.extends, job.request.frames) == (
        BOB, int(source.id.removeprefix("video_")), 16)


async def test_a_remix_of_an_extension_extends_its_source_again(api: Api) -> None:
    client = api.client(await api.key())
    source = await a_clip(api, client)
    extension = await extend(client, source.id, seconds="1")
    async with api.worker():
        await client.videos.poll(extension.id, poll_interval_ms=50)

    remix = await client.videos.remix(extension.id, prompt="an orange box moving left")
    extra = remix.model_extra or {}
    assert remix.remixed_from_video_id == extension.id
    assert extra["extended_from_video_id"] == source.id  # the source, not the extension
    assert (remix.prompt, extra["seed"], extra["frames"]) == (
        "an orange box moving left", 3, 9)


def shape_png() -> bytes:
    """A red square on a dark plain background: a picture the demo model reads."""
    image = Image.new("RGB", (64, 64), (10, 10, 40))
    ImageDraw.Draw(image).rectangle((14, 24, 29, 39), fill=(220, 30, 30))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def test_a_remix_keeps_the_picture_and_is_refused_once_retention_removed_it(
        api: Api, store: Store, clock: FakeClock) -> None:
    client = api.client(await api.key())
    video = await client.videos.create(prompt="a red square moving up", size="64x64",
                                       input_reference=("square.png", shape_png(), "image/png"))
    remix = await client.videos.remix(video.id, prompt="a red square moving down")
    original = await job_image(store.engine, job_id_of(video.id))
    remixed = await job_image(store.engine, job_id_of(remix.id))
    assert original is not None and remixed is not None
    assert remixed.png == original.png

    clock.advance(8 * 86400)
    await prune_clips(store.context, keep_days=7, drop_delivered_hours=0,
                      clips_dir=api.config.data_dir / "clips")
    jobs, charges = await api.jobs(), await api.charges()
    with pytest.raises(openai.BadRequestError) as gone:
        await client.videos.remix(video.id, prompt="a red square moving left")
    assert message(gone.value) == replies.picture_gone(job_id_of(video.id))
    assert (await api.jobs(), await api.charges()) == (jobs, charges)
