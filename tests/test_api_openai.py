"""The OpenAI-compatible API through the official `openai` client, unmodified: a real server
on 127.0.0.1, the real core and job store (SQLite and PostgreSQL), and the demo model in a
real worker loop."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from PIL import Image

from bot.core.commands import Core
from generator.backends.demo.checker import judge
from tests.api_helpers import ALICE, BOB, Api, api_config, user
from tests.backends import StripesBackend, stand_in_worker
from tests.test_encode import decode, top_level_boxes
from videobot.config import Config
from videobot.media.frames import read_frames

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return api_config(tmp_path, database_url, limits={"max_queued_per_user": 10})


async def test_create_and_poll_renders_the_prompt_and_downloads_a_checked_mp4(
        api: Api, tmp_path: Path) -> None:
    client = api.client(await api.key())
    async with api.worker():
        video = await client.videos.create_and_poll(
            prompt="a red ball moving to the left", seconds="2", size="128x128",
            extra_body={"seed": 7}, poll_interval_ms=50)
    assert (video.status, video.progress, video.model) == ("completed", 100, "demo")
    assert (video.seconds, video.size, video.error) == ("2", "128x128", None)
    assert video.created_at <= (video.completed_at or 0)
    assert (video.expires_at or 0) - (video.completed_at or 0) == 7 * 86400  # keep_clips_days
    extra = video.model_extra or {}
    assert (extra["seed"], extra["frames"], extra["fps"]) == (7, 16, 8)
    assert "2 seconds at 8 fps: 16 frames" in extra["notes"]

    mp4 = tmp_path / "clip.mp4"
    mp4.write_bytes((await client.videos.download_content(video.id)).content)
    decoded = decode(mp4)
    assert (decoded.codec, decoded.pix_fmt, decoded.width, decoded.height) == (
        "h264", "yuv420p", 128, 128)
    assert len(decoded.frames) == 16 and decoded.average_rate == 8
    boxes = top_level_boxes(mp4)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    verdict = judge(read_frames(mp4))
    assert (verdict.colour, verdict.motion) == ("red", "left")

    poster = (await client.videos.download_content(video.id, variant="thumbnail")).content
    with Image.open(io.BytesIO(poster)) as image:
        assert (image.format, image.size) == ("JPEG", (128, 128))


async def test_list_pages_remix_and_delete(api: Api) -> None:
    client = api.client(await api.key())
    created = [await client.videos.create(prompt=f"a blue square moving up {n}",
                                          extra_body={"seed": n}) for n in range(3)]
    first = await client.videos.list(limit=2)
    assert [v.id for v in first.data] == [created[2].id, created[1].id]
    assert first.has_more
    assert [v.id async for v in await client.videos.list(limit=2)] == [
        v.id for v in reversed(created)]
    ascending = await client.videos.list(order="asc", limit=10)
    assert [v.id for v in ascending.data] == [v.id for v in created]

    remix = await client.videos.remix(created[0].id, prompt="a green triangle moving down")
    assert remix.remixed_from_video_id == created[0].id
    assert remix.prompt == "a green triangle moving down"
    assert (remix.model_extra or {})["seed"] == 0 and remix.size == created[0].size

    charges_before = await api.charges()
    deleted = await client.videos.delete(created[1].id)
    assert (deleted.id, deleted.object, deleted.deleted) == (created[1].id, "video.deleted",
                                                             True)
    with pytest.raises(openai.NotFoundError):
        await client.videos.retrieve(created[1].id)
    assert created[1].id not in [v.id async for v in await client.videos.list()]
    job = await api.store.jobs.require(int(created[1].id.removeprefix("video_")))
    assert (job.status, job.deleted_at is not None) == ("cancelled", True)
    assert await api.charges() == charges_before  # refunded, not removed
    assert (await api.store.submissions.quota(job.user)).used == pytest.approx(3.0)


async def test_a_key_is_its_chat_identity_and_an_admin_key_may_act_for_anyone(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    alice_key = await api.key(ALICE)
    alice = api.client(alice_key)
    bob = api.client(await api.key(BOB))
    admin = api.client(await api.key("shell:root", admin=True))
    mine = await alice.videos.create(prompt="a red ball")
    job = await api.store.jobs.require(int(mine.id.removeprefix("video_")))
    assert job.user.key == ALICE
    chat = Core(store=api.store, config=api.config)
    assert f"#{job.id} queued" in (await chat.handle(user(ALICE), "/history")).text
    assert "19 credits left" in (await chat.handle(user(ALICE), "/quota")).text

    with pytest.raises(openai.NotFoundError) as other:
        await bob.videos.retrieve(mine.id)
    assert other.value.body == {"message": f"there is no video {mine.id!r}",
                                "type": "invalid_request_error", "param": None,
                                "code": "not_found"}
    with pytest.raises(openai.PermissionDeniedError):
        await bob.videos.create(prompt="a red ball", extra_body={"user": ALICE})

    for_bob = await admin.videos.create(prompt="a red ball", extra_body={"user": BOB})
    assert (await api.store.jobs.require(int(for_bob.id.removeprefix("video_")))).user.key == BOB
    assert (await admin.videos.retrieve(mine.id)).id == mine.id
    assert {v.id async for v in await admin.videos.list()} == {mine.id, for_bob.id}
    assert [v.id async for v in await bob.videos.list()] == [for_bob.id]
    assert alice_key not in caplog.text and alice_key[3:] not in caplog.text


async def test_models_lists_the_presets_with_their_sizes(api: Api) -> None:
    models = await api.client(await api.key()).models.list()
    assert [m.id for m in models.data] == ["demo", "tiny"]
    demo = models.data[0].model_extra or {}
    assert (demo["default"], demo["size"], demo["max_frames"]) == (True, "256x256", 64)


async def read_events(api: Api, key: str, video_id: str) -> list[tuple[str, dict[str, Any]]]:
    """The server-sent events of a video, until its stream ends."""
    events = []
    async with aiohttp.ClientSession() as session, session.get(
            f"{api.base_url}/videos/{video_id}/events",
            headers={"Authorization": f"Bearer {key}"}) as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"
        name = ""
        async for raw in stream.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
    return events


async def test_events_stream_status_and_progress_until_the_video_ends(api: Api) -> None:
    key = await api.key()
    video = await api.client(key).videos.create(prompt="a red ball", extra_body={"steps": 5})
    listening = asyncio.create_task(read_events(api, key, video.id))
    await asyncio.sleep(0.3)  # the stream has sent the waiting state
    await stand_in_worker(api.store, api.config, StripesBackend(step_seconds=0.15)).run(
        burst=True)
    events = await asyncio.wait_for(listening, 20)
    names = [name for name, _ in events]
    assert names[0] == "video.queued" and names[-1] == "video.completed"
    assert "video.in_progress" in names
    assert events[0][1]["queue_position"] == 1
    progress = [data["progress"] for _, data in events]
    assert progress == sorted(progress) and 0 < progress[-2] < 100 == progress[-1]
    assert all(data["id"] == video.id for _, data in events)
