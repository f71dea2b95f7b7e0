"""The Animate button on Telegram, through the real python-telegram-bot client and the local
Bot API fake: a photo sent without a command gets one sentence and the button (in a private
chat; in a group only when the bot is addressed), and a press queues a `/video` of the photo,
which the callback carries as `message.reply_to_message` (so it works after a restart)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from bot.core import replies
from bot.core.animating import DEMO_ANIMATE_PROMPT
from bot.delivery import DeliveryLoop
from generator.backends.loader import ResidentBackend
from generator.worker import Worker
from storage.inputs import input_image
from storage.store import Store
from tests.backends import StripesBackend
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_files import push_document, push_photo
from tests.test_telegram import (
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    Bot,
    answer_to,
    decode,
    posted_videos,
    reply_call,
    started_bot,
    video_calls,
)
from tests.test_telegram_images import DEMO_64, encoded, stored_picture
from videobot.config import Config, config_from_dict
from videobot.users import UserRef

#: A preset whose model renders from text only (it takes no picture).
TEXT_ONLY = {"tiny": {"model": "builtin:tiny-text-to-video-sd"}}


@pytest.fixture(autouse=True)
def _local_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    """The demo preset by default; `param` changes the config's keys."""
    settings = {"data_dir": str(tmp_path / "data"), "default_preset": "demo",
                "limits": {"max_queued_per_user": 10}, "presets": DEMO_64}
    return config_from_dict(settings | getattr(request, "param", {}))


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(api: FakeTelegram, store: Store, config: Config) -> AsyncIterator[Bot]:
    adapter = await started_bot(api, store, config)
    stop = asyncio.Event()
    loop = DeliveryLoop(store=store, adapters={"telegram": adapter},
                        clips_dir=config.data_dir / "clips", poll_interval=0.05,
                        journal=adapter.journal)
    delivery = asyncio.create_task(loop.run(stop))
    yield Bot(api, store, config, adapter, StripesBackend())
    stop.set()
    await delivery
    await adapter.stop()


def shape_picture() -> bytes:
    """A red square on a dark plain background: a picture the demo model reads."""
    image = Image.new("RGB", (64, 64), (10, 10, 40))
    ImageDraw.Draw(image).rectangle((14, 24, 29, 39), fill=(220, 30, 30))
    return encoded(image)


async def offer_to(api: FakeTelegram, photo: dict[str, Any]) -> dict[str, Any]:
    """The bot's Animate offer under `photo`, as Telegram keeps it."""
    call = await reply_call(api, photo)
    [message] = [m for m in api.messages.values()
                 if m.get("reply_to_message", {}).get("message_id") == photo["message_id"]
                 and m["chat"]["id"] == photo["chat"]["id"] and m["text"] == call.params["text"]]
    return message


def press(api: FakeTelegram, offer: dict[str, Any], user_id: int) -> str:
    [[button]] = offer["reply_markup"]["inline_keyboard"]
    return api.push_callback(user_id=user_id, message=offer, data=button["callback_data"])


async def alert(api: FakeTelegram, query_id: str) -> dict[str, Any]:
    """The answer to a press that was refused: a private alert."""
    [answer] = await api.wait_for("answerCallbackQuery", callback_query_id=query_id)
    assert answer.params.get("show_alert") is True
    return answer.params


async def queued(bot: Bot, user: int) -> list[Any]:
    return await bot.store.jobs.jobs_of(UserRef("telegram", str(user)))


def red_centre_x(frame: np.ndarray) -> float:
    red = (frame[..., 0] > 150) & (frame[..., 1] < 90)
    return float(np.nonzero(red)[1].mean())


async def render_on_the_demo_model(bot: Bot) -> None:
    resident = ResidentBackend(device="cpu", models_dir=bot.config.data_dir / "models")
    worker = Worker(store=bot.store, config=bot.config, backends=resident, worker_id="demo",
                    clips_dir=bot.config.data_dir / "clips")
    await worker.run(burst=True)


async def test_a_private_photo_gets_animate_and_the_press_delivers_a_clip_of_it(bot: Bot) -> None:
    api = bot.api
    photo = push_photo(api, chat_id=ALICE, user_id=ALICE, picture=shape_picture())
    offer = await offer_to(api, photo)
    assert offer["text"] == replies.animate_offer(DEMO_ANIMATE_PROMPT, captioned=False)
    assert offer["reply_markup"]["inline_keyboard"] == [
        [{"text": "Animate", "callback_data": f"animate:{ALICE}"}]]
    assert api.calls_of("getFile") == []  # nothing is fetched before the press

    press(api, offer, ALICE)
    ack, job_id = await bot.ack_of(offer)
    job = await bot.job(job_id)
    assert job.request.prompt == DEMO_ANIMATE_PROMPT
    assert f"Prompt: {DEMO_ANIMATE_PROMPT}" in ack.params["text"]
    assert (await stored_picture(bot, job_id)).size == (64, 64)

    await render_on_the_demo_model(bot)
    await bot.delivered(job_id)
    [video] = video_calls(api)
    assert video.params["reply_parameters"]["message_id"] == offer["message_id"]
    assert len(posted_videos(api)) == 1
    _, width, height, frames = decode(video.files["video"])
    assert (width, height) == (64, 64) and frames == job.request.frames
    clip = _frames(video.files["video"])
    assert abs(red_centre_x(clip[0]) - 21.5) < 2  # the first frame is the picture
    assert red_centre_x(clip[-1]) > red_centre_x(clip[0]) + 10  # and it moves right


def _frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


async def test_a_private_caption_is_a_prompt_queued_at_once_with_the_photo(bot: Bot) -> None:
    """In a private chat any text is a prompt, a photo's caption too: no offer, a job."""
    photo = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=shape_picture(),
                       caption="it is shrinking --seed 4")
    _, job_id = await bot.ack_of(photo)
    job = await bot.job(job_id)
    assert (job.request.prompt, job.request.seed) == ("it is shrinking", 4)
    assert (await stored_picture(bot, job_id)).size == (64, 64)
    assert [c for c in bot.api.calls_of("sendMessage") if c.params.get("reply_markup")
            and "animate" in str(c.params["reply_markup"])] == []


async def test_the_caption_is_the_prompt_and_its_options_count(bot: Bot) -> None:
    photo = push_photo(bot.api, chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                       picture=shape_picture(), caption="@VideoTestBot it is growing --seed 5")
    offer = await offer_to(bot.api, photo)
    assert offer["text"] == replies.animate_offer("it is growing", captioned=True)
    press(bot.api, offer, ALICE)
    _, job_id = await bot.ack_of(offer)
    job = await bot.job(job_id)
    assert (job.request.prompt, job.request.seed) == ("it is growing", 5)


async def test_an_image_sent_as_a_file_gets_animate_too(bot: Bot) -> None:
    document = push_document(bot.api, chat_id=ALICE, user_id=ALICE, data=shape_picture(),
                             file_name="square.png", mime_type="image/png")
    offer = await offer_to(bot.api, document)
    press(bot.api, offer, ALICE)
    _, job_id = await bot.ack_of(offer)
    assert (await stored_picture(bot, job_id)).size == (64, 64)


async def test_in_a_group_only_a_photo_addressed_to_the_bot_gets_animate(bot: Bot) -> None:
    api = bot.api
    quiet = push_photo(api, chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                       picture=shape_picture(), caption="look at my square")
    # The group's updates are answered in order: once the next photo has its offer, the
    # first was handled, and silently.
    named = push_photo(api, chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                       picture=shape_picture(), caption="@VideoTestBot it is rising")
    offer = await offer_to(api, named)
    assert offer["text"] == replies.animate_offer("it is rising", captioned=True)
    answer = api.push_message(chat_id=GROUP, user_id=BOB, chat_type="supergroup",
                              text="/queue")
    await answer_to(api, answer)
    replying = push_photo(api, chat_id=GROUP, user_id=BOB, chat_type="supergroup",
                          picture=shape_picture(), reply_to=offer)
    await offer_to(api, replying)
    answered = {c.params["reply_parameters"]["message_id"] for c in api.calls_of("sendMessage")}
    assert quiet["message_id"] not in answered
    assert api.calls_of("getFile") == []


async def test_a_press_by_someone_else_is_refused_privately_and_queues_nothing(
        bot: Bot) -> None:
    photo = push_photo(bot.api, chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                       picture=shape_picture(), caption="@VideoTestBot")
    offer = await offer_to(bot.api, photo)
    answer = await alert(bot.api, press(bot.api, offer, BOB))
    assert answer["text"] == replies.NOT_YOUR_PICTURE
    assert await queued(bot, BOB) == [] and await queued(bot, ALICE) == []
    assert bot.api.calls_of("getFile") == []

    press(bot.api, offer, ADMIN)  # an admin may
    _, job_id = await bot.ack_of(offer)
    assert (await bot.job(job_id)).user.platform_user_id == str(ADMIN)


async def test_a_press_after_a_restart_animates_the_photo(
        api: FakeTelegram, store: Store, config: Config) -> None:
    adapter = await started_bot(api, store, config)
    photo = push_photo(api, chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                       picture=shape_picture(), caption="@VideoTestBot it is falling")
    offer = await offer_to(api, photo)
    await adapter.stop()

    adapter = await started_bot(api, store, config)  # nothing of the first one is left
    try:
        press(api, offer, ALICE)
        call = await reply_call(api, offer)
        job_id = int(call.params["text"].split("#")[1].split(" ")[0])
        job = await store.jobs.require(job_id)
        assert job.request.prompt == "it is falling"
        assert job.user.platform_user_id == str(ALICE)
        assert await input_image(store.engine, job_id) is not None
    finally:
        await adapter.stop()


async def test_a_press_once_the_photo_is_deleted_says_so(bot: Bot) -> None:
    photo = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=shape_picture())
    offer = await offer_to(bot.api, photo)
    bot.api.delete_message(ALICE, photo["message_id"])
    answer = await alert(bot.api, press(bot.api, offer, ALICE))
    assert answer["text"] == replies.PICTURE_GONE
    assert await queued(bot, ALICE) == []


async def test_a_press_on_a_photo_gone_from_the_file_server_says_so(bot: Bot) -> None:
    photo = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=shape_picture())
    offer = await offer_to(bot.api, photo)
    bot.api.user_files.gone.add(photo["photo"][-1]["file_id"])
    answer = await alert(bot.api, press(bot.api, offer, ALICE))
    assert answer["text"] == f"Sorry: {replies.image_not_downloaded('Telegram')}."
    assert await queued(bot, ALICE) == []


@pytest.mark.parametrize("config", [{"quotas": {"credits": 1}}], indirect=True)
async def test_a_press_once_the_credits_are_spent_says_so(bot: Bot) -> None:
    photo = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=shape_picture())
    offer = await offer_to(bot.api, photo)
    press(bot.api, offer, ALICE)
    await bot.ack_of(offer)
    answer = await alert(bot.api, press(bot.api, offer, ALICE))
    assert answer["text"].startswith("Sorry: this clip costs 1 credits and you have 0 left")
    assert len(await queued(bot, ALICE)) == 1


@pytest.mark.parametrize("config", [{"default_preset": "tiny",
                                     "presets": TEXT_ONLY | DEMO_64}], indirect=True)
async def test_a_text_only_default_preset_animates_on_one_that_takes_a_picture(
        bot: Bot) -> None:
    photo = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=shape_picture())
    offer = await offer_to(bot.api, photo)
    press(bot.api, offer, ALICE)
    _, job_id = await bot.ack_of(offer)
    job = await bot.job(job_id)
    assert (job.request.preset, job.request.prompt) == ("demo", DEMO_ANIMATE_PROMPT)


@pytest.mark.parametrize("config", [{"default_preset": "tiny", "presets": TEXT_ONLY}],
                         indirect=True)
async def test_no_animate_when_no_preset_takes_a_picture(bot: Bot) -> None:
    push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=shape_picture())
    answered = bot.api.push_message(chat_id=ALICE, user_id=ALICE, text="/queue")
    await answer_to(bot.api, answered)  # the chat's updates are answered in order
    assert [c.params["text"] for c in bot.api.calls_of("sendMessage")] == [replies.QUEUE_EMPTY]


async def test_a_photo_captioned_animate_is_queued_with_the_default_prompt(bot: Bot) -> None:
    """`/animate` as a group photo's caption: a job of the photo, and no Animate offer."""
    photo = push_photo(bot.api, chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                       picture=shape_picture(), caption="/animate")
    ack, job_id = await bot.ack_of(photo)
    job = await bot.job(job_id)
    assert (job.request.preset, job.request.prompt) == ("demo", DEMO_ANIMATE_PROMPT)
    assert (await stored_picture(bot, job_id)).size == (64, 64)
    answers = [c for c in bot.api.calls_of("sendMessage")
               if c.params["reply_parameters"]["message_id"] == photo["message_id"]]
    assert answers == [ack]


async def test_animate_replying_to_a_photo_queues_that_photo(bot: Bot) -> None:
    api = bot.api
    photo = push_photo(api, chat_id=ALICE, user_id=ALICE, picture=shape_picture())
    await offer_to(api, photo)
    command = api.push_message(chat_id=ALICE, user_id=ALICE, text="/animate it is falling",
                               reply_to=photo)
    _, job_id = await bot.ack_of(command)
    job = await bot.job(job_id)
    assert job.request.prompt == "it is falling"
    assert (await stored_picture(bot, job_id)).size == (64, 64)


@pytest.mark.parametrize("config", [{"default_preset": "tiny",
                                     "presets": TEXT_ONLY | DEMO_64}], indirect=True)
async def test_animate_without_a_photo_names_the_presets_that_animate_one(bot: Bot) -> None:
    command = bot.api.push_message(chat_id=GROUP, user_id=ALICE, chat_type="supergroup",
                                   text="/animate it is rising")
    assert await answer_to(bot.api, command) == (
        "Sorry: /animate needs a picture (PNG, JPEG or WebP) to animate: send a photo with "
        "/animate as its caption, or reply /animate to one; presets that animate a picture: "
        "demo.")
    assert await queued(bot, ALICE) == []
