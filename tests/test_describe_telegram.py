"""`/describe` in Telegram: python-telegram-bot against the local fake; the answer, a
describe job's caption by the demo model's captioner, reaches the chat like a clip."""

from __future__ import annotations

import pytest

from bot.core import replies
from storage.models import JobStatus
from tests.test_describe_jobs import demo_worker
from tests.test_telegram import (  # noqa: F401  (the fixtures of the Telegram tests)
    ALICE,
    SMALL,
    Bot,
    _local_network,
    api,
    bot,
    config,
)

pytestmark = pytest.mark.timeout(120)


async def test_describe_is_answered_in_the_chat(bot: Bot) -> None:  # noqa: F811
    message = bot.api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a kite {SMALL}")
    _, clip_id = await bot.ack_of(message)
    await bot.render()
    await bot.delivered(clip_id)
    sent = len(bot.api.calls_of("sendMessage"))
    asked = bot.api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/describe {clip_id}")
    await bot.api.wait_for("sendMessage", count=sent + 1)
    ack, job_id = await bot.ack_of(asked)
    assert ack.params["text"].startswith(f"Job #{job_id} queued")
    assert "Cost: 0.1 credits" in ack.params["text"]
    assert await demo_worker(bot.store, bot.config).run(burst=True) == 1
    job = await bot.delivered(job_id)
    assert job.status == JobStatus.SUCCEEDED and job.result_text
    texts = [message.get("text") for message in bot.api.messages.values()]
    assert replies.description(clip_id, job.result_text) in texts
