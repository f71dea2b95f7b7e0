"""Reroll and Same seed keep the job's picture, through python-telegram-bot and the local Bot
API fake: the new job's stored picture is the original's, and a job whose picture retention
removed is refused with a reply that says so (not rerun from its text alone)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core import replies
from storage.inputs import input_image
from storage.retention import prune_clips
from tests.conftest import FakeClock
from tests.fakes.telegram_files import push_photo
from tests.test_telegram import ALICE, SMALL, Bot
from tests.test_telegram_images import (  # noqa: F401  (the fixtures of the picture tests)
    _local_network,
    bot,
    config,
    red_square,
)

pytestmark = pytest.mark.timeout(120)


async def picture_job(bot: Bot) -> tuple[int, dict[str, Any]]:  # noqa: F811
    """A `/video` sent with a photo; its job id and the status message (buttons name the job,
    so any of the chat's messages will do to press them on)."""
    message = push_photo(bot.api, chat_id=ALICE, user_id=ALICE, picture=red_square(),
                         caption=f"/video a red square moves right {SMALL} --seed 3")
    _, job_id = await bot.ack_of(message)
    status_id = await bot.status_message_id(job_id)
    return job_id, bot.api.messages[(ALICE, status_id)]


async def test_a_reroll_and_a_same_seed_carry_the_picture(bot: Bot) -> None:  # noqa: F811
    job_id, under = await picture_job(bot)
    original = await input_image(bot.store.engine, job_id)
    assert original is not None
    for count, action in enumerate(("reroll", "same"), start=2):
        bot.api.push_callback(user_id=ALICE, message=under, data=f"{action}:{job_id}")
        await bot.api.wait_for("sendMessage", count=count)
    reruns = [job for job in await bot.store.jobs.active_jobs() if job.id != job_id]
    assert len(reruns) == 2
    for rerun in reruns:
        assert await input_image(bot.store.engine, rerun.id) == original
    assert {rerun.request.seed == 3 for rerun in reruns} == {True, False}


async def test_a_job_whose_picture_is_gone_is_not_rerun_from_its_text(
        bot: Bot, clock: FakeClock) -> None:  # noqa: F811
    job_id, under = await picture_job(bot)
    clock.advance(8 * 86400)
    await prune_clips(bot.store.context, keep_days=7, drop_delivered_hours=0,
                      clips_dir=bot.config.data_dir / "clips")
    bot.api.push_callback(user_id=ALICE, message=under, data=f"same:{job_id}")
    [refusal] = await bot.api.wait_for("answerCallbackQuery")
    assert refusal.params["show_alert"] is True
    assert refusal.params["text"] == f"Sorry: {replies.picture_gone(job_id)}."
    assert [job.id for job in await bot.store.jobs.active_jobs()] == [job_id]
