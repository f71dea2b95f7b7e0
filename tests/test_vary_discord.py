"""The Vary button on Discord, through discord.py against the local fake: a press opens a modal
(callback type 9) prefilled with the job's prompt; submitting it (interaction type 5) queues
the same seed and settings with the new prompt. Others get the private refusal and no modal;
the modal's submission works after a restart (its custom id names the job)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core import replies
from storage.models import JobStatus
from storage.store import Store
from tests.fakes.discord_api import FakeDiscord
from tests.test_discord import (  # noqa: F401  (the fixtures of the Discord tests)
    ADMIN,
    ALICE,
    BOB,
    Bot,
    ack,
    bot,
    config,
    delivered_clip,
    running_bot,
)
from videobot.config import Config

pytestmark = pytest.mark.timeout(120)


def text_input(modal: dict[str, Any]) -> dict[str, Any]:
    [label] = modal["components"]
    assert label["type"] == 18 and label["label"] == replies.VARY_PROMPT_LABEL
    return dict(label["component"])


def stale_message(fake: FakeDiscord, like: int, job_id: int) -> int:
    """A clip message whose Vary button names job `job_id`, which this database never had
    (posted before its database was replaced): Discord sends only the custom ids of buttons
    a message has."""
    message_id = like + 1
    button = {"type": 2, "style": 2, "label": "Vary", "custom_id": f"vb:vary:{job_id}"}
    fake.messages[message_id] = {**fake.messages[like], "id": str(message_id),
                                 "components": [{"type": 1, "components": [button]}]}
    return message_id


async def open_modal(bot: Bot, job_id: int, message_id: int) -> tuple[str, dict[str, Any]]:  # noqa: F811
    """Alice presses Vary; the interaction and the modal the bot answered it with."""
    press = await bot.fake.press(ALICE, f"vb:vary:{job_id}", message_id)
    callback = await ack(bot, press)
    assert callback.body["type"] == 9
    return press, bot.fake.modals[press]


async def test_the_modal_queues_the_variation_for_its_owner(bot: Bot) -> None:  # noqa: F811
    job_id, message_id = await delivered_clip(bot)
    buttons = bot.fake.messages[message_id]["components"][0]["components"]
    assert [b["custom_id"] for b in buttons][-2:] == [f"vb:vary:{job_id}", f"vb:delete:{job_id}"]

    press, modal = await open_modal(bot, job_id, message_id)
    assert (modal["custom_id"], modal["title"]) == (f"vb:vary-prompt:{job_id}",
                                                    f"Vary job #{job_id}")
    box = text_input(modal)
    assert (box["value"], box["max_length"]) == ("a red ball", 500)
    assert await bot.store.jobs.active_jobs() == []

    submitted = await bot.fake.submit_modal(ALICE, press, {"prompt": "a blue ball"})
    callback = await ack(bot, submitted)
    assert not callback.body["data"].get("flags", 0) & 64
    [varied] = await bot.store.jobs.active_jobs()
    assert callback.body["data"]["content"].startswith(f"Job #{varied.id} queued")
    original = await bot.store.jobs.require(job_id)
    assert varied.request == original.request.replace(prompt="a blue ball")
    await bot.render()
    await bot.until(lambda: bot.delivered(varied.id))
    assert (await bot.store.jobs.require(varied.id)).status == JobStatus.SUCCEEDED
    assert "a blue ball" in bot.results()[-1].body["content"]


async def test_a_strangers_press_gets_no_modal_and_an_empty_prompt_is_refused(
        bot: Bot) -> None:  # noqa: F811
    job_id, message_id = await delivered_clip(bot)
    refused = await ack(bot, await bot.fake.press(BOB, f"vb:vary:{job_id}", message_id))
    assert refused.body["type"] == 4 and refused.body["data"]["flags"] & 64
    assert refused.body["data"]["content"] == replies.not_your_job(job_id)
    assert bot.fake.modals == {}

    press, _ = await open_modal(bot, job_id, message_id)
    empty = await ack(bot, await bot.fake.submit_modal(ALICE, press, {"prompt": "   "}))
    assert empty.body["data"]["flags"] & 64
    assert empty.body["data"]["content"] == f"Sorry: {replies.VARY_EMPTY_PROMPT}."
    # An admin may vary anyone's clip.
    admin_press = await bot.fake.press(ADMIN, f"vb:vary:{job_id}", message_id)
    assert (await ack(bot, admin_press)).body["type"] == 9
    assert await bot.store.jobs.active_jobs() == []


async def test_the_modal_works_after_a_restart_and_refusals_are_clear(
        fake: FakeDiscord, config: Config, store: Store) -> None:  # noqa: F811
    async with running_bot(fake, config, store) as first:
        job_id, message_id = await delivered_clip(first)
        press, _ = await open_modal(first, job_id, message_id)
    stale = stale_message(fake, message_id, 999)
    async with running_bot(fake, config, store) as second:
        gone = await ack(second, await fake.press(ALICE, "vb:vary:999", stale))
        assert gone.body["data"]["flags"] & 64
        assert gone.body["data"]["content"] == "Sorry: there is no job #999."
        queued = await ack(second, await fake.submit_modal(ALICE, press, {"prompt": "a kite"}))
        [varied] = await store.jobs.active_jobs()
        assert queued.body["data"]["content"].startswith(f"Job #{varied.id} queued")
        assert varied.request.prompt == "a kite" and varied.request.seed == 7
        # Alice's allowance is now spent: the next variation is refused and says why.
        limit = f"quota set discord:{ALICE.id} {2 * varied.cost:g}"
        await ack(second, await fake.command(ADMIN, "videoadmin", {"command": limit},
                                             subcommand="run"))
        spent = await ack(second, await fake.submit_modal(ALICE, press, {"prompt": "a dog"}))
    assert spent.body["data"]["flags"] & 64
    assert spent.body["data"]["content"].startswith(
        f"Sorry: this clip costs {varied.cost:g} credits and you have 0 left")
    assert len(await store.jobs.active_jobs()) == 1
