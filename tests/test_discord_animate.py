"""The "Animate" message command on Discord, through the real discord.py client and the local
fake: used on a message with an image, it queues a `/video` of that picture for whoever used
it (the message's text as the prompt), acknowledged like `/video` and delivered to the
channel; on a message without one, or with a bad picture, an answer only the caller sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from bot.core import replies
from bot.core.animating import DEMO_ANIMATE_PROMPT
from storage.inputs import input_image
from storage.store import Store
from tests.backends import render_every_preset
from tests.fakes.discord_api import FakeDiscord
from tests.test_discord import ALICE, BOB, Bot, ack, make_config, mp4_of, running_bot
from tests.test_discord_images import EPHEMERAL, png
from videobot.config import Config
from videobot.config.presets import DEMO_PRESET, PresetConfig
from videobot.users import UserRef

ALICE_REF, BOB_REF = UserRef("discord", str(ALICE.id)), UserRef("discord", str(BOB.id))


@pytest.fixture
def config(tmp_path: Path, fake: FakeDiscord) -> Config:
    # A text-only default preset beside the demo one: Animate takes the one that animates.
    demo = replace(DEMO_PRESET, width=32, height=32, frames=8)
    return replace(make_config(tmp_path, fake),
                   presets=MappingProxyType({"demo": demo, "tiny": PresetConfig()}))


@pytest.fixture
async def bot(fake: FakeDiscord, config: Config, store: Store) -> AsyncIterator[Bot]:
    async with running_bot(fake, config, store) as running:
        yield running


async def refusal(bot: Bot, interaction: str) -> str:
    """The answer only the caller sees."""
    data = (await ack(bot, interaction)).body["data"]
    assert data["flags"] & EPHEMERAL
    return str(data["content"])


async def test_animate_is_offered_in_every_messages_apps_menu(bot: Bot) -> None:
    [sync] = bot.fake.sent("PUT", r"^/applications/\d+/guilds/\d+/commands$")
    [menu] = [command for command in sync.body if command["name"] == "Animate"]
    assert menu["type"] == 3 and not menu.get("options")


async def test_animate_on_a_message_with_an_image_queues_it_and_delivers_the_clip(
        bot: Bot) -> None:
    picture = bot.fake.attach(png((48, 32), (20, 200, 20)), "leaf.png", "image/png")
    posted = bot.fake.post(BOB, "", (picture,))
    callback = await ack(bot, await bot.fake.message_command(ALICE, "Animate", posted))
    [job] = await bot.store.jobs.jobs_of(ALICE_REF)  # whoever used it, not the poster
    assert await bot.store.jobs.jobs_of(BOB_REF) == []
    assert (job.request.preset, job.request.prompt) == ("demo", DEMO_ANIMATE_PROMPT)
    content = callback.body["data"]["content"]
    assert content.startswith(f"Job #{job.id} queued")
    assert f"Prompt: {DEMO_ANIMATE_PROMPT}" in content
    [[cancel]] = [row["components"] for row in callback.body["data"]["components"]]
    assert cancel["custom_id"] == f"vb:cancel:{job.id}"
    assert bot.fake.attachments.reads == [picture.id]
    stored = await input_image(bot.store.engine, job.id)
    assert stored is not None

    assert await render_every_preset(bot.store, bot.config) == 1  # the stand-in model
    await bot.until(lambda: bot.delivered(job.id))
    [result] = bot.results()
    with mp4_of(result) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (32, 32)
        first = next(container.decode(stream)).to_ndarray(format="rgb24")
    red, green, _ = (int(v) for v in first[16, 16])  # the clip opens on the picture
    assert green > 150 and red < 80


async def test_the_messages_text_is_the_prompt(bot: Bot) -> None:
    picture = bot.fake.attach(png((32, 32), (200, 20, 20)), "ball", "image/jpeg")
    posted = bot.fake.post(ALICE, "a red ball bouncing --seed 11", (picture,))
    await ack(bot, await bot.fake.message_command(ALICE, "Animate", posted))
    [job] = await bot.store.jobs.jobs_of(ALICE_REF)
    assert (job.request.prompt, job.request.seed) == ("a red ball bouncing", 11)


async def test_a_message_without_an_image_is_refused_to_the_caller_alone(bot: Bot) -> None:
    text_file = bot.fake.attach(b"just notes", "notes.txt", "text/plain")
    posted = bot.fake.post(BOB, "a lovely sunset", (text_file,))
    answer = await refusal(bot, await bot.fake.message_command(ALICE, "Animate", posted))
    assert answer == replies.NO_PICTURE_IN_MESSAGE
    assert await bot.store.jobs.jobs_of(ALICE_REF) == []
    assert bot.fake.attachments.reads == []


async def test_a_bad_image_gets_the_same_reply_as_video(bot: Bot) -> None:
    fake_png = bot.fake.attach(b"hello, not a picture", "notes.png", "image/png")
    posted = bot.fake.post(BOB, "", (fake_png,))
    answer = await refusal(bot, await bot.fake.message_command(ALICE, "Animate", posted))
    assert answer == "Sorry: the image is not a PNG, JPEG or WebP file."
    assert await bot.store.jobs.jobs_of(ALICE_REF) == []
    assert not list((bot.config.data_dir / "inputs").glob("*"))


async def test_the_animate_command_takes_a_required_image_and_an_optional_prompt(
        bot: Bot) -> None:
    [sync] = bot.fake.sent("PUT", r"^/applications/\d+/guilds/\d+/commands$")
    [command] = [command for command in sync.body if command["name"] == "animate"]
    options = {o["name"]: (o["type"], o.get("required", False)) for o in command["options"]}
    assert options == {"image": (11, True), "prompt": (3, False)}


async def test_the_animate_command_queues_its_image_with_the_default_prompt(bot: Bot) -> None:
    picture = bot.fake.attach(png((48, 32), (20, 200, 20)), "leaf.png", "image/png")
    callback = await ack(bot, await bot.fake.command(ALICE, "animate", {"image": picture}))
    [job] = await bot.store.jobs.jobs_of(ALICE_REF)
    assert (job.request.preset, job.request.prompt) == ("demo", DEMO_ANIMATE_PROMPT)
    assert callback.body["data"]["content"].startswith(f"Job #{job.id} queued")
    assert bot.fake.attachments.reads == [picture.id]
    assert await input_image(bot.store.engine, job.id) is not None


async def test_the_animate_commands_prompt_and_options_count(bot: Bot) -> None:
    picture = bot.fake.attach(png((32, 32), (200, 20, 20)), "ball.png", "image/png")
    await ack(bot, await bot.fake.command(
        ALICE, "animate", {"image": picture, "prompt": "a red ball bouncing --seed 11"}))
    [job] = await bot.store.jobs.jobs_of(ALICE_REF)
    assert (job.request.preset, job.request.prompt, job.request.seed) == (
        "demo", "a red ball bouncing", 11)
