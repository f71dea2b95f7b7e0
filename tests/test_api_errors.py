"""Bad input and refusals over the HTTP API: each gets its status, OpenAI's error body with a
message that names the problem (the chat's sentence where a chat has one), the official
client's matching exception, and nothing is queued or charged."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from PIL import Image

from storage.admin import AdminStore
from storage.store import Store
from tests.api_helpers import ALICE, BOB, Api, api_config, user
from videobot.config import Config

pytestmark = pytest.mark.timeout(120)
Call = Callable[[Api, openai.AsyncOpenAI], Awaitable[Any]]


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return api_config(tmp_path, database_url, limits={"max_queued_per_user": 2,
                                                      "max_image_mb": 1},
                      moderation={"words": ["dragon"]})


async def post_raw(api: Api, key: str, body: bytes, content_type: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{api.base_url}/videos", data=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": content_type}) as answer:
        return answer.status, await answer.json()


async def get_raw(api: Api, key: str, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(
            f"{api.base_url}{path}", headers={"Authorization": f"Bearer {key}"}) as answer:
        return answer.status, await answer.json()


def message_of(error: openai.APIStatusError) -> str:
    """The error body's message, as our server wrote it (the SDK prefixes its own words)."""
    assert isinstance(error.body, dict)
    return str(error.body["message"])


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def create(**fields: Any) -> Call:
    async def call(_api: Api, client: openai.AsyncOpenAI) -> Any:
        return await client.videos.create(**{"prompt": "a red ball", **fields})
    return call


async def other_users_video(api: Api, client: openai.AsyncOpenAI) -> Any:
    bobs = await api.client(await api.key(BOB)).videos.create(prompt="a red ball")
    return await client.videos.retrieve(bobs.id)


SDK_CASES: list[tuple[str, Call, type[openai.APIStatusError], int, str]] = [
    ("long prompt", create(prompt="x" * 10_000), openai.BadRequestError, 400,
     "the prompt is 10000 characters long; the limit is 500"),
    ("size 0x0", create(size="0x0"), openai.BadRequestError, 400,
     "width must be between 16 and 16384, not 0"),
    ("size 99999x7", create(size="99999x7"), openai.BadRequestError, 400,
     "width must be between 16 and 16384, not 99999"),
    ("size words", create(size="large"), openai.BadRequestError, 400,
     "size must be WIDTHxHEIGHT in pixels, e.g. 256x256, not 'large'"),
    ("seconds -1", create(seconds="-1"), openai.BadRequestError, 400,
     "seconds must be a positive number of seconds, e.g. 4, not '-1'"),
    ("seconds abc", create(seconds="abc"), openai.BadRequestError, 400,
     "seconds must be a positive number of seconds, e.g. 4, not 'abc'"),
    ("too many seconds", create(seconds="12"), openai.BadRequestError, 400,
     "frames must be between 1 and 64, not 96"),
    ("endless seconds", create(seconds="1e308"), openai.BadRequestError, 400,
     "frames must be between 1 and 64, not 1000000000"),
    ("unknown model", create(model="sora-2"), openai.BadRequestError, 400,
     "there is no preset 'sora-2'; choose one of: demo, tiny"),
    ("blocked prompt", create(prompt="a D.r.a.g.o.n"), openai.BadRequestError, 400,
     "that prompt is not allowed here; the admins have been told"),
    ("seed words", create(extra_body={"seed": "lucky"}), openai.BadRequestError, 400,
     "seed must be a whole number, not 'lucky'"),
    ("unknown field", create(extra_body={"quality": "hd"}), openai.BadRequestError, 400,
     "unknown field 'quality'"),
    ("not an image", create(input_reference=("x.png", b"not a picture", "image/png")),
     openai.BadRequestError, 400, "the image is not a PNG, JPEG or WebP file"),
    ("image over max_image_mb", create(input_reference=("x.png", b"\0" * 1_500_000,
                                                        "image/png")),
     openai.APIStatusError, 413, "the image is 1.5 MB; the limit is 1 MB"),
    ("200 MB upload", create(input_reference=("x.png", b"\0" * 200_000_000, "image/png")),
     openai.APIStatusError, 413, "the request is larger than the 25 MB this server accepts"),
    ("path characters", lambda _a, c: c.videos.retrieve("../../etc/passwd"),
     openai.NotFoundError, 404, "there is no video '../../etc/passwd'"),
    ("path characters 2", lambda _a, c: c.videos.retrieve("video_1/../video_2"),
     openai.NotFoundError, 404, "there is no video 'video_1/../video_2'"),
    ("unknown id", lambda _a, c: c.videos.retrieve("video_999"), openai.NotFoundError, 404,
     "there is no video 'video_999'"),
    ("another user's video", other_users_video, openai.NotFoundError, 404,
     "there is no video 'video_1'"),
]


@pytest.mark.parametrize(("call", "error", "status", "message"),
                         [case[1:] for case in SDK_CASES], ids=[case[0] for case in SDK_CASES])
async def test_bad_input_through_the_sdk_is_refused_by_name(
        api: Api, call: Call, error: type[openai.APIStatusError], status: int,
        message: str) -> None:
    client = api.client(await api.key())
    with pytest.raises(error) as raised:
        await call(api, client)
    assert raised.value.status_code == status
    body = raised.value.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}
    assert message in body["message"]
    assert await api.jobs() == (1 if call is other_users_video else 0)
    assert await api.charges() == (1 if call is other_users_video else 0)


@pytest.mark.parametrize(("body", "content_type", "status", "message"), [
    (b'{"prompt": "a red', "application/json", 400, "the body is not valid JSON"),
    (b'["a red ball"]', "application/json", 400, "it must be an object of fields"),
    (b"[" * 100_000, "application/json", 400, "the body is not valid JSON"),
    (b'{"prompt": "a red\\u0000 ball"}', "application/json", 400,
     "prompt must be text (without NUL characters)"),
    (b"a red ball", "text/plain", 415,
     "send the body as application/json or multipart/form-data, not text/plain"),
    (b"prompt=a+red+ball&input_reference=x.png", "application/x-www-form-urlencoded", 400,
     "input_reference must be an image file sent as multipart/form-data, not 'x.png'"),
    (b'{"prompt": "a red ball", "input_reference": {"image_url": "https://x"}}',
     "application/json", 400, "input_reference must be an image file sent as multipart"),
])
async def test_malformed_bodies_are_refused_by_name(api: Api, body: bytes, content_type: str,
                                                    status: int, message: str) -> None:
    answer_status, answer = await post_raw(api, await api.key(), body, content_type)
    assert answer_status == status
    assert message in answer["error"]["message"]
    assert (await api.jobs(), await api.charges()) == (0, 0)


async def test_keys_missing_unknown_or_revoked_get_401(api: Api) -> None:
    record, key = await api.keys.create("shell:test", user(ALICE))
    await api.keys.revoke("shell:test", record.id)
    for client in (api.client(key), api.client("vb-made-up")):
        with pytest.raises(openai.AuthenticationError) as raised:
            await client.videos.create(prompt="a red ball")
        assert message_of(raised.value) == "the API key is unknown or has been revoked"
    status, answer = await get_raw(api, "", "/videos")
    assert (status, answer["error"]["code"]) == (401, "missing_api_key")
    assert answer["error"]["message"] == (
        "no API key: send one as the header Authorization: Bearer <key> (/apikey)")
    assert (await api.jobs(), await api.charges()) == (0, 0)


async def test_unknown_routes_answer_in_openai_shape(api: Api) -> None:
    status, answer = await get_raw(api, await api.key(), "/videos/video_1/frames")
    assert status == 404
    assert answer["error"]["message"] == (
        "there is no GET /v1/videos/video_1/frames in this API; see /v1/videos and /v1/models")


async def test_limits_quota_and_bans_get_their_status_and_the_chats_sentence(
        api: Api, store: Store) -> None:
    client = api.client(await api.key())
    await client.videos.create(prompt="a red ball")
    await client.videos.create(prompt="a red ball")
    with pytest.raises(openai.RateLimitError) as queued:
        await client.videos.create(prompt="a red ball")
    assert message_of(queued.value) == (
        "you already have 2 jobs waiting or rendering (limit: 2 per user); wait for one to "
        "finish or /cancel one")
    assert queued.value.response.headers["x-should-retry"] == "false"

    bob = api.client(await api.key(BOB))
    await AdminStore(store.context).set_quota("shell:test", user(BOB), 0.5, None)
    with pytest.raises(openai.RateLimitError) as broke:
        await bob.videos.create(prompt="a red ball")
    assert broke.value.code == "insufficient_quota"
    assert "this clip costs 1 credits and you have 0.5 left of 0.5 per 24 h" in (
        message_of(broke.value))

    await AdminStore(store.context).ban("shell:test", user(BOB), "spam")
    with pytest.raises(openai.PermissionDeniedError) as banned:
        await bob.videos.create(prompt="a red ball")
    assert message_of(banned.value) == "an admin has banned you from this bot (spam)"
    assert (await api.jobs(), await api.charges()) == (2, 2)


async def test_an_image_is_fitted_to_the_clip_and_stored_with_the_job(api: Api) -> None:
    client = api.client(await api.key())
    video = await client.videos.create(prompt="a red ball", size="128x64",
                                       input_reference=("photo.png", png(300, 100),
                                                        "image/png"))
    notes = (video.model_extra or {})["notes"]
    assert ("the image (300x100) was centre-cropped to the clip's shape and resized to "
            "128x64") in notes
    from storage.inputs import input_image

    stored = await input_image(api.store.engine, int(video.id.removeprefix("video_")))
    assert stored is not None
    with Image.open(io.BytesIO(stored)) as image:
        assert (image.format, image.size, image.mode) == ("PNG", (128, 64), "RGB")


async def test_content_of_a_video_without_a_clip_is_a_conflict(api: Api) -> None:
    client = api.client(await api.key())
    video = await client.videos.create(prompt="a red ball")
    with pytest.raises(openai.ConflictError) as waiting:
        await client.videos.download_content(video.id)
    assert message_of(waiting.value) == f"video {video.id} has no content: it is queued"
    with pytest.raises(openai.BadRequestError) as variant:
        await client.videos.download_content(video.id, variant="spritesheet")
    assert message_of(variant.value) == (
        "variant must be video, thumbnail or preview, not 'spritesheet'")
