"""`/describe` in Discord: the real discord.py client against the local fake; the answer, a
describe job's caption by the demo model's captioner, is posted in the channel like a clip."""

from __future__ import annotations

import pytest

from bot.core import replies
from storage.models import JobStatus
from tests.test_describe_jobs import demo_worker
from tests.test_discord import (  # noqa: F401  (the fixtures of the Discord tests)
    ALICE,
    Bot,
    ack,
    bot,
    config,
    delivered_clip,
)

pytestmark = pytest.mark.timeout(120)


async def test_describe_is_answered_in_the_channel(bot: Bot) -> None:  # noqa: F811
    clip_id, _message = await delivered_clip(bot)
    callback = await ack(bot, await bot.fake.command(ALICE, "describe", {"job": clip_id}))
    content = callback.body["data"]["content"]
    assert content.startswith(f"Job #{clip_id + 1} queued") and "Cost: 0.1 credits" in content
    assert await demo_worker(bot.store, bot.config).run(burst=True) == 1
    await bot.until(lambda: bot.delivered(clip_id + 1))
    job = await bot.store.jobs.require(clip_id + 1)
    assert job.status == JobStatus.SUCCEEDED and job.result_text
    posted = [result.body["content"] for result in bot.results()]
    assert posted[-1] == f"<@{ALICE.id}> {replies.description(clip_id, job.result_text)}"
