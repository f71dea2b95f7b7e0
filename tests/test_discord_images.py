"""A picture in `/video`'s `image` option on Discord, through the real discord.py client and
the local fake: the attachment resolved, read from its URL, checked and stored with the job;
a bad picture refused by name, only to the caller, with nothing queued."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest
from PIL import Image

from bot.core import replies
from storage.inputs import input_image
from storage.store import Store
from tests.fakes.discord_api import FakeDiscord
from tests.test_discord import ALICE, SMALL, Bot, ack, make_config, running_bot
from videobot.config import Config
from videobot.config.presets import DEMO_PRESET
from videobot.users import UserRef

EPHEMERAL = 64
USER = UserRef("discord", str(ALICE.id))


@pytest.fixture
def config(tmp_path: Path, fake: FakeDiscord) -> Config:
    # The demo preset: it animates a picture (the tiny text-to-video preset refuses one).
    demo = replace(DEMO_PRESET, width=64, height=64)
    return replace(make_config(tmp_path, fake), default_preset="demo",
                   presets=MappingProxyType({"demo": demo}))


@pytest.fixture
async def bot(fake: FakeDiscord, config: Config, store: Store) -> AsyncIterator[Bot]:
    async with running_bot(fake, config, store) as running:
        yield running


def png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


async def test_the_image_option_is_read_and_stored_with_the_job(bot: Bot) -> None:
    picture = bot.fake.attach(png((48, 32), (20, 200, 20)), "leaf.png", "image/png")
    callback = await ack(bot, await bot.fake.command(ALICE, "video", {**SMALL, "image": picture}))
    [job] = await bot.store.jobs.jobs_of(USER)
    assert bot.fake.attachments.reads == [picture.id]
    content = callback.body["data"]["content"]
    assert content.startswith(f"Job #{job.id} queued")
    assert "the image (48x32) was centre-cropped to the clip's shape and resized to 32x32" \
        in content
    stored = await input_image(bot.store.engine, job.id)
    assert stored is not None
    image = Image.open(io.BytesIO(stored))
    assert image.size == (32, 32) and image.getpixel((16, 16)) == (20, 200, 20)


async def refusal(bot: Bot, **options: object) -> str:
    """The answer to a `/video` that must be refused: seen only by the caller."""
    interaction = await bot.fake.command(ALICE, "video", {**SMALL, **options})
    callback = await ack(bot, interaction)
    data = callback.body["data"]
    assert data["flags"] & EPHEMERAL
    return str(data["content"])


@pytest.mark.parametrize(("data", "name", "reason"), [
    (b"hello, not a picture", "notes.png", "the image is not a PNG, JPEG or WebP file"),
    (png((1, 1), (0, 0, 0)), "dot.png",
     "the image is only 1x1 pixels; send one at least 8 pixels on each side"),
], ids=["text named .png", "1x1 PNG"])
async def test_a_bad_picture_is_refused_by_name_and_queues_nothing(
        bot: Bot, data: bytes, name: str, reason: str) -> None:
    picture = bot.fake.attach(data, name, "image/png")
    assert await refusal(bot, image=picture) == f"Sorry: {reason}."
    assert await bot.store.jobs.jobs_of(USER) == []


async def test_a_picture_over_the_limit_is_refused_before_it_is_read(bot: Bot) -> None:
    picture = bot.fake.attach(b"\x89PNG" + bytes(21_000_000), "huge.png", "image/png")
    assert await refusal(bot, image=picture) == \
        "Sorry: the image is 21.0 MB; the limit is 20 MB."
    assert bot.fake.attachments.reads == []
    assert await bot.store.jobs.jobs_of(USER) == []


async def test_a_picture_gone_from_the_cdn_is_named(bot: Bot) -> None:
    picture = bot.fake.attach(png((32, 32), (1, 2, 3)), "gone.png", "image/png")
    bot.fake.attachments.remove(picture)
    assert await refusal(bot, image=picture) == \
        f"Sorry: {replies.image_not_downloaded('Discord', 'HTTP 404')}."
    assert await bot.store.jobs.jobs_of(USER) == []
