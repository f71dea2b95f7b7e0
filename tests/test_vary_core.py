"""Vary in the core, as every platform's button reaches it: the same seed and settings with a
new prompt, under a rerun's rules; on an extension, its source extended again with the new
prompt; moderated like any prompt."""

from __future__ import annotations

from bot.core import replies
from bot.core.commands import Core
from storage.store import Store
from tests.backends import render_every_preset
from tests.test_core_commands import ALICE, BOB, core, queue  # noqa: F401  (its fixture)
from videobot.config import Config, config_from_dict

DEMO = "/video a red ball --preset demo --frames 8 --width 64 --height 64 --seed 4"


async def test_varying_an_extension_extends_its_source_again(
        core: Core, store: Store, config: Config) -> None:  # noqa: F811
    source_id = await queue(core, DEMO)
    await render_every_preset(store, config)
    extension = (await core.extend_job(ALICE, source_id, prompt="it turns left")).job
    assert extension is not None
    await render_every_preset(store, config)

    reply = await core.vary(ALICE, extension.id, "it falls down")
    assert reply.job is not None, reply.text
    varied = reply.job
    assert varied.extends == source_id and varied.request.prompt == "it falls down"
    assert varied.request.seed == extension.request.seed
    assert varied.request.replace(prompt="x") == extension.request.replace(prompt="x")


async def test_a_variation_is_checked_like_any_request(
        core: Core, store: Store, config: Config) -> None:  # noqa: F811
    job_id = await queue(core, DEMO)
    before = len(await store.jobs.active_jobs())
    refusals = [
        (await core.vary(BOB, job_id, "a dog")).text,
        (await core.vary(ALICE, job_id, " \n ")).text,
        (await core.vary(ALICE, 999, "a dog")).text,
        (await core.vary(ALICE, job_id, "x" * (config.limits.max_prompt_chars + 1))).text,
    ]
    assert refusals[:3] == [replies.not_your_job(job_id),
                            f"Sorry: {replies.VARY_EMPTY_PROMPT}.",
                            "Sorry: there is no job #999."]
    assert "prompt" in refusals[3] and refusals[3].startswith("Sorry:")
    assert len(await store.jobs.active_jobs()) == before


async def test_a_blocked_prompt_is_refused(store: Store, config: Config) -> None:
    blocking = config_from_dict({"data_dir": str(config.data_dir), "default_preset": "tiny",
                                 "moderation": {"words": ["forbidden"]},
                                 "database": {"url": config.database_url}})
    guarded = Core(store=store, config=blocking)
    job_id = await queue(guarded, "/video a red ball")
    reply = await guarded.vary(ALICE, job_id, "a forbidden thing")
    assert reply.job is None and reply.text == f"Sorry: {replies.PROMPT_REFUSED}."
    assert len(await store.jobs.active_jobs()) == 1


async def test_the_help_every_chat_shows_does_not_offer_vary(core: Core) -> None:  # noqa: F811
    """The console has no buttons: its /help (everyone's) must not send anyone looking for
    one."""
    answer = (await core.handle(ALICE, "/help")).text
    assert "vary" not in answer.lower()
