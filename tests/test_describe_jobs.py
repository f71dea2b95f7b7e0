"""`/describe` as a job of the job table, on SQLite and PostgreSQL: queued through the
submission path and charged `describe_credits`, claimed only by a worker whose preset has a
captioner (the demo model's), answered from the clip's file or its bytes in the database,
and delivered to the chat as text."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.adapters.console import ConsoleAdapter
from bot.core import replies
from bot.core.commands import Core
from bot.delivery import DeliveryLoop
from generator.backends.loader import ResidentBackend
from generator.describing import DESCRIBE_FAILED
from generator.worker import Worker
from storage.models import Clip, JobKind, JobStatus
from storage.store import Store
from tests.backends import StripesBackend, stand_in_worker
from videobot.config import Config, WorkerConfig

pytestmark = pytest.mark.timeout(120)

DEMO_VIDEO = "/video a red ball moving to the left --seed 3 --preset demo"


def demo_worker(store: Store, config: Config, name: str = "demo-worker") -> Worker:
    """A worker of the demo preset with the real demo model and its captioner."""
    served = replace(config, worker=replace(config.worker, presets=("demo",), warm_up=False))
    return Worker(store=store, config=served, worker_id=name,
                  backends=ResidentBackend(device="cpu", models_dir=config.data_dir / "models"),
                  clips_dir=config.data_dir / "clips")


class Chat:
    """The console chat of one user, with what it printed."""

    def __init__(self, store: Store, config: Config) -> None:
        self.lines: list[str] = []
        self.core = Core(store=store, config=config)
        self.adapter = ConsoleAdapter(core=self.core, store=store, user_name="alice",
                                      write=self.lines.append)
        self.delivery = DeliveryLoop(store=store, adapters={"console": self.adapter},
                                     clips_dir=config.data_dir / "clips")

    async def say(self, line: str) -> str:
        reply = await self.core.handle(self.adapter.user, line, {"chat": "console"})
        return reply.text


async def rendered_clip(store: Store, config: Config, chat: Chat) -> int:
    """Job #1: a clip of the demo model, rendered by a demo worker."""
    assert (await chat.say(DEMO_VIDEO)).startswith("Job #1 queued")
    assert await demo_worker(store, config).run(burst=True) == 1
    clip = await store.jobs.require(1)
    assert clip.status == JobStatus.SUCCEEDED and clip.clip is not None
    return clip.id


async def test_a_describe_job_is_queued_charged_claimed_by_a_captioner_and_delivered(
        store: Store, config: Config) -> None:
    chat = Chat(store, config)
    clip_id = await rendered_clip(store, config, chat)

    answer = await chat.say(f"/describe {clip_id}")
    assert answer == ("Job #2 queued — next in line: describing job #1.\n"
                      "Cost: 0.1 credits; 18.9 credits left.")
    job = await store.jobs.require(2)
    assert (job.kind, job.source_job_id, job.status, job.cost) == (
        JobKind.DESCRIBE, clip_id, JobStatus.QUEUED, pytest.approx(0.1))
    assert job.request.preset == "demo"

    # A worker whose presets have no captioner (the tiny diffusers one) leaves it alone.
    tiny_only = replace(config, worker=replace(config.worker, presets=("tiny",)))
    assert await stand_in_worker(store, tiny_only, StripesBackend()).run(burst=True) == 0
    assert await store.leases.claim_next_job("any-video-worker") is None
    assert (await store.jobs.require(2)).status == JobStatus.QUEUED

    assert await demo_worker(store, config, "captioner").run(burst=True) == 1
    job = await store.jobs.require(2)
    assert job.status == JobStatus.SUCCEEDED and job.worker_id == "captioner"
    assert job.result_text is not None and job.clip is None
    assert "red" in job.result_text and "left" in job.result_text

    await chat.delivery.tick()
    assert f"Job #1 looks like: {job.result_text}." in chat.lines
    assert (await store.jobs.require(2)).delivered_at is not None
    quota = await store.submissions.quota(chat.adapter.user)
    assert quota.used == pytest.approx(1.1)
    assert await chat.say("/describe 2") == f"Sorry: {replies.describes_a_description(2)}."


async def test_the_clip_is_read_from_the_database_when_it_travels_there(
        store: Store, config: Config) -> None:
    # As a worker on another host reads it: no file, only the bytes in the clips table.
    in_database = replace(config, storage=replace(config.storage, clips="database"))
    chat = Chat(store, in_database)
    clip_id = await rendered_clip(store, in_database, chat)
    clip = (await store.jobs.require(clip_id)).clip
    assert clip is not None and clip.in_database and not os.path.exists(clip.video_path)
    await chat.say("/describe")  # the latest clip by default
    assert await demo_worker(store, in_database).run(burst=True) == 1
    job = await store.jobs.require(2)
    assert job.status == JobStatus.SUCCEEDED and "red" in (job.result_text or "")


async def test_a_clip_gone_fails_the_describe_job_with_the_reason_and_refunds_it(
        store: Store, config: Config) -> None:
    chat = Chat(store, config)
    clip_id = await rendered_clip(store, config, chat)
    await chat.say(f"/describe {clip_id}")
    clip = (await store.jobs.require(clip_id)).clip
    assert clip is not None
    if clip.in_database:
        async with store.engine.begin() as conn:  # as retention drops a delivered clip's data
            await conn.execute(update(Clip).values(video_data=None, poster_data=None))
    else:
        Path(clip.video_path).unlink()
    assert await demo_worker(store, config).run(burst=True) == 1
    job = await store.jobs.require(2)
    assert job.status == JobStatus.FAILED and job.refunded
    assert job.error == "job #1's clip is no longer stored" != DESCRIBE_FAILED
    await chat.delivery.tick()
    assert "Job #2 failed: job #1's clip is no longer stored." in chat.lines


async def test_describe_refuses_at_once_when_no_preset_can_caption(
        store: Store, config: Config) -> None:
    tiny_only = replace(config, presets={"tiny": config.presets["tiny"]},
                        worker=WorkerConfig(presets=("tiny",)))
    chat = Chat(store, tiny_only)
    assert (await chat.say("/video a red ball")).startswith("Job #1 queued")
    assert await stand_in_worker(store, tiny_only, StripesBackend()).run(burst=True) == 1
    answer = await chat.say("/describe 1")
    assert answer == f"Sorry: {replies.NO_DESCRIBER}."
    assert [job.id for job in await store.jobs.jobs_of(chat.adapter.user)] == [1]


async def test_describe_refuses_a_job_without_a_clip(
        store: Store, config: Config) -> None:
    chat = Chat(store, config)
    await chat.say("/video a red ball --preset demo")
    assert await chat.say("/describe 1") == "Sorry: job #1 has no clip to describe (it is queued)."
    assert [job.id for job in await store.jobs.jobs_of(chat.adapter.user)] == [1]
