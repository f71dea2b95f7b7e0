"""Previews in the Telegram status message: the real python-telegram-bot client against the
local Bot API fake, the real core, delivery loop, job store and worker (rendering with a
stand-in model that makes a preview after every step, stored as a real worker stores them)."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest

from bot.adapters.telegram import TelegramAdapter
from bot.core import replies
from bot.core.commands import Core
from bot.delivery import DeliveryLoop
from storage.models import JobStatus
from storage.records import JobRecord
from storage.store import Store
from tests.backends import PreviewingStripes, stand_in_worker
from tests.fakes.telegram_api import Call, FakeTelegram
from tests.test_telegram import ALICE, telegram_config
from videobot.config import Config, config_from_dict

pytestmark = pytest.mark.timeout(60)
#: The fewest seconds between two pictures of a status message, in these tests.
PICTURE_EVERY_S = 0.4


@pytest.fixture(autouse=True)
def _local_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # A diffusers preset (the stand-in renders it) with a preview after every step.
    return config_from_dict({
        "data_dir": str(tmp_path / "data"), "default_preset": "wan",
        "presets": {"wan": {"model": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "family": "wan",
                            "frames": 8, "width": 64, "height": 64, "steps": 30,
                            "max_steps": 100, "preview_every_steps": 1}},
    })


@dataclass
class Chat:
    """A started adapter with its delivery loop, and the stand-in model to render with."""

    api: FakeTelegram
    store: Store
    config: Config
    backend: PreviewingStripes

    async def render(self) -> None:
        await stand_in_worker(self.store, self.config, self.backend).run(burst=True)

    async def video(self, text: str = "/video a kite") -> int:
        """A user's /video; its job id once the acknowledgement is its status message."""
        message = self.api.push_message(chat_id=ALICE, user_id=ALICE, text=text)
        for _ in range(500):
            jobs = await self.store.jobs.active_jobs()
            if jobs and jobs[-1].reply_target.get("status_message_id"):
                assert jobs[-1].reply_target["message_id"] == message["message_id"]
                return jobs[-1].id
            await asyncio.sleep(0.02)
        raise AssertionError("no acknowledgement")

    async def delivered(self, job_id: int) -> JobRecord:
        for _ in range(1000):
            job = await self.store.jobs.require(job_id)
            if job.delivered_at is not None:
                return job
            await asyncio.sleep(0.02)
        raise AssertionError(f"job {job_id} was not delivered")


@asynccontextmanager
async def started_chat(api: FakeTelegram, store: Store,
                       config: Config) -> AsyncIterator[Chat]:
    adapter = TelegramAdapter(core=Core(store=store, config=config), store=store,
                              config=telegram_config(api, progress_interval_seconds=0.1),
                              work_dir=config.data_dir / "uploads",
                              preview_every_s=PICTURE_EVERY_S)
    await adapter.start()
    stop = asyncio.Event()
    loop = DeliveryLoop(store=store, adapters={"telegram": adapter},
                        clips_dir=config.data_dir / "clips", poll_interval=0.05,
                        journal=adapter.journal, presets=config.presets)
    delivery = asyncio.create_task(loop.run(stop))
    try:
        yield Chat(api, store, config, PreviewingStripes(step_seconds=0.1))
    finally:
        stop.set()
        await delivery
        await adapter.stop()


@pytest.fixture
async def chat(store: Store, config: Config) -> AsyncIterator[Chat]:
    """Against the Bot API as it is (a text message can take a photo)."""
    async with FakeTelegram() as api:
        async with started_chat(api, store, config) as started:
            yield started


@pytest.fixture
async def old_api_chat(store: Store, config: Config) -> AsyncIterator[Chat]:
    """Against an older Bot API server, which cannot add a photo to a text message."""
    async with FakeTelegram(adds_media_to_text=False) as api:
        async with started_chat(api, store, config) as started:
            yield started


def picture_of(call: Call) -> Image.Image:
    """The JPEG an `editMessageMedia` call uploaded as its `attach://` part."""
    media = call.params["media"]
    assert media["type"] == "photo" and media["media"].startswith("attach://")
    image = Image.open(io.BytesIO(call.files[media["media"].removeprefix("attach://")]))
    assert image.format == "JPEG"
    return image


def cancel_button(call: Call, job_id: int) -> dict[str, Any]:
    [[button]] = call.params["reply_markup"]["inline_keyboard"]
    return dict(button)


async def test_the_status_message_becomes_a_photo_of_the_latest_preview(chat: Chat) -> None:
    api = chat.api
    # Flood control on the first picture: it is waited out, and the picture comes later.
    api.fail_next("editMessageMedia", times=1, retry_after=1)
    job_id = await chat.video()
    status_id = (await chat.store.jobs.require(job_id)).reply_target["status_message_id"]
    await chat.render()
    job = await chat.delivered(job_id)

    media = api.calls_of("editMessageMedia")
    assert len(media) >= 3, [c.method for c in api.calls]
    refused, first = media[0], media[1]
    assert first.at - refused.at >= 1.0 - 0.05  # retry_after obeyed
    for call in media:
        assert call.params["message_id"] == status_id  # the same message, edited in place
        assert call.params["media"]["caption"].startswith(f"Job #{job_id}: rendering")
        assert cancel_button(call, job_id) == {"text": "Cancel",
                                               "callback_data": f"cancel:{job_id}"}
        assert picture_of(call).size[1] > 0
    gaps = [b.at - a.at for a, b in itertools.pairwise(media[1:])]
    assert all(gap >= PICTURE_EVERY_S - 0.02 for gap in gaps), gaps
    # The pictures follow the render: later previews are brighter.
    shades = [float(np.asarray(picture_of(call).convert("L")).mean()) for call in media[1:]]
    assert shades == sorted(shades) and shades[0] < shades[-1]
    # Between pictures the caption follows the progress, with the Cancel button.
    captions = api.calls_of("editMessageCaption")
    assert captions and all(c.params["message_id"] == status_id for c in captions)
    assert all(cancel_button(c, job_id)["callback_data"] == f"cancel:{job_id}"
               for c in captions)
    assert api.calls_of("sendPhoto") == []
    # Delivered as before: the clip posted, the status message (a photo now) removed.
    assert job.status == JobStatus.SUCCEEDED
    assert len(api.calls_of("sendVideo")) == 1
    assert (ALICE, status_id) not in api.messages


async def test_an_older_bot_api_gets_the_status_posted_again_as_a_photo(
        old_api_chat: Chat) -> None:
    chat = old_api_chat
    api = chat.api
    chat.backend.step_seconds = 0.1
    job_id = await chat.video("/video a kite --steps 100")
    text_id = (await chat.store.jobs.require(job_id)).reply_target["status_message_id"]
    rendering = asyncio.create_task(chat.render())
    try:
        [photo] = await api.wait_for("sendPhoto")
        await api.wait_for("editMessageMedia", count=2)
        # The refusal, worded as Telegram words it, made the status a new photo message.
        refusal = api.calls_of("editMessageMedia")[0]
        assert refusal.params["message_id"] == text_id
        assert photo.params["caption"].startswith(f"Job #{job_id}: rendering")
        assert photo.params["reply_parameters"]["message_id"] == (
            await chat.store.jobs.require(job_id)).reply_target["message_id"]
        assert cancel_button(photo, job_id)["callback_data"] == f"cancel:{job_id}"
        with Image.open(io.BytesIO(photo.files["photo"])) as image:
            assert image.format == "JPEG"
        photo_id = (await chat.store.jobs.require(job_id)).reply_target["status_message_id"]
        assert photo_id != text_id and "photo" in api.messages[(ALICE, photo_id)]
        assert (ALICE, text_id) not in api.messages  # the text status is removed
        # Later pictures replace the photo's in place.
        assert api.calls_of("editMessageMedia")[-1].params["message_id"] == photo_id
        status = api.messages[(ALICE, photo_id)]
        api.push_callback(user_id=ALICE, message=status, data=f"cancel:{job_id}")
        job = await chat.delivered(job_id)
    finally:
        await rendering
    # The final word is the photo's caption: the last preview stays, the button goes.
    assert job.status == JobStatus.CANCELLED
    status = api.messages[(ALICE, photo_id)]
    assert status["caption"] == replies.finished(job) and "photo" in status
    assert "reply_markup" not in status
    assert job.reply_target["status_message_id"] == photo_id


async def test_a_deleted_photo_status_is_posted_again_with_its_picture(chat: Chat) -> None:
    api = chat.api
    job_id = await chat.video("/video a kite --steps 100")
    rendering = asyncio.create_task(chat.render())
    try:
        await api.wait_for("editMessageMedia")
        status_id = (await chat.store.jobs.require(job_id)).reply_target["status_message_id"]
        api.delete_message(ALICE, status_id)
        [photo] = await api.wait_for("sendPhoto")
        assert photo.params["caption"].startswith(f"Job #{job_id}: rendering")
        assert cancel_button(photo, job_id)["callback_data"] == f"cancel:{job_id}"
        await chat.store.cancels.request(job_id, None)
        job = await chat.delivered(job_id)
    finally:
        await rendering
    assert job.reply_target["status_message_id"] != status_id
    assert api.messages[(ALICE, job.reply_target["status_message_id"])]["caption"] == (
        replies.finished(job))


async def test_a_restarted_bot_finds_its_status_is_a_photo_and_ends_its_caption(
        store: Store, config: Config) -> None:
    async with FakeTelegram() as api:
        async with started_chat(api, store, config) as chat:
            job_id = await chat.video("/video a kite --steps 100")
            rendering = asyncio.create_task(chat.render())
            await api.wait_for("editMessageMedia")
        # Cancelled while the bot is down; a new bot process does not know that the status
        # message is a photo.
        await store.cancels.request(job_id, None)
        await rendering
        before = len(api.calls)
        async with started_chat(api, store, config) as chat:
            job = await chat.delivered(job_id)
    status_id = job.reply_target["status_message_id"]
    edits = [c for c in api.calls[before:] if c.method.startswith("editMessage")]
    assert [c.method for c in edits] == ["editMessageText", "editMessageCaption"]
    status = api.messages[(ALICE, status_id)]
    assert "photo" in status and status["caption"] == replies.finished(job)
    assert "reply_markup" not in status


async def test_the_fake_refuses_media_edits_as_the_bot_api_words_them() -> None:
    async with FakeTelegram(adds_media_to_text=False) as api:
        bot = Bot(api.token, base_url=api.base_url)
        async with bot:
            text = await bot.send_message(ALICE, "a text message")
            picture = io.BytesIO()
            Image.new("RGB", (32, 16), "red").save(picture, format="JPEG")
            with pytest.raises(BadRequest, match="There is no media in the message to edit"):
                await bot.edit_message_media(InputMediaPhoto(picture.getvalue()), ALICE,
                                             text.message_id)
            with pytest.raises(BadRequest, match="There is no caption in the message to edit"):
                await bot.edit_message_caption(ALICE, text.message_id, caption="a caption")
            photo = await bot.send_photo(ALICE, picture.getvalue(), caption="one")
            assert (photo.photo[-1].width, photo.photo[-1].height) == (32, 16)
            with pytest.raises(BadRequest, match="There is no text in the message to edit"):
                await bot.edit_message_text("two", ALICE, photo.message_id)
            with pytest.raises(BadRequest, match="Message is not modified"):
                await bot.edit_message_caption(ALICE, photo.message_id, caption="one")
            edited = await bot.edit_message_media(
                InputMediaPhoto(picture.getvalue(), caption="two"), ALICE, photo.message_id)
            assert not isinstance(edited, bool) and edited.caption == "two"
            with pytest.raises(BadRequest, match="Message to edit not found"):
                await bot.edit_message_caption(ALICE, 99999, caption="three")
