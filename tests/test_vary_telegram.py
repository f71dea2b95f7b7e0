"""The Vary button on Telegram, through python-telegram-bot against the local Bot API fake: a
press asks for the new prompt with a force-reply message naming the job; the owner's reply to
it queues the same seed and settings with the new prompt. Others are refused, a command in
reply stays a command, and the question works after a restart (nothing is kept in memory)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core import replies
from storage.models import JobStatus
from storage.store import Store
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_replies import force_reply_messages
from tests.test_telegram import (  # noqa: F401  (the fixtures of the Telegram tests)
    ADMIN,
    ALICE,
    BOB,
    GROUP,
    SMALL,
    Bot,
    _local_network,
    answer_to,
    api,
    bot,
    config,
    posted_videos,
    started_bot,
    video_calls,
)
from videobot.config import Config

pytestmark = pytest.mark.timeout(120)


async def delivered_clip(bot: Bot, chat_id: int = ALICE,  # noqa: F811
                         chat_type: str = "private") -> tuple[int, dict[str, Any]]:
    """A clip of Alice's rendered and posted; its job id and the clip's message."""
    message = bot.api.push_message(chat_id=chat_id, user_id=ALICE, chat_type=chat_type,
                                   text=f"/video a kite {SMALL} --seed 5")
    _, job_id = await bot.ack_of(message)
    await bot.render()
    await bot.delivered(job_id)
    [clip_message] = posted_videos(bot.api)
    return job_id, clip_message


async def acknowledged(bot: Bot, message: dict[str, Any]) -> tuple[str, int]:  # noqa: F811
    """The acknowledgement of the job `message` queued (once sent), and the job's id."""
    await answer_to(bot.api, message)
    ack, job_id = await bot.ack_of(message)
    return str(ack.params["text"]), job_id


async def question(api: FakeTelegram, count: int = 1) -> dict[str, Any]:  # noqa: F811
    """The latest message asking for a variation's prompt, once it is sent."""
    await api.wait_for("sendMessage", count=count,
                       reply_markup={"force_reply": True, "selective": True,
                                     "input_field_placeholder": replies.VARY_PLACEHOLDER})
    return force_reply_messages(api.messages, api.calls)[-1]


async def test_the_owners_reply_to_the_question_queues_the_variation(bot: Bot) -> None:  # noqa: F811
    fake = bot.api
    job_id, clip_message = await delivered_clip(bot)
    buttons = clip_message["reply_markup"]["inline_keyboard"][0]
    assert buttons[-1] == {"text": "Vary", "callback_data": f"vary:{job_id}"}

    fake.push_callback(user_id=ALICE, message=clip_message, data=f"vary:{job_id}")
    asked = await question(fake)
    [answered] = await fake.wait_for("answerCallbackQuery")
    assert "text" not in answered.params  # no alert: the question is the answer
    assert asked["text"] == replies.vary_ask(job_id, "a kite")
    assert "entities" not in asked  # a private chat: no one to single out
    [ask_call] = [c for c in fake.calls_of("sendMessage") if "force_reply" in str(c.params)]
    assert ask_call.params["reply_parameters"]["message_id"] == clip_message["message_id"]
    assert len(await bot.store.jobs.active_jobs()) == 0

    reply = fake.push_message(chat_id=ALICE, user_id=ALICE, text="a blue kite", reply_to=asked)
    ack, varied_id = await acknowledged(bot, reply)
    assert ack.startswith(f"Job #{varied_id} queued")
    original, varied = await bot.job(job_id), await bot.job(varied_id)
    assert varied.request == original.request.replace(prompt="a blue kite")
    assert varied.request.seed == 5 and varied.user == original.user
    await bot.render()
    assert (await bot.delivered(varied_id)).status == JobStatus.SUCCEEDED
    assert "a blue kite" in video_calls(fake)[-1].params["caption"]


async def test_in_a_group_only_the_owner_is_asked_and_may_answer(bot: Bot) -> None:  # noqa: F811
    fake = bot.api
    job_id, clip_message = await delivered_clip(bot, GROUP, "group")
    fake.push_callback(user_id=BOB, first_name="Bob", message=clip_message,
                      data=f"vary:{job_id}")
    [refusal] = await fake.wait_for("answerCallbackQuery")
    assert refusal.params["show_alert"] is True
    assert refusal.params["text"] == replies.not_your_job(job_id)
    assert force_reply_messages(fake.messages, fake.calls) == []

    fake.push_callback(user_id=ALICE, message=clip_message, data=f"vary:{job_id}")
    asked = await question(fake)
    assert asked["text"] == replies.vary_ask(job_id, "a kite", "Alice")
    [mention] = asked["entities"]
    assert mention["type"] == "text_mention" and mention["user"]["id"] == ALICE
    assert asked["text"][mention["offset"]:][:mention["length"]] == "Alice"

    stranger = fake.push_message(chat_id=GROUP, user_id=BOB, chat_type="group",
                                first_name="Bob", text="a dog instead", reply_to=asked)
    assert await answer_to(fake, stranger) == replies.not_your_job(job_id)
    command = fake.push_message(chat_id=GROUP, user_id=ALICE, chat_type="group",
                               text="/quota", reply_to=asked)
    assert "credits" in await answer_to(fake, command)  # a command, not a prompt
    assert await bot.store.jobs.active_jobs() == []

    reply = fake.push_message(chat_id=GROUP, user_id=ALICE, chat_type="group",
                             text="a red kite", reply_to=asked)
    _, varied_id = await acknowledged(bot, reply)
    assert (await bot.job(varied_id)).request.prompt == "a red kite"


async def test_the_question_is_answered_after_a_restart_and_refusals_are_clear(
        api: FakeTelegram, store: Store, config: Config) -> None:  # noqa: F811
    first = await started_bot(api, store, config)
    try:
        message = api.push_message(chat_id=ALICE, user_id=ALICE, text=f"/video a kite {SMALL}")
        [ack] = await api.wait_for("sendMessage")
        job_id = int(ack.params["text"].split("#")[1].split(" ")[0])
        under = next(m for m in api.messages.values() if m.get("text", "").startswith("Job #"))
        api.push_callback(user_id=ALICE, message=under, data="vary:999")
        [gone] = await api.wait_for("answerCallbackQuery")
        assert (gone.params["show_alert"], gone.params["text"]) == (
            True, "Sorry: there is no job #999.")
        api.push_callback(user_id=ALICE, message=under, data=f"vary:{job_id}")
        asked = await question(api, count=1)
    finally:
        await first.stop()

    second = await started_bot(api, store, config)
    try:
        reply = api.push_message(chat_id=ALICE, user_id=ALICE, text="a green kite",
                                 reply_to=asked)
        assert (await answer_to(api, reply)).startswith(f"Job #{job_id + 1} queued")
        varied = await store.jobs.require(job_id + 1)
        assert varied.request.prompt == "a green kite"
        # Alice's allowance is now spent: a variation is refused and says why.
        cost = varied.cost
        limit = api.push_message(chat_id=ADMIN, user_id=ADMIN,
                                 text=f"/admin quota set telegram:{ALICE} {2 * cost:g}")
        await answer_to(api, limit)
        again = api.push_message(chat_id=ALICE, user_id=ALICE, text="a grey kite",
                                 reply_to=asked)
        refused = await answer_to(api, again)
    finally:
        await second.stop()
    assert refused.startswith(f"Sorry: this clip costs {cost:g} credits and you have 0 left")
    assert message["message_id"] and len(await store.jobs.active_jobs()) == 2
