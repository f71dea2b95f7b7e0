"""Previews in the Discord acknowledgement: the real discord.py client against the local fake
of Discord, the real core, delivery loop, job store and worker (rendering with a stand-in
model that makes a preview after every step, stored as a real worker stores them)."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.adapters.discord import DiscordAdapter
from bot.core import replies
from bot.core.commands import Core
from bot.delivery import DeliveryLoop
from storage.models import JobStatus
from storage.store import Store
from tests.backends import PreviewingStripes
from tests.fakes.discord_api import GUILD_ID, TOKEN, FakeDiscord, Recorded
from tests.test_discord import AdapterClock, Bot, video
from videobot.config import Config, config_from_dict

pytestmark = pytest.mark.timeout(60)
#: The fewest seconds between two pictures of an acknowledgement, in these tests.
PICTURE_EVERY_S = 0.4
SMALL = {"prompt": "a red ball", "frames": 8, "width": 64, "height": 64, "seed": 7}


@pytest.fixture
def config(tmp_path: Path, fake: FakeDiscord) -> Config:
    # A diffusers preset (the stand-in renders it) with a preview after every step.
    return config_from_dict({
        "data_dir": str(tmp_path / "data"), "default_preset": "wan",
        "presets": {"wan": {"model": "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "family": "wan",
                            "frames": 8, "width": 64, "height": 64, "steps": 30,
                            "max_steps": 100, "preview_every_steps": 1}},
        "discord": {"token": TOKEN, "api_base_url": fake.api_base_url,
                    "gateway_url": fake.gateway_url, "guild_ids": [GUILD_ID],
                    "progress_interval_seconds": 0.1},
    })


@asynccontextmanager
async def running_bot(fake: FakeDiscord, config: Config, store: Store) -> AsyncIterator[Bot]:
    clock = AdapterClock()
    assert config.discord is not None
    adapter = DiscordAdapter(core=Core(store=store, config=config), store=store,
                             config=config.discord, work_dir=config.data_dir / "uploads",
                             guild_ready_timeout=0.1, clock=clock,
                             preview_every_s=PICTURE_EVERY_S)
    await adapter.start()
    delivery = DeliveryLoop(store=store, adapters={"discord": adapter},
                            clips_dir=config.data_dir / "clips", poll_interval=0.05,
                            journal=adapter.journal, presets=config.presets)
    stop = asyncio.Event()
    task = asyncio.create_task(delivery.run(stop))
    try:
        yield Bot(fake, adapter, store, config, PreviewingStripes(step_seconds=0.1), clock)
    finally:
        stop.set()
        await task
        await adapter.stop()


@pytest.fixture
async def bot(fake: FakeDiscord, config: Config, store: Store) -> AsyncIterator[Bot]:
    async with running_bot(fake, config, store) as running:
        yield running


def edits_of(bot: Bot, message_id: int) -> list[Recorded]:
    return bot.fake.sent("PATCH", rf"^/webhooks/\d+/[^/]+/messages/{message_id}$")


def pictured(edits: list[Recorded]) -> list[Recorded]:
    """The edits that uploaded a preview."""
    return [edit for edit in edits if edit.files]


def shade_of(edit: Recorded) -> float:
    _name, data = edit.files["files[0]"]
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        return float(np.asarray(image.convert("L")).mean())


async def test_progress_edits_carry_the_latest_preview_as_the_one_attachment(bot: Bot) -> None:
    job_id = await video(bot, **SMALL, steps=30)
    acknowledgement = (await bot.store.jobs.require(job_id)).reply_target["message_id"]
    most_attachments = 0

    async def watch() -> None:
        nonlocal most_attachments
        while True:
            message = bot.fake.messages.get(acknowledgement, {"attachments": []})
            most_attachments = max(most_attachments, len(message["attachments"]))
            await asyncio.sleep(0.01)

    watcher = asyncio.create_task(watch())
    try:
        await bot.render()
        await bot.until(lambda: bot.delivered(job_id))
    finally:
        watcher.cancel()
    edits = edits_of(bot, acknowledgement)
    pictures = pictured(edits)
    assert len(pictures) >= 3, [e.body for e in edits]
    for edit in pictures:
        assert edit.body["content"].startswith(f"Job #{job_id}: rendering")
        assert edit.body["attachments"] == [
            {"id": 0, "filename": f"preview-{job_id}.jpg",
             "description": edit.body["attachments"][0]["description"]}]
        assert edit.files["files[0]"][0] == f"preview-{job_id}.jpg"
    gaps = [b.at - a.at for a, b in itertools.pairwise(pictures)]
    assert all(gap >= PICTURE_EVERY_S - 0.02 for gap in gaps), gaps
    shades = [shade_of(edit) for edit in pictures]  # later previews are brighter
    assert shades == sorted(shades) and shades[0] < shades[-1]
    # Text edits between pictures keep the picture: they do not name the attachments.
    texts = [edit for edit in edits if not edit.files and "rendering" in edit.body["content"]]
    assert texts and all("attachments" not in edit.body for edit in texts)
    assert most_attachments == 1  # replaced, never added to
    # Once the clip is posted, the acknowledgement's final words come without the picture.
    job = await bot.store.jobs.require(job_id)
    assert job.status == JobStatus.SUCCEEDED
    assert edits[-1].body["attachments"] == [] and edits[-1].body["components"] == []
    assert bot.fake.messages[acknowledgement]["attachments"] == []
    [result] = bot.results()
    assert result.files["files[0]"][0].endswith(".mp4")


async def test_a_cancelled_job_keeps_its_last_preview_beside_the_final_words(bot: Bot) -> None:
    job_id = await video(bot, **SMALL, steps=100)
    acknowledgement = (await bot.store.jobs.require(job_id)).reply_target["message_id"]
    rendering = asyncio.create_task(bot.render())
    try:
        await bot.until(lambda: pictured(edits_of(bot, acknowledgement)))
        await bot.store.cancels.request(job_id, None)
        await bot.until(lambda: bot.delivered(job_id))
    finally:
        await rendering
    job = await bot.store.jobs.require(job_id)
    message = bot.fake.messages[acknowledgement]
    assert message["content"] == replies.status(job, None, bot.store.clock())
    assert [a["filename"] for a in message["attachments"]] == [f"preview-{job_id}.jpg"]
    assert message["components"] == []


async def test_a_deleted_acknowledgement_is_posted_again_with_its_picture(bot: Bot) -> None:
    job_id = await video(bot, **SMALL, steps=100)
    acknowledgement = (await bot.store.jobs.require(job_id)).reply_target["message_id"]
    rendering = asyncio.create_task(bot.render())
    try:
        await bot.until(lambda: pictured(edits_of(bot, acknowledgement)))
        del bot.fake.messages[acknowledgement]  # someone deleted it
        [repost] = await bot.until(bot.followups)
        await bot.store.cancels.request(job_id, None)
        await bot.until(lambda: bot.delivered(job_id))
    finally:
        await rendering
    assert repost.body["content"].startswith(f"Job #{job_id}: rendering")
    assert repost.files["files[0]"][0] == f"preview-{job_id}.jpg"
    buttons = repost.body["components"][0]["components"]
    assert [b["custom_id"] for b in buttons] == [f"vb:cancel:{job_id}"]
