"""The Discord adapter: the real discord.py client against a local fake of Discord, with a real
SQLite store, the real core and delivery loop, and clips rendered by an in-process worker."""

from __future__ import annotations

import asyncio
import inspect
import io
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from sqlalchemy import select

from bot.adapters.discord import DiscordAdapter
from bot.adapters.discord.delivery import result_nonce
from bot.core import replies
from bot.core.commands import Core
from bot.delivery import DeliveryLoop
from storage.db import read_transaction
from storage.models import Job, JobStatus
from storage.store import Store
from tests.backends import StripesBackend, render_every_preset, stand_in_worker
from tests.fakes.discord_api import (
    ADMIN_ROLE_ID,
    CHANNEL_ID,
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    FakeUser,
    Recorded,
)
from videobot.config import Config, config_from_dict
from videobot.logs import SecretRedactor
from videobot.users import UserRef

ALICE = FakeUser(810000000000000001, "alice")
BOB = FakeUser(810000000000000002, "bob")
ADMIN = FakeUser(810000000000000003, "carol", roles=(ADMIN_ROLE_ID,))
SMALL = {"prompt": "a red ball", "frames": 8, "width": 32, "height": 32, "steps": 4, "seed": 7}


class AdapterClock:
    """Wall time plus an offset a test can push forward (to expire interaction tokens)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Bot:
    """Everything a test drives: the fake, the adapter, the store and a worker."""

    fake: FakeDiscord
    adapter: DiscordAdapter
    store: Store
    config: Config
    backend: StripesBackend
    clock: AdapterClock

    async def render(self) -> int:
        """Drain the queue with an in-process worker."""
        worker = stand_in_worker(self.store, self.config, self.backend)
        return await worker.run(burst=True)

    async def until(self, condition: Callable[[], Any], seconds: float = 10.0) -> Any:
        """Wait for `condition` (sync or async), failing fast if the client died."""
        deadline = time.monotonic() + seconds
        while True:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            task = self.adapter.gateway_task
            assert task is not None and not task.done(), f"client ended: {task}"
            assert time.monotonic() < deadline, "condition not met in time"
            await self.fake.changed(0.05)

    async def delivered(self, job_id: int) -> bool:
        return (await self.store.jobs.require(job_id)).delivered_at is not None

    def followups(self) -> list[Recorded]:
        return self.fake.sent("POST", r"^/webhooks/\d+/[^/]+$")

    def results(self) -> list[Recorded]:
        """The channel messages the bot posted (results are posted there)."""
        return self.fake.sent("POST", rf"^/channels/{CHANNEL_ID}/messages$")


def make_config(tmp_path: Path, fake: FakeDiscord, **discord: Any) -> Config:
    return config_from_dict({
        "data_dir": str(tmp_path / "data"),
        "default_preset": "tiny",
        "limits": {"max_queued_per_user": 50},
        "discord": {"token": TOKEN, "api_base_url": fake.api_base_url,
                    "gateway_url": fake.gateway_url, "guild_ids": [GUILD_ID],
                    "admins": [], "admin_roles": [ADMIN_ROLE_ID],
                    "progress_interval_seconds": 0.2, **discord},
    })


@pytest.fixture
def config(tmp_path: Path, fake: FakeDiscord) -> Config:
    return make_config(tmp_path, fake)


@asynccontextmanager
async def running_bot(fake: FakeDiscord, config: Config, store: Store) -> AsyncIterator[Bot]:
    """The adapter started against the fake, with a delivery loop beside it."""
    clock = AdapterClock()
    assert config.discord is not None
    adapter = DiscordAdapter(core=Core(store=store, config=config), store=store,
                             config=config.discord, work_dir=config.data_dir / "uploads",
                             guild_ready_timeout=0.1, clock=clock)
    await adapter.start()
    delivery = DeliveryLoop(store=store, adapters={"discord": adapter},
                            clips_dir=config.data_dir / "clips", poll_interval=0.05,
                            journal=adapter.journal)
    stop = asyncio.Event()
    task = asyncio.create_task(delivery.run(stop))
    try:
        yield Bot(fake, adapter, store, config, StripesBackend(step_seconds=0.15), clock)
    finally:
        stop.set()
        await task
        await adapter.stop()


@pytest.fixture
async def bot(fake: FakeDiscord, config: Config, store: Store) -> AsyncIterator[Bot]:
    async with running_bot(fake, config, store) as running:
        yield running


async def ack(bot: Bot, interaction_id: str) -> Recorded:
    """The answer to an interaction, once it arrived (its callback, or the message that
    followed when the bot deferred it)."""
    return await bot.until(lambda: bot.fake.answer(interaction_id))


async def video(bot: Bot, user: FakeUser = ALICE, **options: Any) -> int:
    """Send `/video` and return the queued job's id (from the row the core wrote)."""
    before = {job.id for job in await bot.store.jobs.active_jobs()}
    interaction = await bot.fake.command(user, "video", {**SMALL, **options})
    await ack(bot, interaction)
    jobs = [job for job in await bot.store.jobs.active_jobs() if job.id not in before]
    assert len(jobs) == 1, "no job was queued"
    return jobs[0].id


def mp4_of(request: Recorded) -> av.container.InputContainer:
    name, data = request.files["files[0]"]
    assert name.endswith(".mp4")
    return av.open(io.BytesIO(data))


# -- tests ----------------------------------------------------------------------------------


async def test_video_end_to_end(bot: Bot) -> None:
    sent = time.monotonic()
    interaction = await bot.fake.command(ALICE, "video", SMALL)
    callback = await ack(bot, interaction)
    assert callback.at - sent < 3.0
    assert callback.body["type"] == 4
    job = (await bot.store.jobs.jobs_of(UserRef("discord", str(ALICE.id))))[0]
    assert f"Job #{job.id} queued" in callback.body["data"]["content"]
    buttons = callback.body["data"]["components"][0]["components"]
    assert [b["custom_id"] for b in buttons] == [f"vb:cancel:{job.id}"]
    await bot.render()
    await bot.until(lambda: bot.delivered(job.id))
    edits = bot.fake.sent("PATCH", r"^/webhooks/\d+/[^/]+/messages/\d+$")
    assert any("rendering" in (e.body or {}).get("content", "") for e in edits)
    assert bot.followups() == []
    [result] = bot.results()
    assert result.body["content"].startswith(f"<@{ALICE.id}> a red ball")
    assert "seed 7" in result.body["content"]
    assert result.body["enforce_nonce"] is True and len(result.body["nonce"]) == 25
    acknowledgement = (await bot.store.jobs.require(job.id)).reply_target["message_id"]
    assert int(result.body["message_reference"]["message_id"]) == acknowledgement
    labels = [b["label"] for b in result.body["components"][0]["components"]]
    assert labels == ["Reroll", "Same seed", "Extend", "Vary", "Delete"]
    with mp4_of(result) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.codec_context.width, stream.codec_context.height) == (32, 32)
        assert sum(1 for _ in container.decode(stream)) == 8
    starts = [edit.at for edit in edits if "rendering" in (edit.body or {}).get("content", "")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 0.2 - 0.02 for gap in gaps), gaps


async def test_commands_are_synced_with_the_config_caps(bot: Bot) -> None:
    [sync] = bot.fake.sent("PUT", rf"^/applications/\d+/guilds/{GUILD_ID}/commands$")
    commands = {command["name"]: command for command in sync.body}
    assert set(commands) == {"video", "animate", "extend", "status", "cancel", "queue", "quota",
                             "history", "describe", "apikey", "help", "videoadmin", "Animate"}
    extend = {option["name"]: option for option in commands["extend"]["options"]}
    assert not extend["job"]["required"] and not extend["prompt"]["required"]
    assert extend["prompt"]["max_length"] == 500
    options = {option["name"]: option for option in commands["video"]["options"]}
    preset = bot.config.preset()
    assert options["frames"]["max_value"] == preset.max_frames
    assert options["steps"]["max_value"] == preset.max_steps
    assert options["width"]["min_value"] == 16
    assert options["prompt"]["required"] and options["prompt"]["max_length"] == 500
    assert [c["value"] for c in options["preset"]["choices"]] == ["demo", "tiny"]
    assert commands["videoadmin"]["default_member_permissions"] is not None


async def test_out_of_range_options_are_refused_and_nothing_is_queued(bot: Bot) -> None:
    # Discord enforces the synced bounds; were a value to slip through, the core refuses it.
    interaction = await bot.fake.command(ALICE, "video", {**SMALL, "frames": 999})
    callback = await ack(bot, interaction)
    assert callback.body["data"]["flags"] & 64
    assert "frames must be between 1 and 64" in callback.body["data"]["content"]
    interaction = await bot.fake.command(ALICE, "video", {**SMALL, "width": 1024,
                                                         "height": 1024})
    assert "pixels per frame" in (await ack(bot, interaction)).body["data"]["content"]
    assert await bot.store.jobs.active_jobs() == []


async def test_cancel_button(bot: Bot) -> None:
    job_id = await video(bot)
    job = await bot.store.jobs.require(job_id)
    press = await bot.fake.press(ALICE, f"vb:cancel:{job_id}", job.reply_target["message_id"])
    callback = await ack(bot, press)
    assert callback.body["data"]["content"] == f"Job #{job_id} cancelled; 0.12 credits refunded."
    assert callback.body["data"]["flags"] & 64
    await bot.until(lambda: bot.delivered(job_id))
    assert (await bot.store.jobs.require(job_id)).status == JobStatus.CANCELLED
    [notice] = bot.results()
    assert notice.body["content"] == (
        f"<@{ALICE.id}> Job #{job_id} was cancelled; 0.12 credits refunded.")
    assert not notice.files


async def delivered_clip(bot: Bot, user: FakeUser = ALICE) -> tuple[int, int]:
    """Render one clip for `user`; returns its job id and the id of the posted message."""
    job_id = await video(bot, user)
    await bot.render()
    await bot.until(lambda: bot.delivered(job_id))
    job = await bot.store.jobs.require(job_id)
    return job_id, int(job.reply_target["result_message_id"])


async def test_reroll_and_same_seed(bot: Bot) -> None:
    job_id, message_id = await delivered_clip(bot)
    for action, same_seed in (("reroll", False), ("same", True)):
        press = await bot.fake.press(ALICE, f"vb:{action}:{job_id}", message_id)
        callback = await ack(bot, press)
        assert "queued" in callback.body["data"]["content"]
        assert not callback.body["data"].get("flags", 0) & 64
        newest = (await bot.store.jobs.jobs_of(UserRef("discord", str(ALICE.id)), limit=1))[0]
        assert newest.request.prompt == "a red ball"
        assert (newest.request.seed == 7) is same_seed
        assert "token" not in newest.reply_target
        assert f"itoken-{press}" not in str(newest.reply_target)
    assert len(await bot.store.jobs.active_jobs()) == 2


async def test_a_strangers_button_press_is_refused(bot: Bot) -> None:
    job_id, message_id = await delivered_clip(bot)
    waiting = await bot.store.jobs.require(await video(bot))
    presses = [("reroll", job_id, message_id), ("same", job_id, message_id),
               ("delete", job_id, message_id),
               ("cancel", waiting.id, waiting.reply_target["message_id"])]
    for action, pressed_job, pressed_message in presses:
        callback = await ack(bot, await bot.fake.press(BOB, f"vb:{action}:{pressed_job}",
                                                        pressed_message))
        assert callback.body["data"]["flags"] & 64, action
        assert callback.body["data"]["content"] == replies.not_your_job(pressed_job), action
    assert [job.id for job in await bot.store.jobs.active_jobs()] == [waiting.id]
    assert message_id in bot.fake.messages
    # An admin (by role) may delete it.
    callback = await ack(bot, await bot.fake.press(ADMIN, f"vb:delete:{job_id}", message_id))
    assert callback.body["type"] == 6
    await bot.until(lambda: message_id not in bot.fake.messages)


async def test_a_deleted_acknowledgement_is_posted_again_and_progress_goes_there(
        bot: Bot) -> None:
    job_id = await video(bot)
    acknowledgement = (await bot.store.jobs.require(job_id)).reply_target["message_id"]
    del bot.fake.messages[acknowledgement]  # someone deleted it
    await bot.render()
    await bot.until(lambda: bot.delivered(job_id))
    [repost] = bot.followups()
    buttons = repost.body["components"][0]["components"]
    assert [b["custom_id"] for b in buttons] == [f"vb:cancel:{job_id}"]
    job = await bot.store.jobs.require(job_id)
    reposted = job.reply_target["message_id"]
    assert reposted != acknowledgement and reposted in bot.fake.messages
    edits = bot.fake.sent("PATCH", rf"^/webhooks/\d+/[^/]+/messages/{reposted}$")
    assert edits and "Job #" in bot.fake.messages[reposted]["content"]  # its final words
    [result] = bot.results()
    assert int(result.body["message_reference"]["message_id"]) == reposted


async def test_after_the_token_expired_the_clip_still_goes_to_the_channel(bot: Bot) -> None:
    job_id = await video(bot)
    # (An acknowledgement the bot deferred, on a loaded machine, was an edit made in time.)
    edits = bot.fake.sent("PATCH", r"^/webhooks/")
    bot.clock.offset = 901.0
    await bot.render()
    await bot.until(lambda: bot.delivered(job_id))
    assert bot.followups() == []
    assert bot.fake.sent("PATCH", r"^/webhooks/") == edits  # a dead token is not used
    [message] = bot.results()
    assert message.body["content"].startswith(f"<@{ALICE.id}> a red ball")
    assert message.body["allowed_mentions"]["parse"] == ["users"]
    with mp4_of(message) as container:
        assert container.streams.video[0].frames in (0, 8)


class NoiseBackend(StripesBackend):
    """Random pixels: a clip that compresses badly, to overflow a small upload limit."""

    def generate(self, request: Any, on_step: Any, should_stop: Any) -> Any:
        frames = super().generate(request, on_step, should_stop)
        return np.random.default_rng(1).integers(0, 256, frames.shape, dtype=np.uint8)


async def test_an_over_limit_clip_is_re_encoded_under_the_attachment_limit(bot: Bot) -> None:
    bot.backend = NoiseBackend()
    limit = 40_000
    interaction = await bot.fake.command(
        ALICE, "video", {**SMALL, "frames": 24, "width": 96, "height": 96},
        attachment_size_limit=limit)
    await ack(bot, interaction)
    [job] = await bot.store.jobs.active_jobs()
    await bot.render()
    await bot.until(lambda: bot.delivered(job.id))
    job = await bot.store.jobs.require(job.id)
    assert job.clip is not None and job.clip.size_bytes > limit
    [result] = bot.results()
    assert len(result.files["files[0]"][1]) <= limit
    assert "re-encoded" in result.body["content"]
    with mp4_of(result) as container:
        assert sum(1 for _ in container.decode(video=0)) == 24


async def test_a_non_admin_calling_an_admin_command_is_refused(bot: Bot) -> None:
    await video(bot)
    refused = await ack(bot, await bot.fake.command(BOB, "videoadmin", subcommand="queue"))
    assert refused.body["data"]["content"] == replies.ADMIN_ONLY
    assert refused.body["data"]["flags"] & 64
    listed = await ack(bot, await bot.fake.command(ADMIN, "videoadmin", subcommand="queue"))
    assert f"for discord:{ALICE.id}" in listed.body["data"]["content"]


async def test_429_and_500_on_the_post_are_retried_and_the_clip_posted_once(bot: Bot) -> None:
    bot.fake.fail("POST", rf"^/channels/{CHANNEL_ID}/messages$", 429, retry_after=0.05)
    bot.fake.fail("POST", rf"^/channels/{CHANNEL_ID}/messages$", 500)
    job_id, message_id = await delivered_clip(bot)
    assert len(bot.results()) == 3
    assert len({request.body["nonce"] for request in bot.results()}) == 1
    assert [int(m["id"]) for m in bot.fake.posted_files()] == [message_id]
    assert (await bot.store.jobs.require(job_id)).attempts == 1


async def test_where_the_bot_may_not_post_the_clip_is_the_interactions_follow_up(
        bot: Bot) -> None:
    bot.fake.fail("POST", rf"^/channels/{CHANNEL_ID}/messages$", 403)
    _, message_id = await delivered_clip(bot)
    [followup] = bot.followups()
    assert followup.body["content"].startswith("a red ball")
    assert [int(m["id"]) for m in bot.fake.posted_files()] == [message_id]


async def test_a_post_retried_with_its_nonce_returns_the_message_already_made(
        bot: Bot) -> None:
    # The fake as Discord: the same nonce from the same author makes one message.
    job_id, message_id = await delivered_clip(bot)
    job = await bot.store.jobs.require(job_id)
    channel = bot.adapter._client().get_partial_messageable(CHANNEL_ID)
    again = await channel.send("again", nonce=result_nonce(job))
    assert again.id == message_id
    other = await channel.send("another", nonce="another-nonce")
    assert other.id != message_id


async def test_text_commands_answer_only_the_caller(bot: Bot) -> None:
    job_id = await video(bot)
    for name, options, expected in (("help", {}, "videobot turns text"),
                                    ("queue", {}, f"job #{job_id} (yours)"),
                                    ("status", {"job": job_id}, f"Job #{job_id}: waiting"),
                                    ("quota", {}, "credits left"),
                                    ("history", {}, f"#{job_id} queued"),
                                    ("describe", {"job": job_id},
                                     f"job #{job_id} has no clip to describe (it is queued)"),
                                    ("cancel", {}, f"Job #{job_id} cancelled;")):
        callback = await ack(bot, await bot.fake.command(ALICE, name, options))
        assert expected in callback.body["data"]["content"], name
        assert callback.body["data"]["flags"] & 64


async def test_direct_messages_can_be_turned_off(tmp_path: Path, fake: FakeDiscord,
                                                 store: Store) -> None:
    config = make_config(tmp_path, fake, allow_dms=False)
    assert config.discord is not None
    adapter = DiscordAdapter(core=Core(store=store, config=config), store=store,
                             config=config.discord, work_dir=tmp_path, guild_ready_timeout=0.1)
    await adapter.start()
    try:
        bot = Bot(fake, adapter, store, config, StripesBackend(), AdapterClock())
        callback = await ack(bot, await fake.command(ALICE, "video", SMALL, dm=True))
        assert callback.body["data"]["content"] == replies.DMS_OFF
        [sync] = fake.sent("PUT", r"/commands$")
        assert all(command["contexts"] == [0] for command in sync.body)
    finally:
        await adapter.stop()
    assert await store.jobs.active_jobs() == []


async def test_no_token_reaches_the_log_or_the_database(
        bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("discord.http").warning("sending with Bot %s", TOKEN)
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        logging.getLogger("bot.adapters.discord").exception("failed")
    await delivered_clip(bot)
    tokens = [i.token for i in bot.fake.interactions.values()]
    assert tokens and bot.fake.sent("PATCH", r"^/webhooks/")  # the tokens were used...
    assert TOKEN not in caplog.text
    assert "sending with Bot <token>" in caplog.text
    assert "/webhooks/" in caplog.text and "'token': '<token>'" in caplog.text
    assert not any(token in caplog.text for token in tokens)  # ...and never logged
    async with read_transaction(bot.store.engine) as conn:
        rows = (await conn.execute(select(Job.reply_target))).scalars().all()
    assert rows and not any(token in str(row) for row in rows for token in tokens)


def test_the_redactor_rewrites_message_arguments_and_traceback() -> None:
    redactor = SecretRedactor("s3cret")
    try:
        raise ValueError("s3cret")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s", ("s3cret",),
                                   sys.exc_info())
    assert redactor.filter(record)
    assert record.getMessage() == "token <token>"
    assert record.exc_text is not None and "s3cret" not in record.exc_text


async def test_a_restarted_bot_keeps_the_buttons_and_delivers_without_the_token(
        fake: FakeDiscord, config: Config, store: Store) -> None:
    async with running_bot(fake, config, store) as first:
        job_id = await video(first)
    job = await store.jobs.require(job_id)
    assert "token" not in job.reply_target
    async with running_bot(fake, config, store) as second:
        press = await fake.press(ALICE, f"vb:cancel:{job_id}", job.reply_target["message_id"])
        assert (await ack(second, press)).body["data"]["content"] == (
            f"Job #{job_id} cancelled; 0.12 credits refunded.")
        await second.until(lambda: second.delivered(job_id))
    assert second.followups() == []
    [notice] = second.results()
    assert notice.body["content"] == (
        f"<@{ALICE.id}> Job #{job_id} was cancelled; 0.12 credits refunded.")


async def test_videoadmin_run_takes_the_admin_words_for_role_admins_only(bot: Bot) -> None:
    await video(bot)
    line = {"command": f"ban {ALICE.id} spamming"}
    refused = await ack(bot, await bot.fake.command(BOB, "videoadmin", line, subcommand="run"))
    assert refused.body["data"]["content"] == replies.ADMIN_ONLY
    assert len(await bot.store.jobs.active_jobs()) == 1
    banned = await ack(bot, await bot.fake.command(ADMIN, "videoadmin", line, subcommand="run"))
    assert banned.body["data"]["content"] == (
        f"discord:{ALICE.id} is banned; 1 waiting job cancelled and refunded.")
    assert banned.body["data"]["flags"] & 64
    assert await bot.store.jobs.active_jobs() == []


async def test_videoadmin_typed_commands_pick_users_and_say_what_the_admin_words_say(
    bot: Bot,
) -> None:
    await video(bot)
    options = {"user": ALICE, "reason": "spamming"}
    refused = await ack(bot, await bot.fake.command(BOB, "videoadmin", options,
                                                    subcommand="ban"))
    assert refused.body["data"]["content"] == replies.ADMIN_ONLY
    assert len(await bot.store.jobs.active_jobs()) == 1
    banned = await ack(bot, await bot.fake.command(ADMIN, "videoadmin", options,
                                                   subcommand="ban"))
    assert banned.body["data"]["content"] == (
        f"discord:{ALICE.id} is banned; 1 waiting job cancelled and refunded.")
    assert await bot.store.jobs.active_jobs() == []
    quota = await ack(bot, await bot.fake.command(
        ADMIN, "videoadmin", {"action": "set", "user": ALICE, "credits": 50.0,
                              "window": "7d"}, subcommand="quota"))
    assert quota.body["data"]["content"] == f"discord:{ALICE.id} now has 50 credits per 168 h."
    audit = await ack(bot, await bot.fake.command(ADMIN, "videoadmin", subcommand="audit"))
    assert "spamming" in audit.body["data"]["content"]


# -- the Extend button -------------------------------------------------------------------------

EXTENDABLE = {**SMALL, "preset": "demo"}


async def test_the_extend_button_queues_the_clip_continued_for_its_owner_only(
        bot: Bot) -> None:
    job_id = await video(bot, **EXTENDABLE)
    await render_every_preset(bot.store, bot.config)
    await bot.until(lambda: bot.delivered(job_id))
    message_id = int((await bot.store.jobs.require(job_id)).reply_target["result_message_id"])

    refused = await ack(bot, await bot.fake.press(BOB, f"vb:extend:{job_id}", message_id))
    assert refused.body["data"]["flags"] & 64
    assert refused.body["data"]["content"] == replies.not_your_job(job_id)
    assert await bot.store.jobs.active_jobs() == []

    callback = await ack(bot, await bot.fake.press(ALICE, f"vb:extend:{job_id}", message_id))
    assert not callback.body["data"].get("flags", 0) & 64
    assert replies.extends_line(job_id) in callback.body["data"]["content"]
    [extension] = await bot.store.jobs.active_jobs()
    assert extension.extends == job_id and extension.request.seed == 7
    await render_every_preset(bot.store, bot.config)
    await bot.until(lambda: bot.delivered(extension.id))
    result = bot.results()[-1]
    assert replies.extends_line(job_id) in result.body["content"]
    with mp4_of(result) as container:
        frames = sum(1 for _ in container.decode(container.streams.video[0]))
    assert frames == 8 + 16 - 1


async def test_the_extend_button_works_after_a_restart_and_says_when_the_clip_is_gone(
        fake: FakeDiscord, config: Config, store: Store) -> None:
    async with running_bot(fake, config, store) as first:
        job_id = await video(first, **EXTENDABLE)
        other_id = await video(first, **EXTENDABLE)
        await render_every_preset(store, config)
        await first.until(lambda: first.delivered(job_id))
        await first.until(lambda: first.delivered(other_id))
    messages = {}
    for job in (await store.jobs.require(job_id), await store.jobs.require(other_id)):
        messages[job.id] = int(job.reply_target["result_message_id"])
        if job.id == other_id:
            assert job.clip is not None
            job.clip.video_path.unlink()  # removed by hand, or by retention
    async with running_bot(fake, config, store) as second:
        again = await ack(second, await fake.press(ALICE, f"vb:extend:{job_id}",
                                                   messages[job_id]))
        assert again.body["data"]["content"].startswith(f"Job #{other_id + 1} queued")
        gone = await ack(second, await fake.press(ALICE, f"vb:extend:{other_id}",
                                                  messages[other_id]))
        assert gone.body["data"]["flags"] & 64
        assert gone.body["data"]["content"] == f"Sorry: {replies.clip_gone(other_id)}."
    assert (await store.jobs.require(other_id + 1)).extends == job_id
    assert len(await store.jobs.active_jobs()) == 1


async def test_extend_takes_a_job_and_a_new_prompt(bot: Bot) -> None:
    job_id = await video(bot, **EXTENDABLE)
    await render_every_preset(bot.store, bot.config)
    callback = await ack(bot, await bot.fake.command(
        ALICE, "extend", {"job": job_id, "prompt": "now it falls"}))
    assert not callback.body["data"].get("flags", 0) & 64
    [extension] = await bot.store.jobs.active_jobs()
    assert (extension.extends, extension.request.prompt) == (job_id, "now it falls")
    refused = await ack(bot, await bot.fake.command(BOB, "extend", {"job": job_id}))
    assert refused.body["data"]["flags"] & 64
    assert refused.body["data"]["content"] == f"Sorry: job #{job_id} belongs to someone else."
    # Without a job: the latest clip, whatever the prompt starts with.
    await ack(bot, await bot.fake.command(ALICE, "extend", {"prompt": "3 more bounces"}))
    latest = max(await bot.store.jobs.active_jobs(), key=lambda job: job.id)
    assert (latest.extends, latest.request.prompt) == (job_id, "3 more bounces")
