"""The platform-neutral core, driven with chat text against a real SQLite job store."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any, NoReturn, cast

import pytest
from sqlalchemy import Engine, event, func, select

from bot.core import replies
from bot.core.commands import Core
from bot.core.errors import INTERNAL_ERROR
from storage.db import read_transaction
from storage.models import Job, JobStatus, User
from storage.store import Store
from tests.conftest import FakeClock
from videobot.config import Config, config_from_dict
from videobot.limits import MAX_SEED
from videobot.users import UserRef

ALICE = UserRef("console", "alice")
BOB = UserRef("console", "bob")
COMMANDS = ("/video", "/status", "/cancel", "/queue", "/help")


@pytest.fixture
def core(store: Store, config: Config) -> Core:
    return Core(store=store, config=config)


async def row_counts(store: Store) -> tuple[int, int]:
    """(jobs, users): what a refused command must leave as it was."""
    async with read_transaction(store.engine) as conn:
        jobs = await conn.scalar(select(func.count()).select_from(Job))
        users = await conn.scalar(select(func.count()).select_from(User))
    return jobs or 0, users or 0


async def queue(core: Core, text: str = "/video a red ball", user: UserRef = ALICE) -> int:
    reply = await core.handle(user, text)
    assert reply.job is not None, reply.text
    return reply.job.id


async def test_video_is_acknowledged_with_job_id_position_and_parameters(
    core: Core, store: Store
) -> None:
    reply = await core.handle(ALICE, "/video a red ball --frames 16 --seed 7", {"chat": "c1"})
    assert reply.job is not None
    job_id = reply.job.id
    assert reply.text == (
        f"Job #{job_id} queued — next in line.\n"
        "Prompt: a red ball\n"
        "16 frames, 64x64 @ 8 fps, 4 steps, guidance 7.5, seed 7, preset tiny\n"
        "Cost: 1 credit; 19 credits left."
    )
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.QUEUED
    assert (job.request.prompt, job.request.frames, job.request.seed) == ("a red ball", 16, 7)
    assert job.reply_target == {"chat": "c1"}
    second = await core.handle(BOB, "/video a blue cube")
    assert "position 2 in the queue" in second.text


async def test_all_options_are_read(core: Core, store: Store) -> None:
    job_id = await queue(core, "/video a kite --frames 8 --fps 12 --width 48 --height 32 "
                               "--steps 3 --guidance 5.5 --seed 1 --preset tiny")
    request = (await store.jobs.require(job_id)).request
    assert (request.frames, request.fps, request.width, request.height) == (8, 12, 48, 32)
    assert (request.steps, request.guidance, request.seed, request.preset) == (3, 5.5, 1, "tiny")


# One store for all the cases: each test's store costs a migration, and the machine is small.
BAD_VIDEO_REQUESTS = [
    ("/video", "the prompt is empty"),
    ("/video   ", "the prompt is empty"),
    ("/video --seed 3", "the prompt is empty"),
    ("/video " + "x" * 10_000, "the prompt is 10000 characters long; the limit is 500"),
    ("/video " + "x" * 501, "the prompt is 501 characters long; the limit is 500"),
    ("/video a --negative " + "y" * 600, "the negative prompt is 600 characters long"),
    ("/video a ball --frames 0", "frames must be between 1 and 64, not 0"),
    ("/video a ball --frames 65", "frames must be between 1 and 64, not 65"),
    ("/video a ball --width 7", "width must be between 16 and"),
    ("/video a ball --height -32", "height must be between 16 and"),
    ("/video a ball --width 1024 --height 1024", "the limit for preset tiny is 262144"),
    ("/video a ball --steps 1000", "steps must be between 1 and 50, not 1000"),
    ("/video a ball --fps 0", "fps must be between 1 and 60"),
    ("/video a ball --guidance 99", "guidance must be between 0 and 30"),
    ("/video a ball --guidance nan", "guidance must be a finite number"),
    ("/video a ball --seed -1", "seed must be between 0 and 4294967295"),
    ("/video a ball --seed 99999999999", "seed must be between 0 and 4294967295"),
    ("/video a ball --bogus 1", "unknown option --bogus; the options are --frames, --fps"),
    ("/video a ball --frames ten", "--frames needs a whole number, not 'ten'"),
    ("/video a ball --frames 1.5", "--frames needs a whole number, not '1.5'"),
    ("/video a ball --guidance lots", "--guidance needs a number, not 'lots'"),
    ("/video a ball --seed", "--seed needs a whole number after it"),
    ("/video a ball --preset", "--preset needs a preset name after it"),
    ("/video a ball --preset huge", "there is no preset 'huge'; choose one of: demo, tiny"),
]


async def test_bad_video_requests_are_refused_and_change_nothing(
    core: Core, store: Store
) -> None:
    job_id = await queue(core)
    before = await row_counts(store)
    for text, expected in BAD_VIDEO_REQUESTS:
        reply = await core.handle(ALICE, text)
        assert reply.text.startswith("Sorry: "), (text, reply.text)
        assert expected in reply.text, (text, reply.text)
        assert reply.job is None, text
        assert await row_counts(store) == before, text
    assert [job.id for job in await store.jobs.jobs_of(ALICE)] == [job_id]


async def test_unknown_option_reply_lists_every_option(core: Core) -> None:
    reply = await core.handle(ALICE, "/video a ball --bogus 1")
    for option in ("frames", "fps", "width", "height", "steps", "seed", "guidance",
                   "negative", "preset"):
        assert f"--{option}" in reply.text


async def test_a_prompt_at_the_limit_is_accepted(core: Core, store: Store) -> None:
    job_id = await queue(core, "/video " + "x" * 500)
    assert len((await store.jobs.require(job_id)).request.prompt) == 500


BAD_JOB_IDS = [
    ("/status 999", "Sorry: there is no job #999."),
    ("/cancel 999", "Sorry: there is no job #999."),
    ("/status #999", "Sorry: there is no job #999."),
    ("/status abc", "Sorry: 'abc' is not a job number; write e.g. /status 12."),
    ("/cancel abc", "Sorry: 'abc' is not a job number; write e.g. /cancel 12."),
    ("/status -1", "Sorry: '-1' is not a job number"),
    ("/status 1.0", "Sorry: '1.0' is not a job number"),
    ("/status \u00b2", "Sorry: '\u00b2' is not a job number"),  # a digit int() refuses
    ("/status " + "9" * 40, f"Sorry: '{'9' * 40}' is not a job number"),
]


async def test_bad_job_ids_are_refused_and_change_nothing(core: Core, store: Store) -> None:
    job_id = await queue(core)
    before = await row_counts(store)
    for text, expected in BAD_JOB_IDS:
        reply = await core.handle(ALICE, text)
        assert reply.text.startswith(expected), (text, reply.text)
        assert await row_counts(store) == before, text
    assert (await store.jobs.require(job_id)).status == JobStatus.QUEUED


async def test_another_users_job_cannot_be_cancelled_or_seen(
    core: Core, store: Store
) -> None:
    job_id = await queue(core)
    before = await row_counts(store)
    cancel = await core.handle(BOB, f"/cancel {job_id}")
    assert cancel.text == f"Sorry: job #{job_id} belongs to someone else."
    status = await core.handle(BOB, f"/status {job_id}")
    assert status.text == f"Sorry: job #{job_id} belongs to someone else."
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.QUEUED and not job.cancel_requested
    assert await row_counts(store) == before


async def test_cancel_with_nothing_to_cancel(core: Core, store: Store) -> None:
    reply = await core.handle(ALICE, "/cancel")
    assert reply.text == "Sorry: you have no waiting or rendering job to cancel."
    job_id = await queue(core)
    assert (await core.handle(ALICE, "/cancel")).text == (
        f"Job #{job_id} cancelled; 1 credit refunded.")
    assert (await core.handle(ALICE, "/cancel")).text == (
        "Sorry: you have no waiting or rendering job to cancel."
    )
    again = await core.handle(ALICE, f"/cancel {job_id}")
    assert again.text == f"Sorry: job #{job_id} has already finished (cancelled)."


async def test_status_with_no_jobs(core: Core, store: Store) -> None:
    reply = await core.handle(ALICE, "/status")
    assert reply.text == "Sorry: you have no jobs yet; try /video a red ball bouncing."
    assert await row_counts(store) == (0, 0)


async def test_too_many_queued_jobs_are_refused(
    core: Core, store: Store, config: Config
) -> None:
    limit = config.limits.max_queued_per_user
    for _ in range(limit):
        await queue(core)
    before = await row_counts(store)
    reply = await core.handle(ALICE, "/video one more")
    assert reply.text.startswith(f"Sorry: you already have {limit} jobs waiting or rendering")
    assert f"limit: {limit} per user" in reply.text
    assert await row_counts(store) == before
    assert (await core.handle(BOB, "/video mine")).job is not None  # per user, not global
    await core.handle(ALICE, "/cancel")
    assert (await core.handle(ALICE, "/video one more")).job is not None


async def test_phone_dashes_are_read_as_flags(core: Core, store: Store) -> None:
    for dash in ("\u2014", "\u2013"):  # em and en dash
        job_id = await queue(core, f"/video a cat {dash}frames 8")
        request = (await store.jobs.require(job_id)).request
        assert (request.prompt, request.frames) == ("a cat", 8), dash


async def test_quoted_negative_prompt_and_apostrophes(core: Core, store: Store) -> None:
    job_id = await queue(core, '/video a cat\'s toy --negative "blurry, dark" --seed 2')
    request = (await store.jobs.require(job_id)).request
    assert request.prompt == "a cat's toy"
    assert request.negative_prompt == "blurry, dark"
    curly = await queue(core, "/video a dog \u2014negative \u201cwet, muddy\u201d")
    assert (await store.jobs.require(curly)).request.negative_prompt == "wet, muddy"


async def test_flag_with_equals_sign(core: Core, store: Store) -> None:
    job_id = await queue(core, "/video a ball --frames=8 --seed=3")
    request = (await store.jobs.require(job_id)).request
    assert (request.frames, request.seed) == (8, 3)


async def test_command_name_forms(core: Core, store: Store) -> None:
    for text in ("/VIDEO a ball", "/video@SomeBot a ball", "  /Video a ball  "):
        job_id = await queue(core, text)
        assert (await store.jobs.require(job_id)).request.prompt == "a ball", text


async def test_help_lists_the_commands(core: Core) -> None:
    for text in ("/help", "/start", "/HELP@SomeBot"):
        assert (await core.handle(ALICE, text)).text == replies.HELP, text
    for command in COMMANDS:
        assert command in replies.HELP


async def test_not_a_known_command(core: Core, store: Store) -> None:
    for text, expected in [
        ("/frobnicate", "Unknown command /frobnicate. Try /help."),
        ("a red ball", replies.NOT_A_COMMAND),
        ("video a red ball", replies.NOT_A_COMMAND),
        ("", replies.NOT_A_COMMAND),
        ("/", replies.NOT_A_COMMAND),
    ]:
        assert (await core.handle(ALICE, text)).text == expected, text
    assert await row_counts(store) == (0, 0)


async def test_queue_listing(core: Core, store: Store, clock: FakeClock) -> None:
    assert (await core.handle(ALICE, "/queue")).text == "The queue is empty."
    first = await queue(core, user=ALICE)
    clock.advance(1)
    second = await queue(core, user=BOB)
    clock.advance(1)
    third = await queue(core, user=ALICE)
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None and claimed.id == first
    reply = await core.handle(BOB, "/queue")
    assert reply.text == (
        "1 rendering, 2 waiting.\n"
        f"  rendering: job #{first}\n"
        f"  position 1: job #{second} (yours)\n"
        f"  position 2: job #{third}"
    )


async def test_status_without_id_shows_the_latest_job(
    core: Core, store: Store, clock: FakeClock
) -> None:
    await queue(core, "/video the first")
    clock.advance(1)
    latest = await queue(core, "/video the second --seed 5")
    reply = await core.handle(ALICE, "/status")
    assert reply.job is not None and reply.job.id == latest
    assert reply.text.startswith(f"Job #{latest}: waiting — position 2 in the queue.")
    assert "Prompt: the second" in reply.text and "seed 5" in reply.text
    by_id = await core.handle(ALICE, f"/status #{latest}")
    assert by_id.text == reply.text


async def test_status_of_a_running_job_shows_progress(
    core: Core, store: Store, clock: FakeClock
) -> None:
    job_id = await queue(core, "/video a ball --steps 4")
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None
    clock.advance(2)
    await store.leases.renew_lease(job_id, claimed.attempt, step=2, total=4)
    reply = await core.handle(ALICE, f"/status {job_id}")
    assert reply.text.startswith(f"Job #{job_id}: rendering [#####-----] step 2/4 50%, ETA 2 s")


async def test_cancel_without_id_cancels_the_latest_active_job(
    core: Core, store: Store, clock: FakeClock
) -> None:
    older = await queue(core, "/video the first")
    clock.advance(1)
    latest = await queue(core, "/video the second")
    reply = await core.handle(ALICE, "/cancel")
    assert reply.text == f"Job #{latest} cancelled; 1 credit refunded."
    assert (await store.jobs.require(latest)).status == JobStatus.CANCELLED
    assert (await store.jobs.require(older)).status == JobStatus.QUEUED
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None and claimed.id == older
    running = await core.handle(ALICE, "/cancel")
    assert running.text == f"Job #{older}: stopping the render…"
    job = await store.jobs.require(older)
    assert job.status == JobStatus.RUNNING and job.cancel_requested


async def test_family_rounding_is_noted_in_the_acknowledgement(
    store: Store, tmp_path: Path
) -> None:
    config = config_from_dict({
        "data_dir": str(tmp_path / "data"),
        "default_preset": "w",
        "presets": {"w": {"family": "wan", "frames": 17, "width": 64, "height": 64}},
    })
    core = Core(store=store, config=config)
    reply = await core.handle(ALICE, "/video x --frames 6 --width 70 --seed 1")
    assert reply.job is not None, reply.text
    assert "Note: frames 6 rounded to 5 (4k+1 frames)" in reply.text
    assert "Note: size 70x64 rounded to 64x64 (multiples of 16)" in reply.text
    assert "5 frames, 64x64" in reply.text
    job = await store.jobs.require(reply.job.id)
    assert (job.request.frames, job.request.width) == (5, 64)
    assert len(job.notes) == 2
    exact = await core.handle(ALICE, "/video x --frames 9 --width 80")
    assert exact.job is not None and "Note:" not in exact.text


async def test_a_random_seed_is_chosen_and_shown(core: Core, store: Store) -> None:
    seeds = []
    for _ in range(2):
        reply = await core.handle(ALICE, "/video a ball")
        assert reply.job is not None
        seed = (await store.jobs.require(reply.job.id)).request.seed
        assert 0 <= seed <= MAX_SEED
        assert f"seed {seed}," in reply.text
        seeds.append(seed)
    assert seeds[0] != seeds[1]


class BrokenStore:
    """Stands in for a database that fails in a way nobody planned for: its context and
    every room of it."""

    @property
    def context(self) -> Any:
        return BrokenContext()

    @property
    def engine(self) -> Any:
        return BrokenEngine()

    def __getattr__(self, name: str) -> Any:
        return BrokenRoom()


class BrokenContext:
    """A store context whose clock and engine fail."""

    def clock(self) -> NoReturn:
        raise RuntimeError("secret detail: disk on fire")

    @property
    def engine(self) -> Any:
        return BrokenEngine()

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError("secret detail: disk on fire")


class BrokenRoom:
    """A room of the store whose every method fails."""

    def __getattr__(self, name: str) -> Any:
        async def fail(*_args: Any, **_kwargs: Any) -> NoReturn:
            raise RuntimeError("secret detail: disk on fire")

        return fail


class BrokenEngine:
    """An engine whose every use fails the same way."""

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError("secret detail: disk on fire")


async def test_an_internal_error_is_logged_and_answered_with_one_sentence(
    config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    core = Core(store=cast(Store, BrokenStore()), config=config)
    for text in ("/video a ball", "/status 1", "/status", "/cancel", "/queue"):
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="bot.core.commands"):
            reply = await core.handle(ALICE, text)
        assert reply.text == INTERNAL_ERROR, text
        [record] = caplog.records
        command = text.split()[0]
        assert record.getMessage() == f"command {command} from console:alice failed"
        assert record.exc_info is not None
        assert "secret detail: disk on fire" in caplog.text  # the traceback, for the operator


async def test_rerun_and_cancel_buttons_check_the_owner(core: Core, store: Store) -> None:
    first = await core.handle(ALICE, "/video a red ball --seed 7 --frames 8")
    assert first.job is not None
    stranger = await core.rerun(BOB, first.job.id, new_seed=True)
    assert stranger.text == f"Sorry: job #{first.job.id} belongs to someone else."
    same = await core.rerun(ALICE, first.job.id, new_seed=False)
    assert same.job is not None and same.job.request == first.job.request
    reroll = await core.rerun(BOB, first.job.id, new_seed=True, admin=True)
    assert reroll.job is not None and reroll.job.user.key == BOB.key
    assert reroll.job.request.replace(seed=7) == first.job.request
    refused = await core.cancel_job(BOB, first.job.id)
    assert refused.text == f"Sorry: job #{first.job.id} belongs to someone else."
    assert (await store.jobs.require(first.job.id)).status == "queued"
    done = await core.cancel_job(BOB, first.job.id, admin=True)
    assert done.text == f"Job #{first.job.id} cancelled; 0.5 credits refunded."


async def test_an_adult_preset_only_where_the_chat_allows_it(
    store: Store, config: Config
) -> None:
    adult = dataclasses.replace(config.presets["tiny"], name="adult", nsfw=True)
    config = dataclasses.replace(config, presets={**config.presets, "adult": adult})
    core = Core(store=store, config=config)
    refused = await core.handle(ALICE, "/video a ball --preset adult", {"nsfw_allowed": False})
    assert refused.text == ("Sorry: the preset adult is for age-restricted channels only; "
                            "use it there, or choose another preset.")
    assert await row_counts(store) == (0, 0)
    accepted = await core.handle(ALICE, "/video a ball --preset adult", {"nsfw_allowed": True})
    assert accepted.job is not None and accepted.job.request.preset == "adult"


async def test_a_preset_no_running_worker_takes_is_refused_and_nothing_is_queued(
    core: Core, store: Store, clock: FakeClock
) -> None:
    from storage.workers import WorkerRegistry

    # No worker has registered: the job waits for one.
    assert (await core.handle(ALICE, "/video a red ball --preset demo")).job is not None
    registry = WorkerRegistry(store.engine, clock=clock)
    await registry.register(worker_id="gpu1:1:cuda:0", host="gpu1", pid=1, device="cuda:0",
                            presets=["tiny"], version="1")
    await registry.beat("gpu1:1:cuda:0", status=WorkerRegistry.READY, current_job_id=None)
    fresh = Core(store=store, config=core.config)  # no cached look at the registry
    before = await row_counts(store)
    reply = await fresh.handle(ALICE, "/video a red ball --preset demo")
    assert reply.job is None
    assert reply.text == ("Sorry: no running worker takes the preset demo (they take: tiny); "
                          "pick one of those with --preset, or ask an admin.")
    assert await row_counts(store) == before
    assert (await fresh.handle(ALICE, "/video a red ball --preset tiny")).job is not None
    # A worker silent for three heartbeats no longer counts: jobs wait for a new one.
    clock.advance(3 * core.config.queue.heartbeat_seconds + 1)
    later = Core(store=store, config=core.config)
    assert (await later.handle(ALICE, "/video a red ball --preset demo")).job is not None


async def test_a_burst_of_commands_reads_the_worker_registry_once(
    core: Core, store: Store
) -> None:
    """Commands arriving while the registry is being read wait for that read (a burst used to
    read it once per command, each a transaction of its own, which tripled its CPU)."""
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM workers" in statement:
            reads.append(statement)

    # Every engine: on SQLite the registry is read on the store's synchronous twin.
    event.listen(Engine, "before_cursor_execute", count)
    try:
        replies_ = await asyncio.gather(*(
            core.handle(UserRef("console", f"user{n}"), f"/video a red ball {n}")
            for n in range(20)))
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert all(reply.job is not None for reply in replies_)
    assert len(reads) == 1


async def test_before_any_worker_registers_the_local_workers_presets_decide(
    store: Store, config: Config
) -> None:
    from bot.core.serving import local_worker_presets

    # `videobot run` with the embedded defaults: one local worker, keeping its first preset.
    assert local_worker_presets(config) == {"tiny"}
    core = Core(store=store, config=config, local_presets=local_worker_presets(config))
    refused = await core.handle(ALICE, "/video a red ball --preset demo")
    assert refused.job is None
    assert "no running worker takes the preset demo (they take: tiny)" in refused.text
    assert (await core.handle(ALICE, "/video a red ball --preset tiny")).job is not None
    switching = dataclasses.replace(
        config, worker=dataclasses.replace(config.worker, switch_presets=True))
    assert local_worker_presets(switching) == {"tiny", "demo"}
