"""A picture with `/video` on Telegram, through the real python-telegram-bot client and the
local Bot API fake: a photo with the command as its caption, an image sent as a file, or the
command as a reply to a photo; fetched with getFile and the file download, checked, stored
with the job. Bad pictures are refused by name and queue nothing."""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.core import replies
from storage.inputs import input_image
from storage.store import Store
from tests.backends import StripesBackend
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_files import push_document, push_photo
from tests.test_images import png_header
from tests.test_telegram import ALICE, SMALL, Bot, answer_to, started_bot
from videobot.config import Config, config_from_dict
from videobot.users import UserRef

USER = UserRef("telegram", str(ALICE))


@pytest.fixture(autouse=True)
def _local_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


#: The demo model (it animates a picture) at the tiny preset's size.
DEMO_64 = {"demo": {"backend": "demo", "model": "builtin:demo", "family": "demo", "width": 64,
                   "height": 64}}


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    limits = {"max_queued_per_user": 10, **getattr(request, "param", {})}
    return config_from_dict({"data_dir": str(tmp_path / "data"), "default_preset": "demo",
                             "limits": limits, "presets": DEMO_64})


@pytest.fixture
async def bot(store: Store, config: Config) -> AsyncIterator[Bot]:
    async with FakeTelegram() as api:
        adapter = await started_bot(api, store, config)
        yield Bot(api, store, config, adapter, StripesBackend())
        await adapter.stop()


def encoded(image: Image.Image, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def red_square(size: tuple[int, int] = (120, 80)) -> bytes:
    return encoded(Image.new("RGB", size, (230, 20, 20)))


def noise(size: tuple[int, int]) -> bytes:
    """A picture JPEG cannot shrink much: its sizes differ in bytes as in pixels."""
    pixels = random.Random(7).randbytes(size[0] * size[1] * 3)
    return encoded(Image.frombytes("RGB", size, pixels))


async def stored_picture(bot: Bot, job_id: int) -> Image.Image:
    data = await input_image(bot.store.engine, job_id)
    assert data is not None, "the job has no picture"
    return Image.open(io.BytesIO(data))


async def test_a_photo_with_video_as_its_caption_is_stored_with_the_job(bot: Bot) -> None:
    message = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=red_square(),
                         caption=f"/video a red square moves right {SMALL}")
    ack, job_id = await bot.ack_of(message)
    largest = message["photo"][-1]
    assert (largest["width"], largest["height"]) == (120, 80)
    assert bot.api.user_files.downloads == [largest["file_id"]]
    job = await bot.job(job_id)
    assert job.request.prompt == "a red square moves right"
    assert "the image (120x80) was centre-cropped to the clip's shape and resized to 64x64" \
        in ack.params["text"]
    picture = await stored_picture(bot, job_id)
    assert picture.size == (64, 64)
    red, green, _ = picture.getpixel((32, 32))  # type: ignore[misc]
    assert red > 200 and green < 60


async def test_video_in_reply_to_a_photo_animates_that_photo(bot: Bot) -> None:
    photo = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=red_square((64, 64)))
    message = bot.api.push_message(chat_id=ALICE, user_id=ALICE, reply_to=photo,
                                   text=f"/video it spins {SMALL}")
    ack, job_id = await bot.ack_of(message)
    assert "centre-cropped" not in ack.params["text"]  # already the clip's size
    assert (await stored_picture(bot, job_id)).size == (64, 64)
    assert bot.api.user_files.downloads == [photo["photo"][-1]["file_id"]]


async def test_an_image_sent_as_a_file_is_taken_by_its_content(bot: Bot) -> None:
    jpeg = encoded(Image.new("RGB", (64, 64), (20, 20, 230)), "JPEG")
    message = push_document(bot.api, chat_id=ALICE, user_id=ALICE, data=jpeg,
                            file_name="blue.bin", mime_type="application/octet-stream",
                            caption=f"/video a blue sky {SMALL}")
    _, job_id = await bot.ack_of(message)
    _, _, blue = (await stored_picture(bot, job_id)).getpixel((5, 5))  # type: ignore[misc]
    assert blue > 200


@pytest.mark.parametrize("config", [{"max_image_mb": 0.1}], indirect=True)
async def test_the_largest_photo_size_under_the_limit_is_fetched(bot: Bot) -> None:
    message = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=noise((1000, 600)),
                         caption=f"/video static {SMALL}")
    await bot.ack_of(message)
    sizes = message["photo"]
    fitting = [s for s in sizes if s["file_size"] <= 100_000]
    assert sizes[-1] not in fitting and fitting  # the picture does not fit whole
    assert bot.api.user_files.downloads == [fitting[-1]["file_id"]]


def jpeg_cut_short() -> bytes:
    data = encoded(Image.frombytes("RGB", (256, 256), random.Random(3).randbytes(256 * 256 * 3)),
                   "JPEG")
    return data[: len(data) // 2]


BAD_FILES = [
    ("a text file named .png", b"just some notes, not a picture\n", "notes.png", "image/png",
     "the image is not a PNG, JPEG or WebP file"),
    ("a truncated JPEG", jpeg_cut_short(), "cut.jpg", "image/jpeg",
     "the image could not be read: the JPEG file is damaged or cut short"),
    ("a 1x1 PNG", encoded(Image.new("RGB", (1, 1))), "dot.png", "image/png",
     "the image is only 1x1 pixels; send one at least 8 pixels on each side"),
    ("a 60-megapixel PNG", png_header(10000, 6000), "big.png", "image/png",
     "the image has more than 40 megapixels (10000x6000); send a smaller one"),
    ("a 30 MB file", b"\x89PNG" + bytes(30_000_000), "huge.png", "image/png",
     "the image is 30.0 MB; the limit is 20 MB"),
]


@pytest.mark.parametrize(("data", "name", "mime", "reason"), [b[1:] for b in BAD_FILES],
                         ids=[b[0] for b in BAD_FILES])
async def test_a_bad_picture_gets_the_reason_and_queues_nothing(
        bot: Bot, data: bytes, name: str, mime: str, reason: str) -> None:
    message = push_document(bot.api, chat_id=ALICE, user_id=ALICE, data=data, file_name=name,
                            mime_type=mime, caption=f"/video a red ball {SMALL}")
    assert await answer_to(bot.api, message) == f"Sorry: {reason}."
    assert await bot.store.jobs.jobs_of(USER) == []
    assert not list((bot.config.data_dir / "inputs").glob("*"))
    if len(data) > 20_000_000:  # refused by its size, before anything was downloaded
        assert bot.api.calls_of("getFile") == [] and bot.api.user_files.downloads == []


@pytest.mark.parametrize("config", [{"max_image_mb": 25}], indirect=True)
async def test_a_file_the_bot_api_will_not_hand_over_is_named(bot: Bot) -> None:
    message = push_document(bot.api, chat_id=ALICE, user_id=ALICE,
                            data=b"\x89PNG" + bytes(22_000_000), file_name="big.png",
                            mime_type="image/png", caption=f"/video a red ball {SMALL}")
    answer = await answer_to(bot.api, message)
    assert answer == f"Sorry: {replies.image_not_downloaded('Telegram', 'File is too big')}."
    assert await bot.store.jobs.jobs_of(USER) == []


async def test_a_failed_download_is_told_without_the_url(bot: Bot) -> None:
    photo = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=red_square((64, 64)))
    bot.api.user_files.gone.add(photo["photo"][-1]["file_id"])
    message = bot.api.push_message(chat_id=ALICE, user_id=ALICE, reply_to=photo,
                                   text=f"/video it spins {SMALL}")
    answer = await answer_to(bot.api, message)
    assert answer == f"Sorry: {replies.image_not_downloaded('Telegram')}."
    assert await bot.store.jobs.jobs_of(USER) == []


async def test_a_command_other_than_video_under_a_photo_ignores_the_photo(bot: Bot) -> None:
    message: dict[str, Any] = push_photo(bot.api, chat_id=ALICE, user_id=ALICE,
                                         picture=red_square(), caption="/queue")
    assert await answer_to(bot.api, message) == replies.QUEUE_EMPTY
    await asyncio.sleep(0.1)
    assert bot.api.calls_of("getFile") == []
